# Early warning and periodic reports: messages to the admin chat.

oversight-alert-cluster-raised = 🔔 Alert #{ $id }: related disputes are gathering near { $region }
    Categories: { $categories }
    { $count } cases within about { $radius } km, filed { $first } to { $last }
    Cases: { $numbers }
    Please assess whether this is a mass dispute and step in early.
oversight-alert-cluster-grown = 🔔 Alert #{ $id } ({ $categories }) has one more case: { $number }. Now { $count } cases within about { $radius } km.
oversight-alert-mass-dispute = 🔔 Alert #{ $id }: case { $number } ({ $category }, { $region }) involves { $parties } people and may be a mass dispute. Please keep an eye on it.

oversight-report-title-daily = 📊 <b>Daily dispute report</b> { $period } · { $scope }
oversight-report-title-weekly = 📊 <b>Weekly dispute brief</b> { $period } · { $scope }
oversight-report-title-monthly = 📊 <b>Monthly dispute analysis</b> { $period } · { $scope }
oversight-report-scope-all = all regions
oversight-report-totals = New: { $new }. Resolved: { $resolved }. Failed: { $failed }. Resolution rate: { $rate }.
oversight-report-pending = Pending at period end: { $pending }, of which overdue: { $overdue }.
oversight-report-previous = Previous period: { $new } new, resolution rate { $rate }.
oversight-report-per-10k = New cases per 10,000 residents: { $value }.
oversight-report-no-rate = n/a
oversight-report-top-heading = <b>Leading categories</b>
oversight-report-top-line = · { $category }: { $count }, { $change }
oversight-report-change-up = { $delta } more than the previous period
oversight-report-change-down = { $delta } fewer than the previous period
oversight-report-change-same = same as the previous period
oversight-report-area-heading = <b>By area</b>
oversight-report-area-line = · { $area }: { $new } new, { $resolved } resolved, { $pending } pending, { $overdue } overdue
oversight-report-more-areas = { $count } more areas are in the full report.
oversight-report-alerts = Open alerts at period end: { $count }.
