# The mediator's dialogue. Readers are mediators of village, township and specialised
# committees: say what to do and by when.

## Linking the account

med-linked =
    Hello, { $name }! Your account is now linked as a mediator of <b>{ $committee }</b>.
    New assignments will arrive here. Send /mycases to see your cases, /help for instructions.
med-already-linked = Your account is already linked as a mediator of { $committee }. Send /mycases to see your cases.
med-invite-used = This invite code has already been used. Each code works once; please ask your administrator for a new one.
med-invite-expired = This invite code has expired. Please ask your administrator for a new one.
med-invite-unknown = This invite code is not valid. Check that the link is complete, or ask your administrator for a new one.
med-invite-throttled = Too many wrong invite codes. Please try again in an hour, or contact your administrator.
med-inactive = Your mediator account is deactivated. Please contact your administrator.
med-help =
    <b>How to use this as a mediator</b>
    /mycases cases waiting for acceptance and cases you are handling
    /cancel drop what you are typing
    New assignments arrive here: press Accept or Decline. After accepting you can schedule a meeting, add notes, message the resident and record the outcome.
med-menu = Send /mycases to see your cases.

## New assignment

med-assignment =
    <b>New case { $number }</b> ({ $committee })
    Category: { $category }
    What happened: { $description }
    Attachments: { $files }
    Place: { $place }
    People involved: { $parties }
    Anyone at risk of harm: { $risk }
    Resident's phone: { $phone }
    Why it came to you: { $explanation }
    Please accept or decline by { $deadline }.
med-value-risk-yes = <b>Yes, please act quickly</b>
med-value-risk-no = No
med-value-no-phone = not given; use "Message the resident"
med-value-none = (no text)
btn-med-accept = ✅ Accept
btn-med-decline = Decline
med-accepted-ok = You accepted case { $number }. Please resolve it by { $deadline }.
med-taken-notice = Case { $number } was accepted by { $mediator }; no action is needed from you.

## Case card

med-case-card =
    <b>Case { $number }</b>
    Category: { $category }
    Status: { $status }
    Resident's phone: { $phone }
    Resolve by: { $deadline }
med-case-meeting = Meeting: { $time }, { $place }
btn-med-schedule = 📅 Schedule a meeting
btn-med-note = 📝 Add a note
btn-med-message = 💬 Message the resident
btn-med-resolved = ✅ Resolved
btn-med-failed = ❌ Failed
btn-med-view = Open { $number }

## Declining

med-decline-ask = Why do you decline case { $number }? Press a button or type the reason.
btn-med-decline-busy = Not enough staff
btn-med-decline-scope = Outside our committee's remit
btn-med-decline-conflict = Conflict of interest
med-declined-ok = You declined case { $number }.
med-declined-moved = You declined case { $number }. Every mediator of your committee declined it, so it went to { $committee }.
med-declined-unrouted = You declined case { $number }. Every mediator of your committee declined it and no other committee can take it now; the administrators were told.

## Scheduling

med-schedule-ask = When is the meeting for case { $number }? Press a day, or type date and time like { $example }.
med-schedule-ask-time = Date: { $date }. Type the time, like 14:30, or press a button.
med-schedule-ask-place = Time: { $time }. Type the place (at most { $max } characters), or press "At our committee".
btn-med-place-office = At our committee
med-scheduled-ok = Scheduled: case { $number }, { $time }, { $place }. The resident was told; you both get a reminder the day before.
med-err-when = That time is not clear. Please write it like { $example }, or press a button.
med-err-past = That time has passed. Please choose a later time.
med-err-too-far = That is too far ahead. Please schedule within { $days } days.

## Notes and messages

med-note-ask = Type a note for case { $number } (only mediators and administrators see it; at most { $max } characters).
med-note-ok = Note added to case { $number }.
med-message-ask = Type your message to the resident of case { $number } (at most { $max } characters). We pass it on without your phone number.
med-message-sent = Passed on to the resident of case { $number }. Their reply will arrive here.
med-message-unreachable = The resident cannot be reached right now; your message was kept with case { $number }.

## Outcome

med-resolve-ask = Briefly describe the agreement reached in case { $number } (at most { $max } characters).
med-resolve-ask-judicial = Do the parties want judicial confirmation of the agreement?
btn-med-judicial-yes = Yes, judicial confirmation
btn-med-judicial-no = No
med-resolved-ok = Case { $number } is recorded as resolved. In { $days } days the resident will be asked whether the agreement was carried out.
med-fail-ask-next = Mediation of case { $number } failed. What next?
btn-med-fail-escalate = Escalate one level
btn-med-fail-arbitration = Refer to arbitration
btn-med-fail-litigation = Refer to the court
med-fail-ask-reason = Briefly give the reason it failed (at most { $max } characters).
med-failed-escalated = Case { $number } was escalated to { $committee }.
med-failed-no-higher = No committee above yours can take case { $number }. It is recorded as failed and the administrators were told.
med-failed-referred = Case { $number } is closed; the resident was told what they can do next.

## My cases

med-mycases-header = <b>Your cases:</b>
med-mycases-line = { $number } · { $category } · { $status } · due { $deadline }
med-mycases-overdue = ⚠️ overdue
med-mycases-empty = No cases are waiting for you or in progress.

## Reminders

med-reminder-meeting = ⏰ Reminder: tomorrow at { $time } meeting for case { $number }, at { $place }.
med-reminder-overdue = ⚠️ Case { $number } is past its resolve deadline ({ $deadline }). Please resolve it or record the outcome.
med-case-moved = Case { $number } was not accepted in time and went to { $committee }.

## Errors

med-err-not-yours = This case is not with your committee, or it has moved on.
med-err-taken = This case was already accepted by another mediator.
med-err-not-mine = Another mediator is handling this case.
med-err-state = Case { $number } is now "{ $status }"; this step is not possible.
med-explain-admin = reassigned by an administrator: { $reason }
med-case-reassigned = Case { $number } was moved by an administrator to { $committee }; no further action is needed from you.
med-case-closed = Case { $number } was closed by an administrator: { $reason }
