# 终端聊天（不用 Telegram 也能试用）。

terminal-banner =
    —— 解纷 · 终端试用 ——
    您现在是居民，在和调解服务机器人聊天。
    发 /start 开始。按钮前有编号，输入编号就是点按钮。
    /location 纬度 经度 代替“发送位置”，/contact 手机号 代替“发送手机号”。
    /as mediator 切换到刚才案件的调解员，/as resident 切回居民，/mediators 列出调解员，/terminal 看帮助，/quit 退出。
terminal-help =
    输入文字就是发消息；输入按钮编号就是点按钮。
    /location 38.60 100.80 —— 发送位置
    /contact 13812345678 —— 发送手机号
    /photo 说明、/document 文件名、/voice —— 发送照片、文件、语音
    /as mediator [姓名或调委会] —— 切换到调解员
    /as resident —— 切回居民
    /mediators —— 列出演示调解员
    /quit —— 退出
terminal-resident = 居民
terminal-now = —— 现在是：{ $who } ——
terminal-news = （{ $who }有 { $count } 条新消息）
terminal-edited = （上一条消息已更新）
terminal-invalid = 没看懂这条命令。例如：{ $hint }
terminal-no-such-button = 没有这个编号，请输入 1 到 { $count }。
terminal-use-location = 请输入 /location 纬度 经度，例如 /location 38.60 100.80
terminal-use-contact = 请输入 /contact 手机号，例如 /contact 13812345678
terminal-no-mediator = 没有找到这位调解员。输入 /mediators 看全部。
terminal-mediator-line = { $name }（{ $committee }）
