# Routing explanations.

route-via-rule = Rule { $rule_id } "{ $rule }" sent it to { $committee }, { $km } km away.
route-via-nearest-in-county = No rule could place it; sent to the nearest committee in the county, { $committee }, { $km } km away.
route-via-county-centre = No committee in the county could take it; sent to the nearest county centre, { $committee }, { $km } km away.
route-via-escalation = Escalated to the next level ({ $level }): { $committee }, { $km } km away.
route-unrouted = No committee can take it now; it waits in the unrouted queue and admins were alerted.
route-skipped-rule-committee = Skipped { $committee } of rule "{ $rule }": { $reason }
route-skipped-rule = Rule "{ $rule }" could not place it: { $reason }
route-skipped-committee = Skipped { $committee }: { $reason }
route-skip-inactive = inactive
route-skip-full = no free capacity
route-skip-declined = declined this case before
route-skip-no-candidate = no committee fits
route-skipped-more = …and { $count } more passed over for the same reasons.
