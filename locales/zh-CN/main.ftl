# 通用文字。居民多用手机、年纪偏大：句子要短、口气要客气、用词要平实。

case-number-line = 案件编号：{ $number }

category-family = 婚姻家庭
category-neighbor = 邻里纠纷
category-housing = 房屋宅基地
category-land = 土地承包流转
category-labor = 劳动争议、欠薪
category-property-mgmt = 物业纠纷
category-traffic = 交通事故
category-medical = 医疗纠纷
category-consumer = 消费纠纷
category-debt = 借贷债务
category-expropriation = 征地拆迁
category-environment = 环境污染
category-other = 其他

status-submitted = 已提交
status-unrouted = 等待分派
status-assigned = 已分派，等待受理
status-accepted = 已受理
status-scheduled = 已约定调解时间
status-resolved = 调解成功
status-failed = 调解未成
status-closed = 已结案
status-withdrawn = 已撤回

kind-village = 村（社区）调委会
kind-township = 乡镇（街道）调委会
kind-county = 县矛调中心
kind-industry = 行业性专业性调委会
kind-court = 法院诉前调解
