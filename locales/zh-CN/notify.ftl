# 通知：发给管理员群和调解员的消息。

admin-alert-unrouted = ⚠️ 案件 { $number }（{ $category }，{ $region }）没有可分派的调解委员会，请尽快人工分派。
admin-alert-at-risk = 🚨 案件 { $number }（{ $category }，{ $region }）可能有人受到伤害，已分给：{ $committee }。请关注。
admin-no-committee = 尚未分派
mediator-relay-info = 案件 { $number } 的当事人补充了情况：
    { $text }
mediator-relay-attachment = 案件 { $number } 的当事人补充了{ $kind }。{ $caption }
mediator-case-withdrawn = 案件 { $number } 已被当事人撤回，不用再办理了。

## 给居民的进展通知

resident-accepted = 您的案件 { $number } 已由{ $committee }的调解员{ $mediator }受理，调解员会尽快和您联系。
resident-reassigned =
    您的案件 { $number } 改由{ $committee }办理。
    地址：{ $address }
    电话：{ $phone }
    调解员会在 { $deadline } 前和您联系。
resident-escalated =
    您的案件 { $number } 已转到上一级：{ $committee }，会继续为您调解。
    地址：{ $address }
    电话：{ $phone }
    调解员会在 { $deadline } 前和您联系。
resident-scheduled =
    案件 { $number } 约好了调解：
    时间：{ $time }
    地点：{ $place }
    请按时到场。有变化，请点“查看进展”再点“补充情况”告诉调解员。
resident-reminder = ⏰ 提醒：明天 { $time } 调解您的案件 { $number }，地点：{ $place }。
resident-message =
    📩 调解员关于案件 { $number } 的留言：
    { $text }
    
    要回复，请点“回复调解员”。
btn-reply-mediator = 回复调解员
resident-resolved =
    案件 { $number } 调解成功！
    协议内容：{ $agreement }
    { $judicial }
    
    请给这次调解服务打个分（1 到 5 分，5 分最好）：
resident-judicial-yes = 调解员会协助您向法院申请司法确认，确认后协议可以申请强制执行。
resident-judicial-no = 以后如果需要，可以在 30 天内和对方一起向法院申请司法确认。
resident-rated = 谢谢您的评价！
resident-already-rated = 您已经评过分了，谢谢。
resident-not-now = 这个案件现在不需要您回答这个问题。
resident-failed =
    很遗憾，案件 { $number } 没有调解成功，案件已结束。
    { $guidance }
    { $legal_aid }
guidance-labor-arbitration = 劳动争议可以向县劳动人事争议仲裁委员会申请仲裁（一般要在一年内申请）。
guidance-land-arbitration = 土地承包纠纷可以向县农村土地承包仲裁委员会申请仲裁，也可以向人民法院起诉。
guidance-court = 您可以向当地人民法院起诉，法院也可以先组织诉前调解。
guidance-legal-aid = 需要法律帮助，可以拨打法律援助热线 <b>12348</b>。
resident-closed =
    您的案件 { $number } 已结案。
    说明：{ $reason }
    如果还有问题，可以再来反映，或拨打法律援助热线 12348。
resident-followup = 案件 { $number } 达成调解协议已经 { $days } 天了。请问协议做到了吗？
btn-fulfil-full = 全部做到了
btn-fulfil-partial = 做到了一部分
btn-fulfil-none = 没有做到
resident-fulfilment-full = 谢谢您告诉我们！案件 { $number } 已结案。
resident-fulfilment-not =
    谢谢您告诉我们。案件 { $number } 已结案。
    协议没有做到的话：申请过司法确认的，可以向法院申请强制执行；也可以向法院起诉。需要法律帮助，请拨打 <b>12348</b>。
resident-already-answered = 您已经回答过了，谢谢。

## 管理员群：超期与简报

admin-alert-accept-missed = ⏰ 案件 { $number } 在{ $committee }超过受理期限无人受理，已转给{ $to }。
admin-alert-accept-missed-stuck = ⏰ 案件 { $number } 在{ $committee }超过受理期限无人受理，没有别的调委会可以接手，请人工分派。
admin-alert-declined-stuck = 案件 { $number } 被{ $committee }的调解员全部退回，没有别的调委会可以接手，请人工分派。
admin-alert-resolve-overdue = ⏰ 案件 { $number }（{ $committee }）已超过办结期限 { $deadline }，已提醒调解员。
admin-alert-no-higher = 案件 { $number }（{ $committee }）调解不成，没有更高一级可以上交，请人工处理。
admin-digest-header =
    <b>每日简报 { $date }</b>
    昨天新案件 { $new } 件，调解成功 { $resolved } 件；现在超期 { $overdue } 件。
admin-digest-line = { $region }：新 { $new } · 成功 { $resolved } · 超期 { $overdue }
