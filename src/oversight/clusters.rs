//! Early warning (研判预警): clusters of related cases and likely mass
//! disputes.
//!
//! Detection is incremental: a filing queues its case, and [`run_worker`]
//! runs [`on_case_filed`] for queued cases after the filing has committed,
//! one transaction at a time, in case order; it looks only at the new case's
//! neighbourhood. Every filing of a mass filing joins the same cluster, so
//! doing this inside the filings' own transactions would make them wait for
//! one another on that cluster's row. A cluster is
//! at least [`ClusterSettings::min_cases`] cases of related categories (see
//! [`related_categories`]) filed within [`ClusterSettings::window_days`] of
//! each other and within [`ClusterSettings::radius_km`] of the new case.
//! It raises **one** alert; later cases of the same category group that fall
//! within the radius of the alert's centre and within the window of its last
//! case join that alert instead of raising another. A case belongs to at most
//! one cluster alert, ever: cases of a closed cluster do not raise it again.
//!
//! Candidates come from the `cases_cluster` index (category, lat, lon,
//! filing instant) through a bounding box around the new case and the time
//! window, then an exact great-circle check; no query scans all cases.

use super::{local_time, webhooks, AdminChat, OversightError};
use crate::domain::{CaseStatus, Category, GeoPoint, EARTH_RADIUS_KM};
use crate::i18n::{t, Lang};
use crate::outgoing::{escape_html, OutMessage};
use crate::storage::alerts::{self, AlertKind, AlertRecord, AlertShape, CandidateCase};
use crate::storage::cases::{self, CaseRecord};
use crate::storage::{Conn, StorageError};

const DAY_MS: i64 = 86_400_000;

/// Thresholds of early warning, all configurable.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterSettings {
    /// Cases within this distance (km, great circle) of a new case count
    /// towards its cluster. Default 2 km.
    pub radius_km: f64,
    /// Cases filed within this many days before the new case count. Default 7.
    pub window_days: i64,
    /// A cluster needs at least this many cases (the new one included).
    /// Default 5.
    pub min_cases: usize,
    /// A single case with at least this many parties is a likely mass
    /// dispute, whatever its category. Default 20.
    pub mass_party_threshold: i64,
    /// An expropriation or labour (wage arrears) case with at least this
    /// many parties is a likely mass dispute. Default 10.
    pub sensitive_party_threshold: i64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            radius_km: 2.0,
            window_days: 7,
            min_cases: 5,
            mass_party_threshold: 20,
            sensitive_party_threshold: 10,
        }
    }
}

/// The categories treated as one for clustering. The relation is a
/// partition (each category belongs to exactly one group), so a group has
/// one stable key:
///
/// * labour ~ debt: wage arrears reach the system as either;
/// * expropriation ~ housing ~ land: one demolition or land-taking project
///   produces all three;
/// * every other category is its own group.
pub fn related_categories(c: Category) -> &'static [Category] {
    use Category::*;
    const LABOR_DEBT: &[Category] = &[Labor, Debt];
    const LAND_TAKING: &[Category] = &[Housing, Land, Expropriation];
    match c {
        Labor | Debt => LABOR_DEBT,
        Housing | Land | Expropriation => LAND_TAKING,
        Family => &[Family],
        Neighbor => &[Neighbor],
        PropertyMgmt => &[PropertyMgmt],
        Traffic => &[Traffic],
        Medical => &[Medical],
        Consumer => &[Consumer],
        Environment => &[Environment],
        Other => &[Other],
    }
}

/// The stable key of a category's group: its codes joined by `+`
/// (`labor+debt`).
pub fn group_key(c: Category) -> String {
    related_categories(c)
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join("+")
}

/// The categories of a stored group key (unknown codes are skipped).
pub fn group_categories(key: &str) -> Vec<Category> {
    key.split('+')
        .filter_map(|c| Category::parse(c).ok())
        .collect()
}

/// What changed in the alerts because of one filed case.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertChange {
    /// Alerts raised by this case (a cluster reaching the threshold, a
    /// likely mass dispute), as stored after the change.
    pub raised: Vec<AlertRecord>,
    /// Alerts this case joined.
    pub grown: Vec<AlertRecord>,
    /// What to tell the admin chat (empty without one): queue these with the
    /// filing.
    pub messages: Vec<OutMessage>,
}

