# Resident conversation. Short, plain and polite sentences.

## Welcome and privacy

welcome-consent =
    Hello! This is the people's mediation service. It passes your dispute to a mediation committee near you.
    
    <b>About your information</b>: what you write, your phone number and your location are used only to mediate your dispute, and only the mediators handling it see them. You can withdraw your case at any time.
    
    Please agree to begin. You can also choose a language first.
consent-thanks = Thank you. Let us begin. You can send /cancel at any time.
consent-declined = All right, we respect your choice and kept none of your information. Send /start whenever you want to use the service.
declined-reminder = You did not agree to the privacy notice, so we kept no information. Send /start to begin.

## Menu

menu = What would you like to do?
menu-hint = Hello! Please use the buttons below. To report a dispute, press "Report a dispute".
cancelled = Cancelled. Nothing was submitted. Press "Report a dispute" when you are ready.
nothing-to-cancel = There is nothing to cancel.
resume-offer = You have an unfinished dispute ({ $category }). Would you like to continue it?
lang-choose = Please choose a language:
lang-set = All right, English it is.
keyboard-closed = OK.

## Questions

ask-category = Step 1: What kind of dispute is it? Please press a button.
ask-description =
    Step 2: Please tell us what happened.
    Write up to { $max } characters.
    You can also send photos, documents or voice notes, up to { $files }.
ask-other-party = Step 3: Who is the other party? For example a name, a company, or how you know them (up to { $max } characters). If you are not sure, press "Not sure, skip".
ask-parties = Step 4: How many people are involved in total?
ask-location = Step 5: Where did it happen? If you are there now, press "Send my location" below.
ask-location-other = If you are not there, you can choose the place from a list or type the address.
ask-county = Please choose the county (district):
ask-township = Please choose the township:
ask-village = Please choose the village (community):
ask-address = Please type the address, for example "Group 3, X village" (up to { $max } characters).
address-noted = Address: { $address }
page-of = (page { $page } of { $pages })
ask-phone = Step 6: Please leave a phone number so the mediator can call you. Pressing "Send my phone number" below is easiest; you can also type it.
ask-phone-other = If you prefer not to leave a number, press "No phone number".
ask-at-risk = Step 7: Is anyone at risk of being harmed?
attachment-received = Received (file { $count }, at most { $max }). You can send more, and please also tell us in words what happened. If you only send photos or voice notes, press "Next".

## Review

summary =
    <b>Please check what you entered:</b>
    Kind: { $category }
    What happened: { $description }
    Attachments: { $files }
    Other party: { $other }
    People involved: { $parties }
    Place: { $place }
    Phone: { $phone }
    Anyone at risk of harm: { $risk }
    
    If everything is right, press "Submit". To change something, press its button.
value-none = (not given)
value-unknown = Not sure
value-not-yet = no kind chosen yet
value-no-phone = No phone number
value-yes = Yes
value-no = No
value-shared-location = (location sent)

## Result

filed-ok =
    Submitted. Thank you!
    Case number: <b>{ $number }</b> (please note it down and give it when you call)
    Mediation committee: { $committee }
    Address: { $address }
    Phone: { $phone }
    A mediator will contact you by { $deadline }.
filed-unrouted =
    Submitted. Thank you!
    Case number: <b>{ $number }</b> (please note it down)
    No mediation committee could take it yet. Our staff will assign it soon and let you know.
filed-at-risk = <b>If anyone is in immediate danger, call 110 now.</b>

## My cases

mycases-header = <b>Your cases:</b>
mycases-line = { $number } · { $category } · { $status } · { $date }
mycases-empty = You have not reported any dispute yet.
timeline-header = <b>Case { $number }</b>
    Kind: { $category }
    Status: { $status }
