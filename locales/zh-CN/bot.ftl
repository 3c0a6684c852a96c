# bot：菜单里的命令说明，以及给管理员的提醒。命令说明要短，一眼能看懂。

bot-command-start = 开始 / 反映纠纷
bot-command-mycases = 查看我的案件
bot-command-language = 换语言
bot-command-help = 帮助
bot-command-cancel = 取消当前操作

# 调解员把机器人屏蔽了，发给管理员群。
bot-admin-mediator-unreachable = ⚠️ 调解员 { $name }（编号 { $id }，{ $committee }）已屏蔽机器人，收不到新案件和消息了。请电话联系，或把案件改派给别人。