/// Runs early warning for a case filed and committed (see [`run_queued`]),
/// in the caller's transaction. Raises or grows alerts, queues the
/// `alert_raised` webhook deliveries for raised alerts, and returns what to
/// tell the admin chat; `None` when no alert changed.
pub async fn on_case_filed(
    conn: &mut Conn,
    case_id: i64,
    settings: &ClusterSettings,
    now_ms: i64,
    admin: Option<AdminChat>,
) -> Result<Option<AlertChange>, OversightError> {
    let case = cases::get(conn, case_id)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("case {case_id}")))?;
    on_filed(conn, case, settings, now_ms, admin).await
}

/// [`on_case_filed`] for a case already read (early warning reads a pass's
/// cases in one statement; nothing here writes a case).
async fn on_filed(
    conn: &mut Conn,
    case: CaseRecord,
    settings: &ClusterSettings,
    now_ms: i64,
    admin: Option<AdminChat>,
) -> Result<Option<AlertChange>, OversightError> {
    if case.status == CaseStatus::Withdrawn {
        return Ok(None);
    }
    let mut change = AlertChange {
        raised: vec![],
        grown: vec![],
        messages: vec![],
    };

    if is_likely_mass_dispute(&case, settings)
        && !alerts::case_has_alert(conn, case.id, AlertKind::MassDispute).await?
    {
        // Filing always stores a point (shared, or the region's centroid);
        // a hand-made row without one is placed by its region.
        let point = match case.point {
            Some(p) => p,
            None => crate::lifecycle::region_point(conn, &case.region_code)
                .await
                .unwrap_or(GeoPoint { lat: 0.0, lon: 0.0 }),
        };
        let shape = shape_of(&[CandidateCase {
            id: case.id,
            category: case.category,
            point,
            party_count: case.party_count,
            submitted_at: case.submitted_at,
        }]);
        let id = alerts::insert(
            conn,
            AlertKind::MassDispute,
            &group_key(case.category),
            &case.region_code,
            &shape,
            now_ms,
        )
        .await?;
        alerts::add_case(conn, id, case.id, now_ms).await?;
        let alert = load(conn, id).await?;
        tracing::warn!(case = %case.number, alert = id, "likely mass dispute");
        if let Some(a) = admin {
            change
                .messages
                .push(mass_dispute_message(conn, a, &alert, &case).await?);
        }
        change.raised.push(alert);
    }

    if let Some(point) = case.point {
        cluster_step(conn, &case, point, settings, now_ms, admin, &mut change).await?;
    }

    for alert in &change.raised {
        webhooks::emit(conn, webhooks::WebhookEvent::AlertRaised(alert.id), now_ms).await?;
    }
    if change.raised.is_empty() && change.grown.is_empty() {
        Ok(None)
    } else {
        Ok(Some(change))
    }
}

/// Whether the admin chat hears that a cluster grew to `count` cases: at
/// every case up to 10, then at 20, 50, 100, 200, 500, 1,000 and so on. A
/// whole town filing at once would otherwise send one message per case,
/// more than Telegram lets a chat receive (one a second), and the chat
/// would still be catching up hours later.
pub fn tells_admin_at(count: i64) -> bool {
    if count <= 10 {
        return true;
    }
    let mut decade = 10;
    loop {
        for m in [2, 5, 10] {
            let milestone = decade * m;
            if milestone >= count {
                return milestone == count;
            }
        }
        decade *= 10;
    }
}

/// Whether one case on its own looks like a mass dispute (群体性纠纷).
pub fn is_likely_mass_dispute(case: &CaseRecord, settings: &ClusterSettings) -> bool {
    let sensitive = matches!(case.category, Category::Expropriation | Category::Labor);
    case.party_count >= settings.mass_party_threshold
        || (sensitive && case.party_count >= settings.sensitive_party_threshold)
}

