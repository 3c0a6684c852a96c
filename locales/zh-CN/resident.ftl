# 居民对话。读者多是年纪偏大的居民：句子短，口气客气，用词平实。

## 欢迎与隐私

welcome-consent =
    您好！这里是民间纠纷调解服务，可以帮您把纠纷交给附近的人民调解委员会。
    
    <b>个人信息说明</b>：您填写的内容、电话和位置，只用于调解您的纠纷，只给负责的调解员看。您可以随时撤回案件。
    
    同意后就可以开始。也可以先选语言。
consent-thanks = 谢谢您的信任。我们开始吧，随时可以发 /cancel 取消。
consent-declined = 好的，我们尊重您的决定，没有保存您的任何资料。想用的时候，请发 /start。
declined-reminder = 您之前没有同意个人信息说明，所以我们没有保存资料。想开始的话，请发 /start。

## 菜单

menu = 请问您要办什么？
menu-hint = 您好！请点下面的按钮。想反映纠纷，请点“我要反映纠纷”。
cancelled = 已取消，刚才填的内容没有提交。需要时请再点“我要反映纠纷”。
nothing-to-cancel = 现在没有要取消的事情。
resume-offer = 您有一份没填完的纠纷（{ $category }）。要接着填吗？
lang-choose = 请选择语言：
lang-set = 好的，已换成简体中文。
keyboard-closed = 好的。

## 提问

ask-category = 第 1 步：请问是哪一类纠纷？请点一个按钮。
ask-description =
    第 2 步：请说说发生了什么事。
    用文字写，最多 { $max } 个字。
    也可以发照片、文件或语音，最多 { $files } 个。
ask-other-party = 第 3 步：对方是谁？比如姓名、单位或和您的关系（最多 { $max } 个字）。不清楚可以点“不清楚，跳过”。
ask-parties = 第 4 步：这件事一共涉及几个人？
ask-location = 第 5 步：事情发生在哪里？如果您就在现场，请点下面的“发送我的位置”。
ask-location-other = 不在现场，也可以从列表里选地方，或者直接写地址。
ask-county = 请选择县（区）：
ask-township = 请选择乡镇：
ask-village = 请选择村（社区）：
ask-address = 请写下详细地址，比如“某某村三组”（最多 { $max } 个字）。
address-noted = 地址：{ $address }
page-of = （第 { $page } 页，共 { $pages } 页）
ask-phone = 第 6 步：请留一个联系电话，方便调解员联系您。点下面的“发送我的手机号”最方便，也可以直接输入手机号。
ask-phone-other = 不想留电话，可以点“不留电话”。
ask-at-risk = 第 7 步：现在有没有人可能受到伤害？
attachment-received = 收到了（第 { $count } 个，最多 { $max } 个）。还可以接着发；也请用文字说说发生了什么。只发照片或语音的话，请点“下一步”。

## 核对

summary =
    <b>请核对您填写的内容：</b>
    类别：{ $category }
    经过：{ $description }
    附件：{ $files } 个
    对方：{ $other }
    人数：{ $parties } 人
    地点：{ $place }
    电话：{ $phone }
    有人可能受伤害：{ $risk }
    
    没问题就点“提交”；要改哪一项，就点那一项。
value-none = （未填）
value-unknown = 不清楚
value-not-yet = 还没选类别
value-no-phone = 不留电话
value-yes = 有
value-no = 没有
value-shared-location = （已发送位置）

## 提交结果

filed-ok =
    已经提交，谢谢您！
    案件编号：<b>{ $number }</b>（请记下来，打电话时报这个编号）
    负责的调解委员会：{ $committee }
    地址：{ $address }
    电话：{ $phone }
    调解员会在 { $deadline } 前和您联系。
filed-unrouted =
    已经提交，谢谢您！
    案件编号：<b>{ $number }</b>（请记下来）
    暂时还没有分到调解委员会，工作人员会尽快安排，安排好了会告诉您。
filed-at-risk = <b>如果有紧急危险，请马上拨打 110。</b>

## 我的案件

mycases-header = <b>您的案件：</b>
mycases-line = { $number } · { $category } · { $status } · { $date }
mycases-empty = 您还没有提交过纠纷。
timeline-header = <b>案件 { $number }</b>
    类别：{ $category }
    状态：{ $status }
