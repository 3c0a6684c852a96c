# 研判預警和定期報告：發給管理員群的訊息。

oversight-alert-cluster-raised = 🔔 預警 #{ $id }：{ $region } 附近出現同類糾紛聚集
    類型：{ $categories }
    { $count } 件，範圍約 { $radius } 公里，時間 { $first } 至 { $last }
    案件：{ $numbers }
    請研判是否為群體性糾紛，提前介入。
oversight-alert-cluster-grown = 🔔 預警 #{ $id }（{ $categories }）又增加 1 件：{ $number }。現共 { $count } 件，範圍約 { $radius } 公里。
oversight-alert-mass-dispute = 🔔 預警 #{ $id }：案件 { $number }（{ $category }，{ $region }）涉及 { $parties } 人，可能是群體性糾紛，請關注。

oversight-report-title-daily = 📊 <b>矛盾糾紛日報告</b> { $period } · { $scope }
oversight-report-title-weekly = 📊 <b>矛盾糾紛週專報</b> { $period } · { $scope }
oversight-report-title-monthly = 📊 <b>矛盾糾紛月分析研判</b> { $period } · { $scope }
oversight-report-scope-all = 全部地區
oversight-report-totals = 新收 { $new } 件，化解成功 { $resolved } 件，調解未成 { $failed } 件，化解率 { $rate }。
oversight-report-pending = 期末在辦 { $pending } 件，其中超期 { $overdue } 件。
oversight-report-previous = 上期新收 { $new } 件，化解率 { $rate }。
oversight-report-per-10k = 每萬人新收案件 { $value } 件。
oversight-report-no-rate = 無
oversight-report-top-heading = <b>主要糾紛類型</b>
oversight-report-top-line = · { $category }：{ $count } 件，{ $change }
oversight-report-change-up = 比上期多 { $delta } 件
oversight-report-change-down = 比上期少 { $delta } 件
oversight-report-change-same = 與上期持平
oversight-report-area-heading = <b>各地情況</b>
oversight-report-area-line = · { $area }：新收 { $new }，化解 { $resolved }，在辦 { $pending }，超期 { $overdue }
oversight-report-more-areas = 另有 { $count } 個地區未列出，詳見報表。
oversight-report-alerts = 期末未關閉的預警 { $count } 條。