async fn cluster_step(
    conn: &mut Conn,
    case: &CaseRecord,
    point: GeoPoint,
    settings: &ClusterSettings,
    now_ms: i64,
    admin: Option<AdminChat>,
    change: &mut AlertChange,
) -> Result<(), OversightError> {
    if alerts::case_has_alert(conn, case.id, AlertKind::Cluster).await? {
        return Ok(());
    }
    let window_ms = settings.window_days.max(0) * DAY_MS;
    let key = group_key(case.category);

    // Join the nearest open alert of the group whose centre is within reach
    // and whose last case is recent enough.
    let open = alerts::open_of_group(conn, AlertKind::Cluster, &key).await?;
    let nearest = open
        .into_iter()
        .filter(|a| case.submitted_at - a.last_case_at <= window_ms)
        .map(|a| (a.centre.distance_km(&point), a))
        .filter(|(d, _)| *d <= settings.radius_km)
        .min_by(|x, y| x.0.total_cmp(&y.0));
    if let Some((_, alert)) = nearest {
        alerts::add_case(conn, alert.id, case.id, now_ms).await?;
        let shape = if needs_exact_shape(alert.case_count + 1) {
            shape_of(&alerts::member_points(conn, alert.id).await?)
        } else {
            grown_shape(&alert, point, case.party_count, case.submitted_at)
        };
        let alert = alerts::update_shape(conn, alert.id, &shape, now_ms)
            .await?
            .ok_or_else(|| OversightError::NotFound(format!("alert {}", alert.id)))?;
        tracing::warn!(case = %case.number, alert = alert.id, cases = alert.case_count, "cluster grew");
        if let (Some(a), true) = (admin, tells_admin_at(alert.case_count)) {
            change.messages.push(grown_message(a, &alert, case));
        }
        change.grown.push(alert);
        return Ok(());
    }

    let (lat_min, lat_max, lon_min, lon_max) = bounding_box(point, settings.radius_km);
    let candidates = alerts::cluster_candidates(
        conn,
        related_categories(case.category),
        lat_min,
        lat_max,
        lon_min,
        lon_max,
        case.submitted_at - window_ms,
        case.submitted_at,
    )
    .await?;
    let mut members: Vec<CandidateCase> = candidates
        .into_iter()
        .filter(|c| c.point.distance_km(&point) <= settings.radius_km)
        .collect();
    if !members.iter().any(|c| c.id == case.id) {
        // Filed with a clock behind the window or an odd point: still the anchor.
        members.push(CandidateCase {
            id: case.id,
            category: case.category,
            point,
            party_count: case.party_count,
            submitted_at: case.submitted_at,
        });
    }
    if members.len() < settings.min_cases.max(1) {
        return Ok(());
    }
    let shape = shape_of(&members);
    let id = alerts::insert(
        conn,
        AlertKind::Cluster,
        &key,
        &case.region_code,
        &shape,
        now_ms,
    )
    .await?;
    for m in &members {
        alerts::add_case(conn, id, m.id, now_ms).await?;
    }
    let alert = load(conn, id).await?;
    tracing::warn!(case = %case.number, alert = id, cases = members.len(), "cluster raised");
    if let Some(a) = admin {
        change.messages.push(raised_message(conn, a, &alert).await?);
    }
    change.raised.push(alert);
    Ok(())
}

/// The latitude/longitude box that contains every point within `km` of `p`
/// (slightly larger; the exact distance is checked afterwards).
pub fn bounding_box(p: GeoPoint, km: f64) -> (f64, f64, f64, f64) {
    let dlat = (km / EARTH_RADIUS_KM).to_degrees();
    let cos = p.lat.to_radians().cos();
    // Near the poles a small circle spans every longitude.
    let dlon = if cos < 1e-6 {
        180.0
    } else {
        (dlat / cos).min(180.0)
    };
    (p.lat - dlat, p.lat + dlat, p.lon - dlon, p.lon + dlon)
}

/// Centre (mean point), radius (largest distance from it), counts and times
/// of a set of cases.
fn shape_of(members: &[CandidateCase]) -> AlertShape {
    let n = members.len().max(1) as f64;
    let centre = GeoPoint {
        lat: members.iter().map(|m| m.point.lat).sum::<f64>() / n,
        lon: members.iter().map(|m| m.point.lon).sum::<f64>() / n,
    };
    let radius_km = members
        .iter()
        .map(|m| centre.distance_km(&m.point))
        .fold(0.0_f64, f64::max);
    AlertShape {
        centre,
        // Stored to metres: enough for people, stable across backends.
        radius_km: (radius_km * 1000.0).round() / 1000.0,
        case_count: members.len() as i64,
        party_total: members.iter().map(|m| m.party_count).sum(),
        first_case_at: members.iter().map(|m| m.submitted_at).min().unwrap_or(0),
        last_case_at: members.iter().map(|m| m.submitted_at).max().unwrap_or(0),
    }
}

