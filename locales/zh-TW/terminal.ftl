# 終端聊天（不用 Telegram 也能試用）。

terminal-banner =
    —— 解紛 · 終端試用 ——
    您現在是居民，在和調解服務機器人聊天。
    發 /start 開始。按鈕前有編號，輸入編號就是點按鈕。
    /location 緯度 經度 代替「傳送位置」，/contact 手機號 代替「傳送手機號」。
    /as mediator 切換到剛才案件的調解員，/as resident 切回居民，/mediators 列出調解員，/terminal 看說明，/quit 離開。
terminal-help =
    輸入文字就是發訊息；輸入按鈕編號就是點按鈕。
    /location 38.60 100.80 —— 傳送位置
    /contact 13812345678 —— 傳送手機號
    /photo 說明、/document 檔名、/voice —— 傳送照片、檔案、語音
    /as mediator [姓名或調委會] —— 切換到調解員
    /as resident —— 切回居民
    /mediators —— 列出示範調解員
    /quit —— 離開
terminal-resident = 居民
terminal-now = —— 現在是：{ $who } ——
terminal-news = （{ $who }有 { $count } 則新訊息）
terminal-edited = （上一則訊息已更新）
terminal-invalid = 沒看懂這條指令。例如：{ $hint }
terminal-no-such-button = 沒有這個編號，請輸入 1 到 { $count }。
terminal-use-location = 請輸入 /location 緯度 經度，例如 /location 38.60 100.80
terminal-use-contact = 請輸入 /contact 手機號，例如 /contact 13812345678
terminal-no-mediator = 沒有找到這位調解員。輸入 /mediators 看全部。
terminal-mediator-line = { $name }（{ $committee }）
