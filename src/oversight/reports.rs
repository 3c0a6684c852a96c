//! Periodic reports: daily report, weekly brief, monthly analysis
//! (日报告、周专报、月分析研判), per county and township.
//!
//! [`build`] computes a [`Report`] for one period in the configured time
//! zone and one scope (a county or township, or everything). The report is
//! served as JSON ([`Report::to_json`]) and CSV ([`Report::to_csv`]) by the
//! admin API and sent to the admin chat ([`Report::render`]) on schedule by
//! [`send_due_reports`]. Every figure's definition is on its field below and
//! in docs/reports.md.
//!
//! Figures come from the case timeline, so a report for a past period gives
//! the same numbers whenever it is built (with one exception, noted on
//! [`Figures::overdue_at_end`]).

use super::{AdminChat, OversightError};
use crate::domain::{CaseStatus, Category, RegionCode};
use crate::i18n::{t, Lang};
use crate::outgoing::{escape_html, OutMessage};
use crate::storage::alerts::{self, AlertRecord};
use crate::storage::reports::{self as facts, CaseFact, OutcomeEvent};
use crate::storage::{self, Conn};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The rhythm of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// One local calendar day.
    Daily,
    /// One ISO week, Monday to Sunday.
    Weekly,
    /// One calendar month.
    Monthly,
}

impl ReportKind {
    /// Every kind.
    pub const ALL: [ReportKind; 3] = [ReportKind::Daily, ReportKind::Weekly, ReportKind::Monthly];

    /// The stable code (`daily`, `weekly`, `monthly`).
    pub fn code(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == s)
    }

    /// The first day of the period of this kind that contains `date`.
    pub fn period_start(self, date: NaiveDate) -> NaiveDate {
        match self {
            ReportKind::Daily => date,
            ReportKind::Weekly => {
                date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            ReportKind::Monthly => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first day after the period starting at `start`.
    pub fn period_end(self, start: NaiveDate) -> NaiveDate {
        match self {
            ReportKind::Daily => start + Duration::days(1),
            ReportKind::Weekly => start + Duration::days(7),
            ReportKind::Monthly => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start + Duration::days(31)),
        }
    }

    /// The first day of the period before the one starting at `start`.
    pub fn previous_start(self, start: NaiveDate) -> NaiveDate {
        match self {
            ReportKind::Daily => start - Duration::days(1),
            ReportKind::Weekly => start - Duration::days(7),
            ReportKind::Monthly => start
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(start - Duration::days(28)),
        }
    }
}

/// The figures of one scope (everything, a category or an area) in one
/// period `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// New cases (新收): cases filed in the period (`submitted_at` in
    /// `[start, end)`), whatever happened to them since, withdrawn ones
    /// included.
    pub new_cases: i64,
    /// Resolved (化解成功): cases whose **last** mediation outcome in the
    /// period — the last timeline event in `[start, end)` moving the case to
    /// `resolved` or `failed` — is `resolved`. A case counts once.
    pub resolved: i64,
    /// Failed (调解未成): cases whose last mediation outcome in the period is
    /// `failed`. A failure that was escalated and then resolved within the
    /// same period counts as resolved only.
    pub failed: i64,
    /// Resolution rate (化解率) = resolved ÷ (resolved + failed), among the
    /// cases whose mediation ended in the period; `null` when no mediation
    /// ended. Withdrawn cases and cases closed by an admin without an outcome
    /// are in neither count. Rounded to 4 decimals.
    pub resolution_rate: Option<f64>,
    /// Pending at period end (期末在办): cases filed before `end` whose status
    /// at `end` (the last status-changing timeline event before `end`) is
    /// open: submitted, unrouted, assigned, accepted or scheduled.
    pub pending_at_end: i64,
    /// Overdue at period end (期末超期): pending cases whose deadline had
    /// passed at `end` — assigned (or unrouted/submitted) with an accept
    /// deadline before `end`, or accepted/scheduled with a resolve deadline
    /// before `end`. Deadlines are read as currently stored; a later
    /// reassignment moves them, so a past period re-run after one can differ.
    pub overdue_at_end: i64,
}

/// One category's line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryRow {
    /// The category code.
    #[schema(value_type = String, example = "labor")]
    pub category: Category,
    /// Its figures in the period.
    #[serde(flatten)]
    pub figures: Figures,
    /// New cases of the category in the previous period.
    pub previous_new_cases: i64,
}

