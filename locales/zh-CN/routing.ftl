# 分派说明（管理员和调解员看到的“为什么分到这里”）。

route-via-rule = 按规则 { $rule_id }“{ $rule }”分派给{ $committee }，距离 { $km } 公里。
route-via-nearest-in-county = 没有规则能分派，改派给本县最近的{ $committee }，距离 { $km } 公里。
route-via-county-centre = 本县没有可受理的调委会，改派给最近的县级矛调中心{ $committee }，距离 { $km } 公里。
route-via-escalation = 上交到{ $level }：{ $committee }，距离 { $km } 公里。
route-unrouted = 暂时没有可受理的调委会，已放入待分派队列，并通知管理员。
route-skipped-rule-committee = 跳过规则“{ $rule }”的{ $committee }：{ $reason }
route-skipped-rule = 规则“{ $rule }”未能分派：{ $reason }
route-skipped-committee = 跳过{ $committee }：{ $reason }
route-skip-inactive = 已停用
route-skip-full = 案件已满
route-skip-declined = 曾退回此案
route-skip-no-candidate = 没有符合条件的调委会
route-skipped-more = 另有 { $count } 个调委会因同样原因被跳过。
