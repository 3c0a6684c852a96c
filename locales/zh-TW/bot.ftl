# bot：選單裡的命令說明，以及給管理員的提醒。

bot-command-start = 開始 / 反映糾紛
bot-command-mycases = 查看我的案件
bot-command-language = 換語言
bot-command-help = 說明
bot-command-cancel = 取消目前操作

bot-admin-mediator-unreachable = ⚠️ 調解員 { $name }（編號 { $id }，{ $committee }）已封鎖機器人，收不到新案件和訊息了。請電話聯繫，或把案件改派給別人。