/// Whether an alert growing to `count` cases has its shape recomputed from
/// every member: always while it is small, then at every 20th case, and
/// past 1,000 cases at every 200th, so the members read per filing stay
/// about five whatever the size. In between it grows by [`grown_shape`],
/// so a whole town filing at once (an alert of thousands of cases) does
/// not read every member per filing.
fn needs_exact_shape(count: i64) -> bool {
    if count <= 100 {
        true
    } else if count <= 1000 {
        count % 20 == 0
    } else {
        count % 200 == 0
    }
}

/// The shape of `alert` with one more case at `point`, without reading the
/// members again. Counts, times and the centre (a running mean) are exact;
/// the radius is a bound that holds every member (none is further from the
/// new centre than the old radius plus the distance the centre moved), a
/// little larger than the exact one until the next recomputation.
fn grown_shape(alert: &AlertRecord, point: GeoPoint, parties: i64, at: i64) -> AlertShape {
    let n = alert.case_count.max(0) as f64;
    let centre = GeoPoint {
        lat: (alert.centre.lat * n + point.lat) / (n + 1.0),
        lon: (alert.centre.lon * n + point.lon) / (n + 1.0),
    };
    let moved = alert.centre.distance_km(&centre);
    let radius_km = (alert.radius_km + moved).max(centre.distance_km(&point));
    AlertShape {
        centre,
        // Rounded up (to a millimetre), never down: rounding to the nearest
        // metre at every step would, over a few hundred steps, leave a
        // member outside the radius.
        radius_km: (radius_km * 1_000_000.0).ceil() / 1_000_000.0,
        case_count: alert.case_count + 1,
        party_total: alert.party_total + parties,
        first_case_at: alert.first_case_at.min(at),
        last_case_at: alert.last_case_at.max(at),
    }
}

async fn load(conn: &mut Conn, id: i64) -> Result<AlertRecord, OversightError> {
    alerts::get(conn, id)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("alert {id}")))
}

/// The label of a category group ("劳动争议、欠薪 / 借贷债务").
pub fn group_label(lang: Lang, key: &str) -> String {
    group_categories(key)
        .into_iter()
        .map(|c| t(lang, &c.message_id(), &[]))
        .collect::<Vec<_>>()
        .join(" / ")
}

