# 通用文字。

case-number-line = 案件編號：{ $number }

category-family = 婚姻家庭
category-neighbor = 鄰里糾紛
category-housing = 房屋宅基地
category-land = 土地承包流轉
category-labor = 勞動爭議、欠薪
category-property-mgmt = 物業糾紛
category-traffic = 交通事故
category-medical = 醫療糾紛
category-consumer = 消費糾紛
category-debt = 借貸債務
category-expropriation = 徵地拆遷
category-environment = 環境污染
category-other = 其他

status-submitted = 已提交
status-unrouted = 等待分派
status-assigned = 已分派，等待受理
status-accepted = 已受理
status-scheduled = 已約定調解時間
status-resolved = 調解成功
status-failed = 調解未成
status-closed = 已結案
status-withdrawn = 已撤回

kind-village = 村（社區）調委會
kind-township = 鄉鎮（街道）調委會
kind-county = 縣矛調中心
kind-industry = 行業性專業性調委會
kind-court = 法院訴前調解
