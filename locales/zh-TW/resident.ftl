# 居民對話。讀者多是年紀偏大的居民：句子短，口氣客氣，用詞平實。

## 歡迎與隱私

welcome-consent =
    您好！這裡是民間糾紛調解服務，可以幫您把糾紛交給附近的人民調解委員會。
    
    <b>個人資料說明</b>：您填寫的內容、電話和位置，只用於調解您的糾紛，只給負責的調解員看。您可以隨時撤回案件。
    
    同意後就可以開始。也可以先選語言。
consent-thanks = 謝謝您的信任。我們開始吧，隨時可以發 /cancel 取消。
consent-declined = 好的，我們尊重您的決定，沒有保存您的任何資料。想用的時候，請發 /start。
declined-reminder = 您之前沒有同意個人資料說明，所以我們沒有保存資料。想開始的話，請發 /start。

## 選單

menu = 請問您要辦什麼？
menu-hint = 您好！請點下面的按鈕。想反映糾紛，請點「我要反映糾紛」。
cancelled = 已取消，剛才填的內容沒有提交。需要時請再點「我要反映糾紛」。
nothing-to-cancel = 現在沒有要取消的事情。
resume-offer = 您有一份沒填完的糾紛（{ $category }）。要接著填嗎？
lang-choose = 請選擇語言：
lang-set = 好的，已換成繁體中文。
keyboard-closed = 好的。

## 提問

ask-category = 第 1 步：請問是哪一類糾紛？請點一個按鈕。
ask-description =
    第 2 步：請說說發生了什麼事。
    用文字寫，最多 { $max } 個字。
    也可以發照片、檔案或語音，最多 { $files } 個。
ask-other-party = 第 3 步：對方是誰？比如姓名、單位或和您的關係（最多 { $max } 個字）。不清楚可以點「不清楚，跳過」。
ask-parties = 第 4 步：這件事一共涉及幾個人？
ask-location = 第 5 步：事情發生在哪裡？如果您就在現場，請點下面的「發送我的位置」。
ask-location-other = 不在現場，也可以從清單裡選地方，或者直接寫地址。
ask-county = 請選擇縣（區）：
ask-township = 請選擇鄉鎮：
ask-village = 請選擇村（社區）：
ask-address = 請寫下詳細地址，比如「某某村三組」（最多 { $max } 個字）。
address-noted = 地址：{ $address }
page-of = （第 { $page } 頁，共 { $pages } 頁）
ask-phone = 第 6 步：請留一個聯絡電話，方便調解員聯絡您。點下面的「發送我的手機號」最方便，也可以直接輸入手機號。
ask-phone-other = 不想留電話，可以點「不留電話」。
ask-at-risk = 第 7 步：現在有沒有人可能受到傷害？
attachment-received = 收到了（第 { $count } 個，最多 { $max } 個）。還可以接著發；也請用文字說說發生了什麼。只發照片或語音的話，請點「下一步」。

## 核對

summary =
    <b>請核對您填寫的內容：</b>
    類別：{ $category }
    經過：{ $description }
    附件：{ $files } 個
    對方：{ $other }
    人數：{ $parties } 人
    地點：{ $place }
    電話：{ $phone }
    有人可能受傷害：{ $risk }
    
    沒問題就點「提交」；要改哪一項，就點那一項。
value-none = （未填）
value-unknown = 不清楚
value-not-yet = 還沒選類別
value-no-phone = 不留電話
value-yes = 有
value-no = 沒有
value-shared-location = （已發送位置）

## 提交結果

filed-ok =
    已經提交，謝謝您！
    案件編號：<b>{ $number }</b>（請記下來，打電話時報這個編號）
    負責的調解委員會：{ $committee }
    地址：{ $address }
    電話：{ $phone }
    調解員會在 { $deadline } 前和您聯絡。
filed-unrouted =
    已經提交，謝謝您！
    案件編號：<b>{ $number }</b>（請記下來）
    暫時還沒有分到調解委員會，工作人員會盡快安排，安排好了會告訴您。
filed-at-risk = <b>如果有緊急危險，請馬上撥打 110。</b>

## 我的案件

mycases-header = <b>您的案件：</b>
mycases-line = { $number } · { $category } · { $status } · { $date }
mycases-empty = 您還沒有提交過糾紛。
timeline-header = <b>案件 { $number }</b>
    類別：{ $category }
    狀態：{ $status }
