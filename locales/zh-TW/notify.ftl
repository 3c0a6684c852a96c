# 通知：發給管理員群組和調解員的訊息。

admin-alert-unrouted = ⚠️ 案件 { $number }（{ $category }，{ $region }）沒有可分派的調解委員會，請盡快人工分派。
admin-alert-at-risk = 🚨 案件 { $number }（{ $category }，{ $region }）可能有人受到傷害，已分給：{ $committee }。請關注。
admin-no-committee = 尚未分派
mediator-relay-info = 案件 { $number } 的當事人補充了情況：
    { $text }
mediator-relay-attachment = 案件 { $number } 的當事人補充了{ $kind }。{ $caption }
mediator-case-withdrawn = 案件 { $number } 已被當事人撤回，不用再辦理了。

## 給居民的進展通知

resident-accepted = 您的案件 { $number } 已由{ $committee }的調解員{ $mediator }受理，調解員會盡快和您聯繫。
resident-reassigned =
    您的案件 { $number } 改由{ $committee }辦理。
    地址：{ $address }
    電話：{ $phone }
    調解員會在 { $deadline } 前和您聯繫。
resident-escalated =
    您的案件 { $number } 已轉到上一級：{ $committee }，會繼續為您調解。
    地址：{ $address }
    電話：{ $phone }
    調解員會在 { $deadline } 前和您聯繫。
resident-scheduled =
    案件 { $number } 約好了調解：
    時間：{ $time }
    地點：{ $place }
    請按時到場。有變化，請點「查看進展」再點「補充情況」告訴調解員。
resident-reminder = ⏰ 提醒：明天 { $time } 調解您的案件 { $number }，地點：{ $place }。
resident-message =
    📩 調解員關於案件 { $number } 的留言：
    { $text }
    
    要回覆，請點「回覆調解員」。
btn-reply-mediator = 回覆調解員
resident-resolved =
    案件 { $number } 調解成功！
    協議內容：{ $agreement }
    { $judicial }
    
    請給這次調解服務打個分（1 到 5 分，5 分最好）：
resident-judicial-yes = 調解員會協助您向法院申請司法確認，確認後協議可以申請強制執行。
resident-judicial-no = 以後如果需要，可以在 30 天內和對方一起向法院申請司法確認。
resident-rated = 謝謝您的評價！
resident-already-rated = 您已經評過分了，謝謝。
resident-not-now = 這個案件現在不需要您回答這個問題。
resident-failed =
    很遺憾，案件 { $number } 沒有調解成功，案件已結束。
    { $guidance }
    { $legal_aid }
guidance-labor-arbitration = 勞動爭議可以向縣勞動人事爭議仲裁委員會申請仲裁（一般要在一年內申請）。
guidance-land-arbitration = 土地承包糾紛可以向縣農村土地承包仲裁委員會申請仲裁，也可以向人民法院起訴。
guidance-court = 您可以向當地人民法院起訴，法院也可以先組織訴前調解。
guidance-legal-aid = 需要法律幫助，可以撥打法律援助熱線 <b>12348</b>。
resident-closed =
    您的案件 { $number } 已結案。
    說明：{ $reason }
    如果還有問題，可以再來反映，或撥打法律援助熱線 12348。
resident-followup = 案件 { $number } 達成調解協議已經 { $days } 天了。請問協議做到了嗎？
btn-fulfil-full = 全部做到了
btn-fulfil-partial = 做到了一部分
btn-fulfil-none = 沒有做到
resident-fulfilment-full = 謝謝您告訴我們！案件 { $number } 已結案。
resident-fulfilment-not =
    謝謝您告訴我們。案件 { $number } 已結案。
    協議沒有做到的話：申請過司法確認的，可以向法院申請強制執行；也可以向法院起訴。需要法律幫助，請撥打 <b>12348</b>。
resident-already-answered = 您已經回答過了，謝謝。

## 管理員群：超期與簡報

admin-alert-accept-missed = ⏰ 案件 { $number } 在{ $committee }超過受理期限無人受理，已轉給{ $to }。
admin-alert-accept-missed-stuck = ⏰ 案件 { $number } 在{ $committee }超過受理期限無人受理，沒有別的調委會可以接手，請人工分派。
admin-alert-declined-stuck = 案件 { $number } 被{ $committee }的調解員全部退回，沒有別的調委會可以接手，請人工分派。
admin-alert-resolve-overdue = ⏰ 案件 { $number }（{ $committee }）已超過辦結期限 { $deadline }，已提醒調解員。
admin-alert-no-higher = 案件 { $number }（{ $committee }）調解不成，沒有更高一級可以上交，請人工處理。
admin-digest-header =
    <b>每日簡報 { $date }</b>
    昨天新案件 { $new } 件，調解成功 { $resolved } 件；現在超期 { $overdue } 件。
admin-digest-line = { $region }：新 { $new } · 成功 { $resolved } · 超期 { $overdue }
