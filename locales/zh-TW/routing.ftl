# 分派說明。

route-via-rule = 按規則 { $rule_id }「{ $rule }」分派給{ $committee }，距離 { $km } 公里。
route-via-nearest-in-county = 沒有規則能分派，改派給本縣最近的{ $committee }，距離 { $km } 公里。
route-via-county-centre = 本縣沒有可受理的調委會，改派給最近的縣級矛調中心{ $committee }，距離 { $km } 公里。
route-via-escalation = 上交到{ $level }：{ $committee }，距離 { $km } 公里。
route-unrouted = 暫時沒有可受理的調委會，已放入待分派佇列，並通知管理員。
route-skipped-rule-committee = 跳過規則「{ $rule }」的{ $committee }：{ $reason }
route-skipped-rule = 規則「{ $rule }」未能分派：{ $reason }
route-skipped-committee = 跳過{ $committee }：{ $reason }
route-skip-inactive = 已停用
route-skip-full = 案件已滿
route-skip-declined = 曾退回此案
route-skip-no-candidate = 沒有符合條件的調委會
route-skipped-more = 另有 { $count } 個調委會因同樣原因被跳過。