/// One area's line: a township, or a county for cases filed at county level
/// (no township known).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AreaRow {
    /// Township (9 digits) or county (6 digits) code.
    #[schema(value_type = String, example = "620722101")]
    pub code: RegionCode,
    /// Its name, when the region is known.
    pub name: String,
    /// Its figures in the period.
    #[serde(flatten)]
    pub figures: Figures,
    /// New cases in the previous period.
    pub previous_new_cases: i64,
    /// Alerts open at period end whose region lies in the area.
    pub open_alerts: i64,
    /// Resident population, when known.
    pub population: Option<i64>,
    /// New cases per 10,000 residents = new_cases ÷ population × 10,000,
    /// rounded to 2 decimals; `null` when the population is unknown or 0.
    pub cases_per_10k: Option<f64>,
}

/// A leading category and its change against the previous period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TopCategory {
    /// The category code.
    #[schema(value_type = String, example = "labor")]
    pub category: Category,
    /// New cases in the period.
    pub new_cases: i64,
    /// New cases in the previous period.
    pub previous_new_cases: i64,
    /// new_cases − previous_new_cases.
    pub change: i64,
    /// change ÷ previous_new_cases × 100, rounded to 1 decimal; `null` when
    /// the previous period had none.
    pub change_pct: Option<f64>,
}

/// An alert open at period end, as listed in a report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportAlert {
    /// Alert id.
    pub id: i64,
    /// `cluster` or `mass_dispute`.
    #[schema(value_type = String, example = "cluster")]
    pub kind: crate::storage::alerts::AlertKind,
    /// Category group key.
    pub categories: String,
    /// Region of the case that raised it.
    #[schema(value_type = String, example = "620722101201")]
    pub region_code: RegionCode,
    /// Member cases.
    pub case_count: i64,
    /// Parties in all member cases.
    pub party_total: i64,
}

/// A periodic report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Daily, weekly or monthly.
    pub kind: ReportKind,
    /// First local day of the period.
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    /// Last local day of the period (inclusive).
    #[schema(value_type = String, format = Date)]
    pub period_last_day: NaiveDate,
    /// First local day of the previous period (compared against).
    #[schema(value_type = String, format = Date)]
    pub previous_start: NaiveDate,
    /// Time zone the days are in.
    pub timezone: String,
    /// The scope: a county or township code; `null` for everything.
    #[schema(value_type = Option<String>, example = "620722")]
    pub region: Option<RegionCode>,
    /// The scope's name.
    pub region_name: Option<String>,
    /// Figures of the whole scope in the period.
    pub totals: Figures,
    /// Figures of the whole scope in the previous period.
    pub previous_totals: Figures,
    /// Resident population of the scope: the scope region's population; for
    /// everything, the sum over county regions when every county's is known.
    pub population: Option<i64>,
    /// New cases per 10,000 residents of the scope (see [`AreaRow::cases_per_10k`]).
    pub cases_per_10k: Option<f64>,
    /// One line per category with any new case, outcome or pending case
    /// (in the period or the previous one), in category order.
    pub by_category: Vec<CategoryRow>,
    /// One line per area with any activity, by code.
    pub by_area: Vec<AreaRow>,
    /// The five categories with the most new cases (ties by category
    /// order), with their change against the previous period.
    pub top_categories: Vec<TopCategory>,
    /// Alerts open at period end (raised before `end`, not closed before it)
    /// whose region lies in the scope.
    pub open_alerts: Vec<ReportAlert>,
}

const OPEN: [CaseStatus; 5] = [
    CaseStatus::Submitted,
    CaseStatus::Unrouted,
    CaseStatus::Assigned,
    CaseStatus::Accepted,
    CaseStatus::Scheduled,
];

fn local_midnight(date: NaiveDate, tz: Tz) -> i64 {
    let naive = date.and_time(NaiveTime::MIN);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| naive.and_utc().timestamp_millis())
}

