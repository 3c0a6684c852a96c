# 通知：發給管理員群組和調解員的訊息。

admin-alert-unrouted = ⚠️ 案件 { $number }（{ $category }，{ $region }）沒有可分派的調解委員會，請盡快人工分派。
admin-alert-at-risk = 🚨 案件 { $number }（{ $category }，{ $region }）可能有人受到傷害，已分給：{ $committee }。請關注。
admin-no-committee = 尚未分派
mediator-relay-info = 案件 { $number } 的當事人補充了情況：
    { $text }
mediator-relay-attachment = 案件 { $number } 的當事人補充了{ $kind }。{ $caption }
mediator-case-withdrawn = 案件 { $number } 已被當事人撤回，不用再辦理了。