timeline-committee = Committee: { $committee }, { $address }, phone { $phone }
timeline-line = { $time }  { $what }
event-filed = Dispute reported
event-assigned = Assigned to { $committee }
event-unrouted = Waiting for staff to assign it
event-accepted = A mediator accepted the case
event-scheduled = A mediation meeting was arranged
event-resolved = Resolved
event-failed = Mediation did not succeed
event-escalated = Passed on to { $committee }
event-reassigned = Now handled by { $committee }
event-closed = Closed
event-withdrawn = You withdrew the case
event-info-added = You added information
event-status = Status changed to: { $status }
case-not-open = Case { $number } is now "{ $status }"; you can no longer add to it or withdraw it.
ask-add-info = Please send what you want to add to case { $number }: text (up to { $max } characters), a photo, a document or a voice note.
info-added = Added to case { $number }.
confirm-withdraw = Do you really want to withdraw case { $number }? Mediation will stop.
withdrawn-ok = Case { $number } is withdrawn. You are welcome to come back any time.
withdraw-kept = All right, the case was not withdrawn.

## Help

help =
    <b>How to use this service</b>
    /start start, or back to the menu
    /mycases see your cases
    /language change the language
    /cancel cancel what you are filling in
    
    For free legal advice, call the legal aid hotline <b>12348</b>.
    To reach your mediation committee, see the phone number on your case in /mycases.
    In an emergency, call 110.
help-committee-line = Case { $number }: { $committee }, phone { $phone }, address { $address }

## Buttons

btn-agree = I agree
btn-decline = I do not agree
btn-back = « Back
btn-cancel = Cancel
btn-next = Next »
btn-skip-unknown = Not sure, skip
btn-skip-phone = No phone number
btn-share-location = 📍 Send my location
btn-share-phone = 📱 Send my phone number
btn-pick-region = Choose from a list
btn-type-address = Type the address
btn-prev-page = « Previous
btn-next-page = More »
btn-whole-township = Not sure which village
btn-risk-yes = Yes
btn-risk-no = No
btn-edit-category = Change kind
btn-edit-description = Change story
btn-edit-other = Change other party
btn-edit-parties = Change number
btn-edit-place = Change place
btn-edit-phone = Change phone
btn-edit-risk = Change risk
btn-submit = ✅ Submit
btn-resume = Continue
btn-start-over = Start again
btn-new-case = Report a dispute
btn-my-cases = My cases
btn-help = Help
btn-timeline = See progress
btn-timeline-of = See { $number }
btn-add-info = Add information
btn-withdraw = Withdraw case
btn-withdraw-confirm = Yes, withdraw
btn-withdraw-keep = No, keep it

## Attachment kinds

attachment-photo = a photo
attachment-document = a document
attachment-voice = a voice note
attachment-video = a video

## When input is not right

err-use-buttons = Please answer with the buttons of the message.
err-text-expected = Please answer this step with text.
err-description-type = Please send text, a photo, a document or a voice note for this step.
err-empty = That was empty. Please write it again.
err-too-long = That is too long: at most { $max } characters, and yours has { $len }. Please shorten it and send again.
err-too-many-files = You can send at most { $max } attachments. Please go on in words, or press "Next".
err-parties = Please press a button or type a number, for example 3.
err-location-type = Please press "Send my location", choose from the list, or type the address.
err-location-outside = That place is outside the area we serve. We currently serve only: { $area }. Please choose the place from the list.
err-phone-type = Please press "Send my phone number", type a mobile number, or press "No phone number".
err-phone-invalid = That number does not look right. Please type an 11-digit mobile number, for example 13812345678.
err-phone-not-own = Please send your own phone number (press "Send my phone number").
err-edited = Changes to a sent message do not reach us. Please send it again.
err-stale = This step is finished.
err-bad-button = This button does not work any more.
err-group = Hello! To protect your privacy, please write to me in a private chat, not in a group.
err-flood = You are sending messages too fast. Please wait a moment.
err-not-your-case = This case could not be found.
err-case-closed = This case is finished and can no longer be changed.
err-missing = Something is still missing; please fill it in first.
err-unknown-command = There is no such command. Send /help to see what you can do.
