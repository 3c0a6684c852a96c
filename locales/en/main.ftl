# Common strings.

case-number-line = Case number: { $number }

category-family = Marriage and family
category-neighbor = Neighbours
category-housing = Housing and homestead land
category-land = Farmland contracts and transfers
category-labor = Labour disputes and unpaid wages
category-property-mgmt = Property management
category-traffic = Traffic accidents
category-medical = Medical disputes
category-consumer = Consumer disputes
category-debt = Loans and debts
category-expropriation = Land requisition and demolition
category-environment = Pollution
category-other = Other

status-submitted = Submitted
status-unrouted = Waiting to be assigned
status-assigned = Assigned, waiting to be accepted
status-accepted = Accepted
status-scheduled = Meeting scheduled
status-resolved = Resolved
status-failed = Mediation failed
status-closed = Closed
status-withdrawn = Withdrawn

kind-village = Village (community) committee
kind-township = Township (street) committee
kind-county = County mediation centre
kind-industry = Industry committee
kind-court = Court pre-litigation mediation
