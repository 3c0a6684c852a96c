# 研判预警和定期报告：发给管理员群的消息。

oversight-alert-cluster-raised = 🔔 预警 #{ $id }：{ $region } 附近出现同类纠纷聚集
    类型：{ $categories }
    { $count } 件，范围约 { $radius } 公里，时间 { $first } 至 { $last }
    案件：{ $numbers }
    请研判是否为群体性纠纷，提前介入。
oversight-alert-cluster-grown = 🔔 预警 #{ $id }（{ $categories }）又增加 1 件：{ $number }。现共 { $count } 件，范围约 { $radius } 公里。
oversight-alert-mass-dispute = 🔔 预警 #{ $id }：案件 { $number }（{ $category }，{ $region }）涉及 { $parties } 人，可能是群体性纠纷，请关注。

oversight-report-title-daily = 📊 <b>矛盾纠纷日报告</b> { $period } · { $scope }
oversight-report-title-weekly = 📊 <b>矛盾纠纷周专报</b> { $period } · { $scope }
oversight-report-title-monthly = 📊 <b>矛盾纠纷月分析研判</b> { $period } · { $scope }
oversight-report-scope-all = 全部地区
oversight-report-totals = 新收 { $new } 件，化解成功 { $resolved } 件，调解未成 { $failed } 件，化解率 { $rate }。
oversight-report-pending = 期末在办 { $pending } 件，其中超期 { $overdue } 件。
oversight-report-previous = 上期新收 { $new } 件，化解率 { $rate }。
oversight-report-per-10k = 每万人新收案件 { $value } 件。
oversight-report-no-rate = 无
oversight-report-top-heading = <b>主要纠纷类型</b>
oversight-report-top-line = · { $category }：{ $count } 件，{ $change }
oversight-report-change-up = 比上期多 { $delta } 件
oversight-report-change-down = 比上期少 { $delta } 件
oversight-report-change-same = 与上期持平
oversight-report-area-heading = <b>各地情况</b>
oversight-report-area-line = · { $area }：新收 { $new }，化解 { $resolved }，在办 { $pending }，超期 { $overdue }
oversight-report-more-areas = 另有 { $count } 个地区未列出，详见报表。
oversight-report-alerts = 期末未关闭的预警 { $count } 条。
