# 调解员对话。读者是村、镇、行业调委会的调解员：说清楚要做什么、到什么时候。

## 绑定账号

med-linked =
    您好，{ $name }！您的账号已绑定为<b>{ $committee }</b>的调解员。
    新分派的案件会发到这里。发 /mycases 查看您的案件，发 /help 看说明。
med-already-linked = 您的账号已经绑定为{ $committee }的调解员了。发 /mycases 查看案件。
med-invite-used = 这个邀请码已经用过了。每个邀请码只能用一次，请向管理员要一个新的。
med-invite-expired = 这个邀请码已经过期了，请向管理员要一个新的。
med-invite-unknown = 这个邀请码不对。请检查链接是否完整，或向管理员要一个新的。
med-invite-throttled = 输错邀请码的次数太多了，请一小时后再试，或联系管理员。
med-inactive = 您的调解员账号已停用。如有疑问，请联系管理员。
med-help =
    <b>调解员使用说明</b>
    /mycases 查看待受理和办理中的案件
    /cancel 取消正在填写的内容
    新案件会发到这里，请点“受理”或“退回”。受理后可以约定调解时间、记备注、给当事人留言、登记调解结果。
med-menu = 请发 /mycases 查看您的案件。

## 新案件

med-assignment =
    <b>新案件 { $number }</b>（{ $committee }）
    类别：{ $category }
    经过：{ $description }
    附件：{ $files } 个
    地点：{ $place }
    涉及人数：{ $parties } 人
    有人可能受伤害：{ $risk }
    当事人电话：{ $phone }
    分派说明：{ $explanation }
    请在 { $deadline } 前受理或退回。
med-value-risk-yes = <b>有，请尽快处理</b>
med-value-risk-no = 没有
med-value-no-phone = 没有留电话，可以点“给当事人留言”联系
med-value-none = （没有文字）
btn-med-accept = ✅ 受理
btn-med-decline = 退回
med-accepted-ok = 您已受理案件 { $number }，请在 { $deadline } 前办结。
med-taken-notice = 案件 { $number } 已由{ $mediator }受理，您不用再处理了。

## 案件卡片

med-case-card =
    <b>案件 { $number }</b>
    类别：{ $category }
    状态：{ $status }
    当事人电话：{ $phone }
    办结期限：{ $deadline }
med-case-meeting = 约定调解：{ $time }，{ $place }
btn-med-schedule = 📅 约定调解时间
btn-med-note = 📝 记备注
btn-med-message = 💬 给当事人留言
btn-med-resolved = ✅ 调解成功
btn-med-failed = ❌ 调解不成
btn-med-view = 查看 { $number }

## 退回

med-decline-ask = 请说明退回案件 { $number } 的原因：点一个按钮，或者直接写。
btn-med-decline-busy = 人手不足
btn-med-decline-scope = 不属于本调委会受理范围
btn-med-decline-conflict = 需要回避
med-declined-ok = 已退回案件 { $number }。
med-declined-moved = 已退回案件 { $number }。本调委会的调解员都已退回，案件已转给{ $committee }。
med-declined-unrouted = 已退回案件 { $number }。本调委会的调解员都已退回，暂时没有别的调委会可以接手，已通知管理员。

## 约定时间

med-schedule-ask = 请给案件 { $number } 约定调解时间：点一个日期，或者直接写日期和时间，比如 { $example }。
med-schedule-ask-time = 日期：{ $date }。请写时间，比如 14:30，或点一个按钮。
med-schedule-ask-place = 时间：{ $time }。请写调解地点（最多 { $max } 字），或点“在本调委会”。
btn-med-place-office = 在本调委会
med-scheduled-ok = 已约定：案件 { $number }，{ $time }，{ $place }。已通知当事人，前一天会提醒您和当事人。
med-err-when = 看不懂这个时间。请写成 { $example } 这样，或点按钮。
med-err-past = 这个时间已经过去了，请约一个以后的时间。
med-err-too-far = 时间太远了，请约在 { $days } 天以内。

## 备注、留言

med-note-ask = 请写案件 { $number } 的备注（只有调解员和管理员能看到，最多 { $max } 字）。
med-note-ok = 备注已记入案件 { $number }。
med-message-ask = 请写给案件 { $number } 当事人的话（最多 { $max } 字）。我们会转给当事人，不会透露您的电话。
med-message-sent = 已转给案件 { $number } 的当事人。当事人回复时，会转到这里。
med-message-unreachable = 当事人暂时收不到消息，留言已记入案件 { $number }。

## 调解结果

med-resolve-ask = 请简要写下案件 { $number } 达成的协议内容（最多 { $max } 字）。
med-resolve-ask-judicial = 当事人是否需要申请司法确认？
btn-med-judicial-yes = 需要司法确认
btn-med-judicial-no = 不需要
med-resolved-ok = 案件 { $number } 已登记为调解成功。{ $days } 天后会回访当事人，了解协议履行情况。
med-fail-ask-next = 案件 { $number } 调解不成。下一步怎么办？
btn-med-fail-escalate = 上交上一级调委会
btn-med-fail-arbitration = 引导申请仲裁
btn-med-fail-litigation = 引导到法院起诉
med-fail-ask-reason = 请简要写下调解不成的原因（最多 { $max } 字）。
med-failed-escalated = 案件 { $number } 已上交到{ $committee }。
med-failed-no-higher = 案件 { $number } 没有更高一级的调委会可以接手，已登记为调解不成，并通知了管理员。
med-failed-referred = 案件 { $number } 已结案，已告诉当事人下一步可以怎么办。

## 我的案件

med-mycases-header = <b>您的案件：</b>
med-mycases-line = { $number } · { $category } · { $status } · 期限 { $deadline }
med-mycases-overdue = ⚠️ 已超期
med-mycases-empty = 现在没有待受理或办理中的案件。

## 提醒

med-reminder-meeting = ⏰ 提醒：明天 { $time } 调解案件 { $number }，地点：{ $place }。
med-reminder-overdue = ⚠️ 案件 { $number } 已超过办结期限（{ $deadline }），请尽快办结，或登记调解结果。
med-case-moved = 案件 { $number } 超过受理期限无人受理，已转给{ $committee }。

## 出错时

med-err-not-yours = 这个案件不归您的调委会办理，或者已经转走了。
med-err-taken = 这个案件已经由别的调解员受理了。
med-err-not-mine = 这个案件由别的调解员办理。
med-err-state = 案件 { $number } 现在是“{ $status }”，不能做这一步。
med-explain-admin = 管理员改派：{ $reason }
med-case-reassigned = 案件 { $number } 已由管理员转给{ $committee }，您不用再办理了。
med-case-closed = 案件 { $number } 已由管理员结案：{ $reason }
