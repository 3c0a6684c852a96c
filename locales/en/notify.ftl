# Notifications to the admin chat and to mediators.

admin-alert-unrouted = ⚠️ Case { $number } ({ $category }, { $region }) could not be routed to any committee. Please assign it by hand.
admin-alert-at-risk = 🚨 Case { $number } ({ $category }, { $region }): someone may be at risk of harm. Assigned to: { $committee }. Please keep an eye on it.
admin-no-committee = not assigned yet
mediator-relay-info = The resident of case { $number } added information:
    { $text }
mediator-relay-attachment = The resident of case { $number } added { $kind }. { $caption }
mediator-case-withdrawn = Case { $number } was withdrawn by the resident; no further action is needed.
