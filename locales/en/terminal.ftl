# The terminal chat (try jiefen without Telegram).

terminal-banner =
    —— jiefen · terminal chat ——
    You are a resident chatting with the mediation bot.
    Send /start to begin. Buttons are numbered: type a number to press one.
    /location LAT LON stands in for "share location", /contact PHONE for "share phone number".
    /as mediator switches to the mediator of your latest case, /as resident switches back, /mediators lists mediators, /terminal shows help, /quit leaves.
terminal-help =
    Type text to send a message; type a button's number to press it.
    /location 38.60 100.80 — share a location
    /contact 13812345678 — share a phone number
    /photo caption, /document name, /voice — send a photo, file or voice note
    /as mediator [name or committee] — become a mediator
    /as resident — become the resident again
    /mediators — list the demo mediators
    /quit — leave
terminal-resident = Resident
terminal-now = —— Now: { $who } ——
terminal-news = ({ $who } has { $count } new messages)
terminal-edited = (the previous message was updated)
terminal-invalid = That command was not understood. For example: { $hint }
terminal-no-such-button = There is no such button; type 1 to { $count }.
terminal-use-location = Type /location LAT LON, for example /location 38.60 100.80
terminal-use-contact = Type /contact PHONE, for example /contact 13812345678
terminal-no-mediator = No such mediator. Type /mediators to see them all.
terminal-mediator-line = { $name } ({ $committee })