timeline-committee = 調解委員會：{ $committee }，{ $address }，電話 { $phone }
timeline-line = { $time }  { $what }
event-filed = 提交了糾紛
event-assigned = 分給了{ $committee }
event-unrouted = 等待工作人員分派
event-accepted = 調解員已受理
event-scheduled = 約好了調解時間
event-resolved = 調解成功
event-failed = 調解沒有成功
event-escalated = 轉到了{ $committee }
event-reassigned = 改由{ $committee }辦理
event-closed = 已結案
event-withdrawn = 您撤回了案件
event-info-added = 您補充了情況
event-status = 狀態變為：{ $status }
case-not-open = 案件 { $number } 現在是「{ $status }」，不能再補充或撤回。
ask-add-info = 請發您要給案件 { $number } 補充的情況：文字（最多 { $max } 個字）、照片、檔案或語音都可以。
info-added = 已經補充到案件 { $number }。
confirm-withdraw = 確定要撤回案件 { $number } 嗎？撤回後調解就停止了。
withdrawn-ok = 案件 { $number } 已撤回。以後有需要，可以再來反映。
withdraw-kept = 好的，案件沒有撤回。

## 說明

help =
    <b>使用說明</b>
    /start 開始或回到選單
    /mycases 查看我的案件
    /language 換語言
    /cancel 取消正在填的內容
    
    需要法律幫助，可以撥打法律援助熱線 <b>12348</b>。
    想聯絡調解委員會，請看 /mycases 裡案件上的電話。
    有緊急危險，請撥打 110。
help-committee-line = 案件 { $number }：{ $committee }，電話 { $phone }，地址 { $address }

## 按鈕

btn-agree = 同意
btn-decline = 不同意
btn-back = « 上一步
btn-cancel = 取消
btn-next = 下一步 »
btn-skip-unknown = 不清楚，跳過
btn-skip-phone = 不留電話
btn-share-location = 📍 發送我的位置
btn-share-phone = 📱 發送我的手機號
btn-pick-region = 從清單裡選地方
btn-type-address = 寫地址
btn-prev-page = « 上一頁
btn-next-page = 下一頁 »
btn-whole-township = 不清楚是哪個村
btn-risk-yes = 有
btn-risk-no = 沒有
btn-edit-category = 改類別
btn-edit-description = 改經過
btn-edit-other = 改對方
btn-edit-parties = 改人數
btn-edit-place = 改地點
btn-edit-phone = 改電話
btn-edit-risk = 改危險情況
btn-submit = ✅ 提交
btn-resume = 接著填
btn-start-over = 重新填
btn-new-case = 我要反映糾紛
btn-my-cases = 我的案件
btn-help = 說明
btn-timeline = 查看進展
btn-timeline-of = 查看 { $number }
btn-add-info = 補充情況
btn-withdraw = 撤回案件
btn-withdraw-confirm = 確定撤回
btn-withdraw-keep = 不撤回

## 附件種類

attachment-photo = 照片
attachment-document = 檔案
attachment-voice = 語音
attachment-video = 影片

## 輸入有問題時

err-use-buttons = 請點上面訊息裡的按鈕來回答。
err-text-expected = 這一步請用文字回答。
err-description-type = 這一步請發文字、照片、檔案或語音。
err-empty = 內容是空的，請再寫一下。
err-too-long = 內容太長了：最多 { $max } 個字，您寫了 { $len } 個字。請寫短一點再發。
err-too-many-files = 最多只能發 { $max } 個附件。請用文字接著說，或點「下一步」。
err-parties = 請點按鈕，或者輸入一個數字，比如 3。
err-location-type = 請點「發送我的位置」，或者從清單裡選，或者直接寫地址。
err-location-outside = 這個位置不在我們的服務範圍內。我們目前只受理：{ $area }。請從清單裡選地方。
err-phone-type = 請點「發送我的手機號」，或者輸入手機號，或者點「不留電話」。
err-phone-invalid = 這個號碼不對。請輸入 11 位手機號，比如 13812345678。
err-phone-not-own = 請發送您自己的手機號（點「發送我的手機號」）。
err-edited = 修改過的訊息我們收不到改動，請重新發一遍。
err-stale = 這一步已經結束了。
err-bad-button = 這個按鈕用不了了。
err-group = 您好！為了保護您的隱私，請私訊我，不要在群組裡說。
err-flood = 您發得太快了，請稍等一會兒再發。
err-not-your-case = 找不到這個案件。
err-case-closed = 這個案件已經結束，不能再修改了。
err-missing = 還有內容沒填，請先補上。
err-unknown-command = 沒有這個指令。發 /help 可以看說明。