timeline-committee = 调解委员会：{ $committee }，{ $address }，电话 { $phone }
timeline-line = { $time }  { $what }
event-filed = 提交了纠纷
event-assigned = 分给了{ $committee }
event-unrouted = 等待工作人员分派
event-accepted = 调解员已受理
event-scheduled = 约好了调解时间
event-resolved = 调解成功
event-failed = 调解没有成功
event-escalated = 转到了{ $committee }
event-reassigned = 改由{ $committee }办理
event-closed = 已结案
event-withdrawn = 您撤回了案件
event-info-added = 您补充了情况
event-status = 状态变为：{ $status }
case-not-open = 案件 { $number } 现在是“{ $status }”，不能再补充或撤回。
ask-add-info = 请发您要给案件 { $number } 补充的情况：文字（最多 { $max } 个字）、照片、文件或语音都可以。
info-added = 已经补充到案件 { $number }。
confirm-withdraw = 确定要撤回案件 { $number } 吗？撤回后调解就停止了。
withdrawn-ok = 案件 { $number } 已撤回。以后有需要，可以再来反映。
withdraw-kept = 好的，案件没有撤回。

## 帮助

help =
    <b>使用说明</b>
    /start 开始或回到菜单
    /mycases 查看我的案件
    /language 换语言
    /cancel 取消正在填的内容
    
    需要法律帮助，可以拨打法律援助热线 <b>12348</b>。
    想联系调解委员会，请看 /mycases 里案件上的电话。
    有紧急危险，请拨打 110。
help-committee-line = 案件 { $number }：{ $committee }，电话 { $phone }，地址 { $address }

## 按钮

btn-agree = 同意
btn-decline = 不同意
btn-back = « 上一步
btn-cancel = 取消
btn-next = 下一步 »
btn-skip-unknown = 不清楚，跳过
btn-skip-phone = 不留电话
btn-share-location = 📍 发送我的位置
btn-share-phone = 📱 发送我的手机号
btn-pick-region = 从列表里选地方
btn-type-address = 写地址
btn-prev-page = « 上一页
btn-next-page = 下一页 »
btn-whole-township = 不清楚是哪个村
btn-risk-yes = 有
btn-risk-no = 没有
btn-edit-category = 改类别
btn-edit-description = 改经过
btn-edit-other = 改对方
btn-edit-parties = 改人数
btn-edit-place = 改地点
btn-edit-phone = 改电话
btn-edit-risk = 改危险情况
btn-submit = ✅ 提交
btn-resume = 接着填
btn-start-over = 重新填
btn-new-case = 我要反映纠纷
btn-my-cases = 我的案件
btn-help = 帮助
btn-timeline = 查看进展
btn-timeline-of = 查看 { $number }
btn-add-info = 补充情况
btn-withdraw = 撤回案件
btn-withdraw-confirm = 确定撤回
btn-withdraw-keep = 不撤回

## 附件种类

attachment-photo = 照片
attachment-document = 文件
attachment-voice = 语音
attachment-video = 视频

## 输入有问题时

err-use-buttons = 请点上面消息里的按钮来回答。
err-text-expected = 这一步请用文字回答。
err-description-type = 这一步请发文字、照片、文件或语音。
err-empty = 内容是空的，请再写一下。
err-too-long = 内容太长了：最多 { $max } 个字，您写了 { $len } 个字。请写短一点再发。
err-too-many-files = 最多只能发 { $max } 个附件。请用文字接着说，或点“下一步”。
err-parties = 请点按钮，或者输入一个数字，比如 3。
err-location-type = 请点“发送我的位置”，或者从列表里选，或者直接写地址。
err-location-outside = 这个位置不在我们的服务范围内。我们目前只受理：{ $area }。请从列表里选地方。
err-phone-type = 请点“发送我的手机号”，或者输入手机号，或者点“不留电话”。
err-phone-invalid = 这个号码不对。请输入 11 位手机号，比如 13812345678。
err-phone-not-own = 请发送您自己的手机号（点“发送我的手机号”）。
err-edited = 修改过的消息我们收不到改动，请重新发一遍。
err-stale = 这一步已经结束了。
err-bad-button = 这个按钮用不了了。
err-group = 您好！为了保护您的隐私，请私聊我，不要在群里说。
err-flood = 您发得太快了，请稍等一会儿再发。
err-not-your-case = 找不到这个案件。
err-case-closed = 这个案件已经结束，不能再修改了。
err-missing = 还有内容没填，请先补上。
err-unknown-command = 没有这个命令。发 /help 可以看说明。
