# bot: command menu descriptions and alerts for the admin chat.

bot-command-start = Start / report a dispute
bot-command-mycases = My cases
bot-command-language = Change language
bot-command-help = Help
bot-command-cancel = Cancel what you are doing

bot-admin-mediator-unreachable = ⚠️ Mediator { $name } (id { $id }, { $committee }) has blocked the bot and no longer receives cases or messages. Please phone them or reassign their cases.