async fn raised_message(
    conn: &mut Conn,
    admin: AdminChat,
    alert: &AlertRecord,
) -> Result<OutMessage, OversightError> {
    let region = crate::lifecycle::region_label(conn, &alert.region_code).await?;
    let numbers = alerts::cases_of(conn, alert.id)
        .await?
        .into_iter()
        .map(|c| c.number.as_str().to_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let lang = admin.lang;
    Ok(OutMessage::text(
        admin.chat_id,
        t(
            lang,
            "oversight-alert-cluster-raised",
            &[
                ("id", alert.id.into()),
                (
                    "categories",
                    group_label(lang, &alert.category_group).into(),
                ),
                ("count", alert.case_count.into()),
                ("radius", format!("{:.1}", alert.radius_km).into()),
                ("region", escape_html(&region).into()),
                ("first", local_time(alert.first_case_at, admin.tz).into()),
                ("last", local_time(alert.last_case_at, admin.tz).into()),
                ("numbers", numbers.into()),
            ],
        ),
    ))
}

fn grown_message(admin: AdminChat, alert: &AlertRecord, case: &CaseRecord) -> OutMessage {
    let lang = admin.lang;
    OutMessage::text(
        admin.chat_id,
        t(
            lang,
            "oversight-alert-cluster-grown",
            &[
                ("id", alert.id.into()),
                (
                    "categories",
                    group_label(lang, &alert.category_group).into(),
                ),
                ("number", case.number.as_str().to_owned().into()),
                ("count", alert.case_count.into()),
                ("radius", format!("{:.1}", alert.radius_km).into()),
            ],
        ),
    )
}

async fn mass_dispute_message(
    conn: &mut Conn,
    admin: AdminChat,
    alert: &AlertRecord,
    case: &CaseRecord,
) -> Result<OutMessage, OversightError> {
    let region = crate::lifecycle::region_label(conn, &case.region_code).await?;
    let lang = admin.lang;
    Ok(OutMessage::text(
        admin.chat_id,
        t(
            lang,
            "oversight-alert-mass-dispute",
            &[
                ("id", alert.id.into()),
                ("number", case.number.as_str().to_owned().into()),
                ("category", t(lang, &case.category.message_id(), &[]).into()),
                ("parties", case.party_count.into()),
                ("region", escape_html(&region).into()),
            ],
        ),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_admin_chat_hears_of_growth_case_by_case_then_at_milestones() {
        let told: Vec<i64> = (6..=2_500).filter(|n| super::tells_admin_at(*n)).collect();
        assert_eq!(
            told,
            vec![6, 7, 8, 9, 10, 20, 50, 100, 200, 500, 1_000, 2_000]
        );
    }

    use super::*;

    #[test]
    fn related_categories_form_a_partition() {
        for c in Category::ALL {
            let group = related_categories(c);
            assert!(group.contains(&c), "{c} not in its own group");
            for other in group {
                assert_eq!(related_categories(*other), group, "{c} ~ {other}");
            }
            assert_eq!(group_categories(&group_key(c)), group.to_vec());
        }
        assert_eq!(group_key(Category::Debt), "labor+debt");
    }

    #[test]
    fn a_grown_alert_keeps_every_member_inside_its_radius() {
        let base = GeoPoint {
            lat: 38.606,
            lon: 100.801,
        };
        let member = |i: usize| {
            let k = i as f64;
            CandidateCase {
                id: i as i64,
                category: Category::Labor,
                point: GeoPoint {
                    lat: base.lat + 0.004 * (k * 1.7).sin(),
                    lon: base.lon + 0.004 * (k * 0.9).cos(),
                },
                party_count: 1 + (i % 3) as i64,
                submitted_at: 1_000 + 10 * i as i64,
            }
        };
        let mut members: Vec<CandidateCase> = (0..5).map(member).collect();
        let first = shape_of(&members);
        let mut alert = AlertRecord {
            id: 1,
            kind: AlertKind::Cluster,
            open: true,
            category_group: "labor+debt".into(),
            region_code: crate::domain::RegionCode::parse("620722").unwrap(),
            centre: first.centre,
            radius_km: first.radius_km,
            case_count: first.case_count,
            party_total: first.party_total,
            first_case_at: first.first_case_at,
            last_case_at: first.last_case_at,
            created_at: 0,
            updated_at: 0,
            closed_at: None,
            closed_by: None,
            close_reason: String::new(),
        };
        // Past 1,000 cases, 200 grown steps between recomputations.
        for i in 5..1250 {
            let m = member(i);
            let grown = if needs_exact_shape(i as i64 + 1) {
                shape_of(&[members.clone(), vec![m.clone()]].concat())
            } else {
                grown_shape(&alert, m.point, m.party_count, m.submitted_at)
            };
            members.push(m);
            let exact = shape_of(&members);
            assert_eq!(grown.case_count, exact.case_count);
            assert_eq!(grown.party_total, exact.party_total);
            assert_eq!(grown.first_case_at, exact.first_case_at);
            assert_eq!(grown.last_case_at, exact.last_case_at);
            assert!(grown.centre.distance_km(&exact.centre) < 0.001, "{i}");
            for m in &members {
                assert!(grown.centre.distance_km(&m.point) <= grown.radius_km + 0.001);
            }
            // A close bound: within 0.1 km of the exact radius.
            assert!(
                grown.radius_km <= exact.radius_km + 0.1,
                "{i}: {} vs {}",
                grown.radius_km,
                exact.radius_km
            );
            alert.centre = grown.centre;
            alert.radius_km = grown.radius_km;
            alert.case_count = grown.case_count;
            alert.party_total = grown.party_total;
            alert.first_case_at = grown.first_case_at;
            alert.last_case_at = grown.last_case_at;
        }
    }

    #[test]
    fn bounding_box_contains_the_circle() {
        let p = GeoPoint {
            lat: 38.43,
            lon: 100.82,
        };
        let (a, b, c, d) = bounding_box(p, 2.0);
        for (lat, lon) in [(a, p.lon), (b, p.lon), (p.lat, c), (p.lat, d)] {
            let dist = p.distance_km(&GeoPoint { lat, lon });
            assert!((dist - 2.0).abs() < 0.01, "{dist}");
        }
    }
}

/// Cases one early-warning transaction handles at most. A case costs
/// about a millisecond in a large cluster, and while the pass runs the
/// filings wait for the database (on SQLite, for its one writer), so passes
/// are kept short.
pub const QUEUE_BATCH: i64 = 8;

/// How long the worker lets filings gather after it is poked: under load
/// one pass then handles several cases and costs one commit, not one each.
pub const QUEUE_GATHER: std::time::Duration = std::time::Duration::from_millis(100);

/// What one pass over the early-warning queue did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueRun {
    /// Cases taken from the queue.
    pub cases: usize,
    /// Admin-chat messages queued in the outbox.
    pub messages: usize,
}

/// Runs early warning for up to [`QUEUE_BATCH`] queued cases, oldest case
/// first, in one transaction: alerts raised or grown, their webhook
/// deliveries and admin-chat messages queued, and the cases removed from
/// the queue, all committed together. The transaction first takes the
/// early-warning turn, so workers of several instances never interleave.
pub async fn run_queued(
    storage: &crate::storage::Storage,
    settings: &ClusterSettings,
    admin: Option<AdminChat>,
    now_ms: i64,
) -> Result<QueueRun, OversightError> {
    let mut tx = storage.begin().await?;
    alerts::take_early_warning_turn(&mut tx, now_ms).await?;
    let started = std::time::Instant::now();
    let ids = alerts::queued_for_early_warning(&mut tx, QUEUE_BATCH).await?;
    if ids.is_empty() {
        tx.rollback().await.map_err(StorageError::from)?;
        return Ok(QueueRun::default());
    }
    let mut messages = Vec::new();
    let mut filed = cases::get_many(&mut tx, &ids).await?;
    for id in &ids {
        let case = filed
            .remove(id)
            .ok_or_else(|| OversightError::NotFound(format!("case {id}")))?;
        if let Some(change) = on_filed(&mut tx, case, settings, now_ms, admin).await? {
            messages.extend(change.messages);
        }
    }
    if !messages.is_empty() {
        crate::storage::outbox::enqueue_ids(&mut tx, &messages, None, now_ms).await?;
    }
    alerts::dequeue_early_warning(&mut tx, &ids).await?;
    tx.commit().await.map_err(StorageError::from)?;
    tracing::debug!(
        cases = ids.len(),
        messages = messages.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "early warning pass"
    );
    Ok(QueueRun {
        cases: ids.len(),
        messages: messages.len(),
    })
}

/// Runs [`run_queued`] until the queue is empty.
pub async fn drain_queue(
    storage: &crate::storage::Storage,
    settings: &ClusterSettings,
    admin: Option<AdminChat>,
    now_ms: i64,
) -> Result<QueueRun, OversightError> {
    let mut total = QueueRun::default();
    loop {
        let run = run_queued(storage, settings, admin, now_ms).await?;
        total.cases += run.cases;
        total.messages += run.messages;
        if run.cases < QUEUE_BATCH as usize {
            return Ok(total);
        }
    }
}

/// How often the worker looks at the queue without being poked (cases
/// queued by an instance that stopped before its worker got to them).
pub const QUEUE_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The early-warning worker: drains the queue at start, [`QUEUE_GATHER`]
/// after `queued` is poked (a filing committed) and every
/// [`QUEUE_SWEEP_EVERY`], and
/// pokes the sender when it queued admin messages. A failed pass is logged
/// and retried: the queue rows go only with the pass's commit.
pub async fn run_worker(
    storage: crate::storage::Storage,
    clock: crate::clock::SharedClock,
    admin: Option<AdminChat>,
    queued: std::sync::Arc<tokio::sync::Notify>,
    outbox_notify: std::sync::Arc<tokio::sync::Notify>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let settings = ClusterSettings::default();
    loop {
        match drain_queue(&storage, &settings, admin, clock.now_ms()).await {
            Ok(run) => {
                if run.messages > 0 {
                    outbox_notify.notify_one();
                }
            }
            Err(e) => tracing::warn!(error = %e, "early warning failed; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = queued.notified() => {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(QUEUE_GATHER) => {}
                }
            }
            _ = tokio::time::sleep(QUEUE_SWEEP_EVERY) => {}
        }
    }
}
