# 通知：发给管理员群和调解员的消息。

admin-alert-unrouted = ⚠️ 案件 { $number }（{ $category }，{ $region }）没有可分派的调解委员会，请尽快人工分派。
admin-alert-at-risk = 🚨 案件 { $number }（{ $category }，{ $region }）可能有人受到伤害，已分给：{ $committee }。请关注。
admin-no-committee = 尚未分派
mediator-relay-info = 案件 { $number } 的当事人补充了情况：
    { $text }
mediator-relay-attachment = 案件 { $number } 的当事人补充了{ $kind }。{ $caption }
mediator-case-withdrawn = 案件 { $number } 已被当事人撤回，不用再办理了。
