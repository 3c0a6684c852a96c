# Notifications to the admin chat and to mediators.

admin-alert-unrouted = ⚠️ Case { $number } ({ $category }, { $region }) could not be routed to any committee. Please assign it by hand.
admin-alert-at-risk = 🚨 Case { $number } ({ $category }, { $region }): someone may be at risk of harm. Assigned to: { $committee }. Please keep an eye on it.
admin-no-committee = not assigned yet
mediator-relay-info = The resident of case { $number } added information:
    { $text }
mediator-relay-attachment = The resident of case { $number } added { $kind }. { $caption }
mediator-case-withdrawn = Case { $number } was withdrawn by the resident; no further action is needed.

## Progress notices to residents

resident-accepted = Your case { $number } was accepted by { $mediator } of { $committee }. The mediator will contact you soon.
resident-reassigned =
    Your case { $number } is now handled by { $committee }.
    Address: { $address }
    Phone: { $phone }
    A mediator will contact you by { $deadline }.
resident-escalated =
    Your case { $number } was passed up to { $committee }, which will continue the mediation.
    Address: { $address }
    Phone: { $phone }
    A mediator will contact you by { $deadline }.
resident-scheduled =
    A mediation meeting is set for case { $number }:
    Time: { $time }
    Place: { $place }
    Please come on time. If something changes, open "Progress" and press "Add information" to tell the mediator.
resident-reminder = ⏰ Reminder: tomorrow at { $time } is the mediation meeting for your case { $number }, at { $place }.
resident-message =
    📩 A message from the mediator about case { $number }:
    { $text }
    
    To answer, press "Reply to the mediator".
btn-reply-mediator = Reply to the mediator
resident-resolved =
    Case { $number } was resolved by agreement!
    The agreement: { $agreement }
    { $judicial }
    
    Please rate the mediation service (1 to 5, 5 is best):
resident-judicial-yes = The mediator will help you apply to the court for judicial confirmation; a confirmed agreement can be enforced.
resident-judicial-no = If you need it later, you and the other party can apply to the court for judicial confirmation within 30 days.
resident-rated = Thank you for your rating!
resident-already-rated = You have already rated this case, thank you.
resident-not-now = This case does not need this answer now.
resident-failed =
    We are sorry: mediation of case { $number } did not succeed, and the case is closed.
    { $guidance }
    { $legal_aid }
guidance-labor-arbitration = Labour disputes can go to the county labour dispute arbitration committee (usually within one year).
guidance-land-arbitration = Land-contract disputes can go to the county rural land contract arbitration committee, or to the people's court.
guidance-court = You can file a suit at the local people's court; the court may first offer pre-trial mediation.
guidance-legal-aid = For legal help, call the legal aid hotline <b>12348</b>.
resident-closed =
    Your case { $number } is closed.
    Note: { $reason }
    If you still need help, you can file again or call the legal aid hotline 12348.
resident-followup = It is { $days } days since the agreement in case { $number }. Has it been carried out?
btn-fulfil-full = Yes, fully
btn-fulfil-partial = Partly
btn-fulfil-none = No
resident-fulfilment-full = Thank you for telling us! Case { $number } is closed.
resident-fulfilment-not =
    Thank you for telling us. Case { $number } is closed.
    If the agreement is not carried out: a judicially confirmed agreement can be enforced by the court; you can also sue. For legal help call <b>12348</b>.
resident-already-answered = You have already answered, thank you.

## Admin chat: deadlines and digest

admin-alert-accept-missed = ⏰ Case { $number } was not accepted in time at { $committee }; it went to { $to }.
admin-alert-accept-missed-stuck = ⏰ Case { $number } was not accepted in time at { $committee }, and no other committee can take it. Please assign it by hand.
admin-alert-declined-stuck = Case { $number } was declined by every mediator of { $committee }, and no other committee can take it. Please assign it by hand.
admin-alert-resolve-overdue = ⏰ Case { $number } ({ $committee }) is past its resolve deadline { $deadline }; the mediator was reminded.
admin-alert-no-higher = Mediation of case { $number } ({ $committee }) failed and there is no higher level to pass it to. Please handle it by hand.
admin-digest-header =
    <b>Daily digest { $date }</b>
    Yesterday: { $new } new, { $resolved } resolved; overdue now: { $overdue }.
admin-digest-line = { $region }: new { $new } · resolved { $resolved } · overdue { $overdue }