fn rate(resolved: i64, failed: i64) -> Option<f64> {
    let d = resolved + failed;
    (d > 0).then(|| round(resolved as f64 / d as f64, 4))
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

fn per_10k(new_cases: i64, population: Option<i64>) -> Option<f64> {
    population
        .filter(|p| *p > 0)
        .map(|p| round(new_cases as f64 * 10_000.0 / p as f64, 2))
}

/// The area a case's region belongs to: its township, else its county.
fn area_of(code: &RegionCode) -> RegionCode {
    code.township().unwrap_or_else(|| code.county())
}

/// Accumulates figures of one period.
#[derive(Default)]
struct Tally {
    total: Figures,
    by_category: BTreeMap<Category, Figures>,
    by_area: BTreeMap<RegionCode, Figures>,
}

impl Tally {
    fn each(&mut self, c: Category, a: &RegionCode, f: impl Fn(&mut Figures)) {
        f(&mut self.total);
        f(self.by_category.entry(c).or_default());
        f(self.by_area.entry(area_of(a)).or_default());
    }

    fn finish(&mut self) {
        for f in std::iter::once(&mut self.total)
            .chain(self.by_category.values_mut())
            .chain(self.by_area.values_mut())
        {
            f.resolution_rate = rate(f.resolved, f.failed);
        }
    }
}

fn tally(
    cases: &[CaseFact],
    outcomes: &[OutcomeEvent],
    start: i64,
    end: i64,
    at_end: impl Fn(&CaseFact) -> Option<CaseStatus>,
) -> Tally {
    let mut t = Tally::default();
    for c in cases {
        if c.submitted_at >= start && c.submitted_at < end {
            t.each(c.category, &c.region_code, |f| f.new_cases += 1);
        }
        let Some(status) = at_end(c) else { continue };
        if OPEN.contains(&status) {
            let overdue = match status {
                CaseStatus::Accepted | CaseStatus::Scheduled => {
                    c.resolve_deadline.is_some_and(|d| d < end)
                }
                _ => c.accept_deadline.is_some_and(|d| d < end),
            };
            t.each(c.category, &c.region_code, |f| {
                f.pending_at_end += 1;
                if overdue {
                    f.overdue_at_end += 1;
                }
            });
        }
    }
    // Outcomes are ordered by case then time: the last one per case wins.
    let mut last: BTreeMap<i64, &OutcomeEvent> = BTreeMap::new();
    for e in outcomes.iter().filter(|e| e.at >= start && e.at < end) {
        last.insert(e.case_id, e);
    }
    for e in last.values() {
        let resolved = e.to_status == CaseStatus::Resolved;
        t.each(e.category, &e.region_code, |f| {
            if resolved {
                f.resolved += 1;
            } else {
                f.failed += 1;
            }
        });
    }
    t.finish();
    t
}

/// Builds the report of `kind` for the period containing `date` (local, in
/// `tz`), over `region` (a county or township; `None` for everything).
pub async fn build(
    conn: &mut Conn,
    kind: ReportKind,
    date: NaiveDate,
    region: Option<&RegionCode>,
    tz: Tz,
) -> Result<Report, OversightError> {
    let start_day = kind.period_start(date);
    let end_day = kind.period_end(start_day);
    let prev_day = kind.previous_start(start_day);
    let (prev, start, end) = (
        local_midnight(prev_day, tz),
        local_midnight(start_day, tz),
        local_midnight(end_day, tz),
    );
    let prefix = region.map(|r| r.as_str()).unwrap_or("");

    let cases = facts::case_facts(conn, prefix, start, end).await?;
    let outcomes = facts::outcome_events(conn, prefix, prev, end).await?;
    let mut current = tally(&cases, &outcomes, start, end, |c| Some(c.status_at_end));
    let previous = tally(&cases, &outcomes, prev, start, |c| c.status_at_start);

    let regions = facts::area_regions(conn, prefix).await?;
    let region_info: BTreeMap<&RegionCode, (&String, Option<i64>)> =
        regions.iter().map(|(c, n, p)| (c, (n, *p))).collect();

    let alerts_open = alerts::open_at(conn, end, prefix).await?;
    let mut alerts_by_area: BTreeMap<RegionCode, i64> = BTreeMap::new();
    for a in &alerts_open {
        *alerts_by_area.entry(area_of(&a.region_code)).or_default() += 1;
    }

    let mut categories: Vec<Category> = current
        .by_category
        .keys()
        .chain(previous.by_category.keys())
        .copied()
        .collect();
    categories.sort();
    categories.dedup();
    let by_category: Vec<CategoryRow> = categories
        .iter()
        .map(|c| CategoryRow {
            category: *c,
            figures: current.by_category.remove(c).unwrap_or_default(),
            previous_new_cases: previous.by_category.get(c).map_or(0, |f| f.new_cases),
        })
        .collect();

    let mut areas: Vec<RegionCode> = current
        .by_area
        .keys()
        .chain(previous.by_area.keys())
        .chain(alerts_by_area.keys())
        .cloned()
        .collect();
    areas.sort();
    areas.dedup();
    let by_area: Vec<AreaRow> = areas
        .iter()
        .map(|a| {
            let figures = current.by_area.remove(a).unwrap_or_default();
            let (name, population) = region_info
                .get(a)
                .map(|(n, p)| ((*n).clone(), *p))
                .unwrap_or_default();
            AreaRow {
                code: a.clone(),
                name,
                previous_new_cases: previous.by_area.get(a).map_or(0, |f| f.new_cases),
                open_alerts: alerts_by_area.get(a).copied().unwrap_or(0),
                population,
                cases_per_10k: per_10k(figures.new_cases, population),
                figures,
            }
        })
        .collect();

    let mut top: Vec<TopCategory> = by_category
        .iter()
        .filter(|r| r.figures.new_cases > 0)
        .map(|r| {
            let change = r.figures.new_cases - r.previous_new_cases;
            TopCategory {
                category: r.category,
                new_cases: r.figures.new_cases,
                previous_new_cases: r.previous_new_cases,
                change,
                change_pct: (r.previous_new_cases > 0)
                    .then(|| round(change as f64 * 100.0 / r.previous_new_cases as f64, 1)),
            }
        })
        .collect();
    top.sort_by(|a, b| {
        b.new_cases
            .cmp(&a.new_cases)
            .then(a.category.cmp(&b.category))
    });
    top.truncate(5);

    let (region_name, population) = match region {
        Some(r) => match storage::regions::get(conn, r.as_str()).await? {
            Some(reg) => (Some(reg.name), reg.population),
            None => (None, None),
        },
        None => {
            let counties = storage::regions::at_level(conn, "county").await?;
            let all_known = !counties.is_empty() && counties.iter().all(|c| c.population.is_some());
            (
                None,
                all_known.then(|| counties.iter().filter_map(|c| c.population).sum()),
            )
        }
    };

    Ok(Report {
        kind,
        period_start: start_day,
        period_last_day: end_day - Duration::days(1),
        previous_start: prev_day,
        timezone: tz.name().to_owned(),
        region: region.cloned(),
        region_name,
        cases_per_10k: per_10k(current.total.new_cases, population),
        population,
        totals: current.total,
        previous_totals: previous.total,
        by_category,
        by_area,
        top_categories: top,
        open_alerts: alerts_open.iter().map(report_alert).collect(),
    })
}

fn report_alert(a: &AlertRecord) -> ReportAlert {
    ReportAlert {
        id: a.id,
        kind: a.kind,
        categories: a.category_group.clone(),
        region_code: a.region_code.clone(),
        case_count: a.case_count,
        party_total: a.party_total,
    }
}

/// The CSV header: one table with a `section` column (`total`,
/// `previous_total`, `category`, `area`).
pub const CSV_HEADER: [&str; 14] = [
    "section",
    "key",
    "name",
    "new_cases",
    "resolved",
    "failed",
    "resolution_rate",
    "pending_at_end",
    "overdue_at_end",
    "previous_new_cases",
    "open_alerts",
    "population",
    "cases_per_10k",
    "period_start",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl Report {
    /// The report as JSON (every field, definitions in docs/reports.md).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The report as CSV: [`CSV_HEADER`], then a `total` row, a
    /// `previous_total` row, one `category` row per category and one `area`
    /// row per area. Empty cells mean "not known" (rate without outcomes,
    /// population unknown).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(vec![]);
        let start = self.period_start.to_string();
        let mut rows: Vec<[String; 14]> = vec![];
        let line = |section: &str,
                    key: &str,
                    name: &str,
                    f: &Figures,
                    prev: Option<i64>,
                    alerts: Option<i64>,
                    pop: Option<i64>,
                    per: Option<f64>| {
            [
                section.to_owned(),
                key.to_owned(),
                name.to_owned(),
                f.new_cases.to_string(),
                f.resolved.to_string(),
                f.failed.to_string(),
                opt(f.resolution_rate),
                f.pending_at_end.to_string(),
                f.overdue_at_end.to_string(),
                opt(prev),
                opt(alerts),
                opt(pop),
                opt(per),
                start.clone(),
            ]
        };
        let scope = self.region.as_ref().map(|r| r.as_str()).unwrap_or("");
        let scope_name = self.region_name.as_deref().unwrap_or("");
        rows.push(line(
            "total",
            scope,
            scope_name,
            &self.totals,
            Some(self.previous_totals.new_cases),
            Some(self.open_alerts.len() as i64),
            self.population,
            self.cases_per_10k,
        ));
        rows.push(line(
            "previous_total",
            scope,
            scope_name,
            &self.previous_totals,
            None,
            None,
            None,
            None,
        ));
        for c in &self.by_category {
            rows.push(line(
                "category",
                c.category.code(),
                "",
                &c.figures,
                Some(c.previous_new_cases),
                None,
                None,
                None,
            ));
        }
        for a in &self.by_area {
            rows.push(line(
                "area",
                a.code.as_str(),
                &a.name,
                &a.figures,
                Some(a.previous_new_cases),
                Some(a.open_alerts),
                a.population,
                a.cases_per_10k,
            ));
        }
        // Writing to a Vec cannot fail.
        let _ = w.write_record(CSV_HEADER);
        for r in &rows {
            let _ = w.write_record(r);
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The report as an admin-chat message (HTML), in `lang`: totals,
    /// comparison, leading categories with their change, up to ten areas,
    /// open alerts. Stays well under Telegram's 4,096 characters.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = vec![];
        let period = if self.period_start == self.period_last_day {
            self.period_start.to_string()
        } else {
            format!("{} – {}", self.period_start, self.period_last_day)
        };
        let scope = match (&self.region_name, &self.region) {
            (Some(n), _) => escape_html(n),
            (None, Some(c)) => c.as_str().to_owned(),
            (None, None) => t(lang, "oversight-report-scope-all", &[]),
        };
        out.push(t(
            lang,
            &format!("oversight-report-title-{}", self.kind.code()),
            &[("period", period.into()), ("scope", scope.into())],
        ));
        let rate_text = |r: Option<f64>| match r {
            Some(r) => format!("{:.1}%", r * 100.0),
            None => t(lang, "oversight-report-no-rate", &[]),
        };
        let f = &self.totals;
        out.push(t(
            lang,
            "oversight-report-totals",
            &[
                ("new", f.new_cases.into()),
                ("resolved", f.resolved.into()),
                ("failed", f.failed.into()),
                ("rate", rate_text(f.resolution_rate).into()),
            ],
        ));
        out.push(t(
            lang,
            "oversight-report-pending",
            &[
                ("pending", f.pending_at_end.into()),
                ("overdue", f.overdue_at_end.into()),
            ],
        ));
        out.push(t(
            lang,
            "oversight-report-previous",
            &[
                ("new", self.previous_totals.new_cases.into()),
                (
                    "rate",
                    rate_text(self.previous_totals.resolution_rate).into(),
                ),
            ],
        ));
        if let Some(v) = self.cases_per_10k {
            out.push(t(
                lang,
                "oversight-report-per-10k",
                &[("value", format!("{v:.2}").into())],
            ));
        }
        if !self.top_categories.is_empty() {
            out.push(String::new());
            out.push(t(lang, "oversight-report-top-heading", &[]));
            for c in &self.top_categories {
                let change = match c.change {
                    0 => t(lang, "oversight-report-change-same", &[]),
                    d if d > 0 => t(lang, "oversight-report-change-up", &[("delta", d.into())]),
                    d => t(
                        lang,
                        "oversight-report-change-down",
                        &[("delta", (-d).into())],
                    ),
                };
                out.push(t(
                    lang,
                    "oversight-report-top-line",
                    &[
                        ("category", t(lang, &c.category.message_id(), &[]).into()),
                        ("count", c.new_cases.into()),
                        ("change", change.into()),
                    ],
                ));
            }
        }
        if !self.by_area.is_empty() {
            out.push(String::new());
            out.push(t(lang, "oversight-report-area-heading", &[]));
            let mut areas: Vec<&AreaRow> = self.by_area.iter().collect();
            areas.sort_by(|a, b| {
                b.figures
                    .new_cases
                    .cmp(&a.figures.new_cases)
                    .then(b.figures.pending_at_end.cmp(&a.figures.pending_at_end))
                    .then(a.code.cmp(&b.code))
            });
            for a in areas.iter().take(10) {
                let name = if a.name.is_empty() {
                    a.code.as_str().to_owned()
                } else {
                    escape_html(&a.name)
                };
                out.push(t(
                    lang,
                    "oversight-report-area-line",
                    &[
                        ("area", name.into()),
                        ("new", a.figures.new_cases.into()),
                        ("resolved", a.figures.resolved.into()),
                        ("pending", a.figures.pending_at_end.into()),
                        ("overdue", a.figures.overdue_at_end.into()),
                    ],
                ));
            }
            if areas.len() > 10 {
                out.push(t(
                    lang,
                    "oversight-report-more-areas",
                    &[("count", ((areas.len() - 10) as i64).into())],
                ));
            }
        }
        out.push(String::new());
        out.push(t(
            lang,
            "oversight-report-alerts",
            &[("count", (self.open_alerts.len() as i64).into())],
        ));
        out.join("\n")
    }
}

/// When scheduled reports go out: after this local time on the day after
/// the period ends (so nobody's phone buzzes at midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSchedule {
    /// Local time of day from which the previous period's reports are due.
    /// Default 08:00.
    pub send_at: NaiveTime,
}

impl Default for ReportSchedule {
    fn default() -> Self {
        Self {
            send_at: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

/// A report that should have been sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReport {
    /// Which rhythm.
    pub kind: ReportKind,
    /// First day of its period.
    pub period_start: NaiveDate,
    /// The `jobs_done` key that makes it go once (`report:daily:2026-11-20`,
    /// with `:<region>` appended for a scoped report).
    pub key: String,
}

/// The latest finished period of each kind, once the local time in `tz` has
/// reached `schedule.send_at`: yesterday, last week (Monday–Sunday), last
/// month. Sending them is the caller's, once per key (see
/// [`send_due_reports`]). Periods missed while nothing ran are not caught up
/// beyond the latest one.
pub fn due_reports(
    now_ms: i64,
    tz: Tz,
    schedule: ReportSchedule,
    region: Option<&RegionCode>,
) -> Vec<DueReport> {
    let local = crate::clock::ms_to_datetime(now_ms).with_timezone(&tz);
    if local.time() < schedule.send_at {
        return vec![];
    }
    let today = local.date_naive();
    ReportKind::ALL
        .iter()
        .map(|&kind| {
            // The period before the one running today is the latest finished one.
            let period_start = kind.period_start(kind.period_start(today) - Duration::days(1));
            let mut key = format!("report:{}:{}", kind.code(), period_start);
            if let Some(r) = region {
                key.push(':');
                key.push_str(r.as_str());
            }
            DueReport {
                kind,
                period_start,
                key,
            }
        })
        .collect()
}

/// For the jobs sweeper: builds and renders every due report not yet sent,
/// claiming each with `storage::jobs::claim_once` in the caller's
/// transaction, and returns the admin-chat messages to queue in that same
/// transaction. Call it every sweep; it returns nothing most of the time.
pub async fn send_due_reports(
    conn: &mut Conn,
    now_ms: i64,
    schedule: ReportSchedule,
    admin: AdminChat,
    region: Option<&RegionCode>,
) -> Result<Vec<OutMessage>, OversightError> {
    let mut out = vec![];
    for due in due_reports(now_ms, admin.tz, schedule, region) {
        if !storage::jobs::claim_once(conn, &due.key, now_ms).await? {
            continue;
        }
        let report = build(conn, due.kind, due.period_start, region, admin.tz).await?;
        tracing::info!(key = %due.key, "scheduled report sent");
        out.push(OutMessage::text(admin.chat_id, report.render(admin.lang)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_start_on_the_day_the_monday_and_the_first() {
        assert_eq!(
            ReportKind::Daily.period_start(d(2026, 11, 21)),
            d(2026, 11, 21)
        );
        // 2026-11-21 is a Saturday.
        assert_eq!(
            ReportKind::Weekly.period_start(d(2026, 11, 21)),
            d(2026, 11, 16)
        );
        assert_eq!(
            ReportKind::Monthly.period_start(d(2026, 11, 21)),
            d(2026, 11, 1)
        );
        assert_eq!(
            ReportKind::Monthly.period_end(d(2026, 12, 1)),
            d(2027, 1, 1)
        );
        assert_eq!(
            ReportKind::Monthly.previous_start(d(2026, 3, 1)),
            d(2026, 2, 1)
        );
    }

    #[test]
    fn due_reports_wait_for_the_morning_and_name_the_finished_periods() {
        let tz = chrono_tz::Asia::Shanghai;
        let at = |h: u32| {
            tz.with_ymd_and_hms(2026, 12, 1, h, 30, 0)
                .unwrap()
                .timestamp_millis()
        };
        assert!(due_reports(at(7), tz, ReportSchedule::default(), None).is_empty());
        let keys: Vec<String> = due_reports(at(9), tz, ReportSchedule::default(), None)
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(
            keys,
            [
                "report:daily:2026-11-30",
                "report:weekly:2026-11-23",
                "report:monthly:2026-11-01"
            ]
        );
    }
}
