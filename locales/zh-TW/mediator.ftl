# 調解員對話。讀者是村、鎮、行業調委會的調解員：說清楚要做什麼、到什麼時候。

## 綁定帳號

med-linked =
    您好，{ $name }！您的帳號已綁定為<b>{ $committee }</b>的調解員。
    新分派的案件會發到這裡。發 /mycases 查看您的案件，發 /help 看說明。
med-already-linked = 您的帳號已經綁定為{ $committee }的調解員了。發 /mycases 查看案件。
med-invite-used = 這個邀請碼已經用過了。每個邀請碼只能用一次，請向管理員要一個新的。
med-invite-expired = 這個邀請碼已經過期了，請向管理員要一個新的。
med-invite-unknown = 這個邀請碼不對。請檢查連結是否完整，或向管理員要一個新的。
med-invite-throttled = 輸錯邀請碼的次數太多了，請一小時後再試，或聯繫管理員。
med-inactive = 您的調解員帳號已停用。如有疑問，請聯繫管理員。
med-help =
    <b>調解員使用說明</b>
    /mycases 查看待受理和辦理中的案件
    /cancel 取消正在填寫的內容
    新案件會發到這裡，請點「受理」或「退回」。受理後可以約定調解時間、記備註、給當事人留言、登記調解結果。
med-menu = 請發 /mycases 查看您的案件。

## 新案件

med-assignment =
    <b>新案件 { $number }</b>（{ $committee }）
    類別：{ $category }
    經過：{ $description }
    附件：{ $files } 個
    地點：{ $place }
    涉及人數：{ $parties } 人
    有人可能受傷害：{ $risk }
    當事人電話：{ $phone }
    分派說明：{ $explanation }
    請在 { $deadline } 前受理或退回。
med-value-risk-yes = <b>有，請盡快處理</b>
med-value-risk-no = 沒有
med-value-no-phone = 沒有留電話，可以點「給當事人留言」聯繫
med-value-none = （沒有文字）
btn-med-accept = ✅ 受理
btn-med-decline = 退回
med-accepted-ok = 您已受理案件 { $number }，請在 { $deadline } 前辦結。
med-taken-notice = 案件 { $number } 已由{ $mediator }受理，您不用再處理了。

## 案件卡片

med-case-card =
    <b>案件 { $number }</b>
    類別：{ $category }
    狀態：{ $status }
    當事人電話：{ $phone }
    辦結期限：{ $deadline }
med-case-meeting = 約定調解：{ $time }，{ $place }
btn-med-schedule = 📅 約定調解時間
btn-med-note = 📝 記備註
btn-med-message = 💬 給當事人留言
btn-med-resolved = ✅ 調解成功
btn-med-failed = ❌ 調解不成
btn-med-view = 查看 { $number }

## 退回

med-decline-ask = 請說明退回案件 { $number } 的原因：點一個按鈕，或者直接寫。
btn-med-decline-busy = 人手不足
btn-med-decline-scope = 不屬於本調委會受理範圍
btn-med-decline-conflict = 需要迴避
med-declined-ok = 已退回案件 { $number }。
med-declined-moved = 已退回案件 { $number }。本調委會的調解員都已退回，案件已轉給{ $committee }。
med-declined-unrouted = 已退回案件 { $number }。本調委會的調解員都已退回，暫時沒有別的調委會可以接手，已通知管理員。

## 約定時間

med-schedule-ask = 請給案件 { $number } 約定調解時間：點一個日期，或者直接寫日期和時間，比如 { $example }。
med-schedule-ask-time = 日期：{ $date }。請寫時間，比如 14:30，或點一個按鈕。
med-schedule-ask-place = 時間：{ $time }。請寫調解地點（最多 { $max } 字），或點「在本調委會」。
btn-med-place-office = 在本調委會
med-scheduled-ok = 已約定：案件 { $number }，{ $time }，{ $place }。已通知當事人，前一天會提醒您和當事人。
med-err-when = 看不懂這個時間。請寫成 { $example } 這樣，或點按鈕。
med-err-past = 這個時間已經過去了，請約一個以後的時間。
med-err-too-far = 時間太遠了，請約在 { $days } 天以內。

## 備註、留言

med-note-ask = 請寫案件 { $number } 的備註（只有調解員和管理員能看到，最多 { $max } 字）。
med-note-ok = 備註已記入案件 { $number }。
med-message-ask = 請寫給案件 { $number } 當事人的話（最多 { $max } 字）。我們會轉給當事人，不會透露您的電話。
med-message-sent = 已轉給案件 { $number } 的當事人。當事人回覆時，會轉到這裡。
med-message-unreachable = 當事人暫時收不到訊息，留言已記入案件 { $number }。

## 調解結果

med-resolve-ask = 請簡要寫下案件 { $number } 達成的協議內容（最多 { $max } 字）。
med-resolve-ask-judicial = 當事人是否需要申請司法確認？
btn-med-judicial-yes = 需要司法確認
btn-med-judicial-no = 不需要
med-resolved-ok = 案件 { $number } 已登記為調解成功。{ $days } 天後會回訪當事人，了解協議履行情況。
med-fail-ask-next = 案件 { $number } 調解不成。下一步怎麼辦？
btn-med-fail-escalate = 上交上一級調委會
btn-med-fail-arbitration = 引導申請仲裁
btn-med-fail-litigation = 引導到法院起訴
med-fail-ask-reason = 請簡要寫下調解不成的原因（最多 { $max } 字）。
med-failed-escalated = 案件 { $number } 已上交到{ $committee }。
med-failed-no-higher = 案件 { $number } 沒有更高一級的調委會可以接手，已登記為調解不成，並通知了管理員。
med-failed-referred = 案件 { $number } 已結案，已告訴當事人下一步可以怎麼辦。

## 我的案件

med-mycases-header = <b>您的案件：</b>
med-mycases-line = { $number } · { $category } · { $status } · 期限 { $deadline }
med-mycases-overdue = ⚠️ 已超期
med-mycases-empty = 現在沒有待受理或辦理中的案件。

## 提醒

med-reminder-meeting = ⏰ 提醒：明天 { $time } 調解案件 { $number }，地點：{ $place }。
med-reminder-overdue = ⚠️ 案件 { $number } 已超過辦結期限（{ $deadline }），請盡快辦結，或登記調解結果。
med-case-moved = 案件 { $number } 超過受理期限無人受理，已轉給{ $committee }。

## 出錯時

med-err-not-yours = 這個案件不歸您的調委會辦理，或者已經轉走了。
med-err-taken = 這個案件已經由別的調解員受理了。
med-err-not-mine = 這個案件由別的調解員辦理。
med-err-state = 案件 { $number } 現在是「{ $status }」，不能做這一步。
med-explain-admin = 管理員改派：{ $reason }
med-case-reassigned = 案件 { $number } 已由管理員轉給{ $committee }，您不用再辦理了。
med-case-closed = 案件 { $number } 已由管理員結案：{ $reason }
