//! Early-warning alerts: clusters of related cases and single likely mass
//! disputes, with the cases that belong to each. The detection logic lives in
//! `oversight::clusters`; this module only reads and writes rows.

use super::{classify, Conn, StorageError};
use crate::domain::{CaseNumber, CaseStatus, Category, GeoPoint, RegionCode};
use serde::Serialize;
use sqlx::Row;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Several related cases close together in place and time.
    Cluster,
    /// One case that looks like a mass dispute (many parties).
    MassDispute,
}

impl AlertKind {
    /// The stable code stored in `alerts.kind`.
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Cluster => "cluster",
            AlertKind::MassDispute => "mass_dispute",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cluster" => Some(AlertKind::Cluster),
            "mass_dispute" => Some(AlertKind::MassDispute),
            _ => None,
        }
    }
}

/// Which alerts a list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFilter {
    /// Still open.
    Open,
    /// Closed by an admin.
    Closed,
    /// Both.
    All,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRecord {
    /// Row id (shown to admins as the alert number).
    pub id: i64,
    /// Cluster or single mass dispute.
    pub kind: AlertKind,
    /// `open` or `closed`.
    pub open: bool,
    /// The related categories the alert is about ('labor+debt').
    pub category_group: String,
    /// Region of the first case (for scoping reports and lists).
    pub region_code: RegionCode,
    /// Mean of the member cases' points.
    pub centre: GeoPoint,
    /// Largest distance from the centre to a member case, in km.
    pub radius_km: f64,
    /// Member cases.
    pub case_count: i64,
    /// Sum of the member cases' party counts.
    pub party_total: i64,
    /// Filing instant of the earliest member.
    pub first_case_at: i64,
    /// Filing instant of the latest member.
    pub last_case_at: i64,
    /// When the alert was raised.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// Who closed it (token name).
    pub closed_by: Option<String>,
    /// Why it was closed.
    pub close_reason: String,
}

/// A member case of an alert, as listed with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertCase {
    /// Case row id.
    pub case_id: i64,
    /// Case number.
    pub number: CaseNumber,
    /// Category.
    pub category: Category,
    /// Current status.
    pub status: CaseStatus,
    /// Parties involved.
    pub party_count: i64,
    /// Point used for detection.
    pub point: Option<GeoPoint>,
    /// Region.
    pub region_code: RegionCode,
    /// Filing instant.
    pub submitted_at: i64,
    /// When it joined the alert.
    pub joined_at: i64,
}

/// The values of a new or updated alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertShape {
    /// Mean point.
    pub centre: GeoPoint,
    /// Largest distance from the centre, km.
    pub radius_km: f64,
    /// Members.
    pub case_count: i64,
    /// Sum of party counts.
    pub party_total: i64,
    /// Earliest filing.
    pub first_case_at: i64,
    /// Latest filing.
    pub last_case_at: i64,
}

/// A case considered by cluster detection.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateCase {
    /// Row id.
    pub id: i64,
    /// Category.
    pub category: Category,
    /// Point.
    pub point: GeoPoint,
    /// Parties.
    pub party_count: i64,
    /// Filing instant.
    pub submitted_at: i64,
}

const COLUMNS: &str = "id, kind, status, category_group, region_code, centre_lat, centre_lon, \
    radius_km, case_count, party_total, first_case_at, last_case_at, created_at, updated_at, \
    closed_at, closed_by, close_reason";

fn row_to_alert(r: &sqlx::any::AnyRow) -> Result<AlertRecord, StorageError> {
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    let region: String = r.try_get("region_code")?;
    Ok(AlertRecord {
        id: r.try_get("id")?,
        kind: AlertKind::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("alert kind '{kind}'")))?,
        open: status == "open",
        category_group: r.try_get("category_group")?,
        region_code: RegionCode::parse(&region)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
        centre: GeoPoint {
            lat: r.try_get("centre_lat")?,
            lon: r.try_get("centre_lon")?,
        },
        radius_km: r.try_get("radius_km")?,
        case_count: r.try_get("case_count")?,
        party_total: r.try_get("party_total")?,
        first_case_at: r.try_get("first_case_at")?,
        last_case_at: r.try_get("last_case_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        closed_at: r.try_get("closed_at")?,
        closed_by: r.try_get("closed_by")?,
        close_reason: r.try_get("close_reason")?,
    })
}

/// Cases filed at or after `since`, of one of `categories`, whose point lies
/// in the latitude/longitude box, not withdrawn, and not already a member of
/// any cluster alert (open or closed: a closed cluster's cases must not
/// raise it again). Served by the `cases_cluster` index.
#[allow(clippy::too_many_arguments)]
pub async fn cluster_candidates(
    conn: &mut Conn,
    categories: &[Category],
    lat_min: f64,
    lat_max: f64,
    lon_min: f64,
    lon_max: f64,
    since: i64,
    until: i64,
) -> Result<Vec<CandidateCase>, StorageError> {
    if categories.is_empty() {
        return Ok(vec![]);
    }
    // Category codes are fixed identifiers from the enum, never user text, so
    // listing them inline is safe and lets both planners use the index.
    let list = categories
        .iter()
        .map(|c| format!("'{}'", c.code()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT c.id, c.category, c.lat, c.lon, c.party_count, c.submitted_at
         FROM cases c
         WHERE c.category IN ({list})
           AND c.lat >= $1 AND c.lat <= $2 AND c.lon >= $3 AND c.lon <= $4
           AND c.submitted_at >= $5 AND c.submitted_at <= $6
           AND c.status <> 'withdrawn'
           AND NOT EXISTS (
               SELECT 1 FROM alert_cases ac JOIN alerts a ON a.id = ac.alert_id
               WHERE ac.case_id = c.id AND a.kind = 'cluster')
         ORDER BY c.submitted_at, c.id"
    ))
    .bind(lat_min)
    .bind(lat_max)
    .bind(lon_min)
    .bind(lon_max)
    .bind(since)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let category: String = r.try_get("category")?;
            Ok(CandidateCase {
                id: r.try_get("id")?,
                category: Category::parse(&category)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                point: GeoPoint {
                    lat: r.try_get("lat")?,
                    lon: r.try_get("lon")?,
                },
                party_count: r.try_get("party_count")?,
                submitted_at: r.try_get("submitted_at")?,
            })
        })
        .collect()
}

/// Open alerts of one kind and category group (few at any time).
pub async fn open_of_group(
    conn: &mut Conn,
    kind: AlertKind,
    category_group: &str,
) -> Result<Vec<AlertRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM alerts
         WHERE status = 'open' AND kind = $1 AND category_group = $2 ORDER BY id"
    ))
    .bind(kind.code())
    .bind(category_group)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_alert).collect()
}

/// Stores a new open alert and returns its id.
pub async fn insert(
    conn: &mut Conn,
    kind: AlertKind,
    category_group: &str,
    region_code: &RegionCode,
    shape: &AlertShape,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alerts (kind, status, category_group, region_code, centre_lat, centre_lon,
             radius_km, case_count, party_total, first_case_at, last_case_at, created_at,
             updated_at)
         VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(kind.code())
    .bind(category_group)
    .bind(region_code.as_str())
    .bind(shape.centre.lat)
    .bind(shape.centre.lon)
    .bind(shape.radius_km)
    .bind(shape.case_count)
    .bind(shape.party_total)
    .bind(shape.first_case_at)
    .bind(shape.last_case_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "alert"))?;
    Ok(id)
}

/// Replaces an alert's centre, radius, counts and times and returns the
/// alert as it now is (`None`: no such alert).
pub async fn update_shape(
    conn: &mut Conn,
    id: i64,
    shape: &AlertShape,
    now: i64,
) -> Result<Option<AlertRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "UPDATE alerts SET centre_lat = $1, centre_lon = $2, radius_km = $3, case_count = $4,
             party_total = $5, first_case_at = $6, last_case_at = $7, updated_at = $8
         WHERE id = $9
         RETURNING {COLUMNS}"
    ))
    .bind(shape.centre.lat)
    .bind(shape.centre.lon)
    .bind(shape.radius_km)
    .bind(shape.case_count)
    .bind(shape.party_total)
    .bind(shape.first_case_at)
    .bind(shape.last_case_at)
    .bind(now)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| classify(e, "alert"))?;
    row.as_ref().map(row_to_alert).transpose()
}

/// Adds a case to an alert; adding it twice is a no-op. Returns whether it
/// was added.
pub async fn add_case(
    conn: &mut Conn,
    alert_id: i64,
    case_id: i64,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO alert_cases (alert_id, case_id, joined_at) VALUES ($1, $2, $3)
         ON CONFLICT (alert_id, case_id) DO NOTHING",
    )
    .bind(alert_id)
    .bind(case_id)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "alert case"))?;
    Ok(done.rows_affected() == 1)
}

/// The member cases' detection data (for recomputing centre and radius).
pub async fn member_points(
    conn: &mut Conn,
    alert_id: i64,
) -> Result<Vec<CandidateCase>, StorageError> {
    let rows = sqlx::query(
        "SELECT c.id, c.category, c.lat, c.lon, c.party_count, c.submitted_at
         FROM alert_cases ac JOIN cases c ON c.id = ac.case_id
         WHERE ac.alert_id = $1 AND c.lat IS NOT NULL AND c.lon IS NOT NULL
         ORDER BY c.submitted_at, c.id",
    )
    .bind(alert_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let category: String = r.try_get("category")?;
            Ok(CandidateCase {
                id: r.try_get("id")?,
                category: Category::parse(&category)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                point: GeoPoint {
                    lat: r.try_get("lat")?,
                    lon: r.try_get("lon")?,
                },
                party_count: r.try_get("party_count")?,
                submitted_at: r.try_get("submitted_at")?,
            })
        })
        .collect()
}

/// Whether a case already belongs to an alert of `kind`.
pub async fn case_has_alert(
    conn: &mut Conn,
    case_id: i64,
    kind: AlertKind,
) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_cases ac JOIN alerts a ON a.id = ac.alert_id
         WHERE ac.case_id = $1 AND a.kind = $2",
    )
    .bind(case_id)
    .bind(kind.code())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// One alert.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<AlertRecord>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_alert).transpose()
}

/// Alerts, newest first, optionally only those whose region lies in
/// `region_prefix`; at most `limit`, with ids below `before_id` when given
/// (cursor paging).
pub async fn list(
    conn: &mut Conn,
    filter: AlertFilter,
    region_prefix: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AlertRecord>, StorageError> {
    let status = match filter {
        AlertFilter::Open => "open",
        AlertFilter::Closed => "closed",
        AlertFilter::All => "%",
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM alerts
         WHERE status LIKE $1 AND region_code LIKE $2 AND id < $3
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(status)
    .bind(format!("{}%", region_prefix.unwrap_or("")))
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_alert).collect()
}

/// Alerts open at instant `at` (raised before it, not closed by then) whose
/// region lies in `region_prefix`, oldest first.
pub async fn open_at(
    conn: &mut Conn,
    at: i64,
    region_prefix: &str,
) -> Result<Vec<AlertRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM alerts
         WHERE created_at < $1 AND (closed_at IS NULL OR closed_at >= $1)
           AND region_code LIKE $2
         ORDER BY id"
    ))
    .bind(at)
    .bind(format!("{region_prefix}%"))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_alert).collect()
}

/// An alert's cases, in filing order.
pub async fn cases_of(conn: &mut Conn, alert_id: i64) -> Result<Vec<AlertCase>, StorageError> {
    let rows = sqlx::query(
        "SELECT c.id, c.case_number, c.category, c.status, c.party_count, c.lat, c.lon,
                c.region_code, c.submitted_at, ac.joined_at
         FROM alert_cases ac JOIN cases c ON c.id = ac.case_id
         WHERE ac.alert_id = $1 ORDER BY c.submitted_at, c.id",
    )
    .bind(alert_id)
    .fetch_all(&mut *conn)
    .await?;
    let corrupt = |e: crate::domain::DomainError| StorageError::Corrupt(e.to_string());
    rows.iter()
        .map(|r| {
            let number: String = r.try_get("case_number")?;
            let category: String = r.try_get("category")?;
            let status: String = r.try_get("status")?;
            let region: String = r.try_get("region_code")?;
            let lat: Option<f64> = r.try_get("lat")?;
            let lon: Option<f64> = r.try_get("lon")?;
            Ok(AlertCase {
                case_id: r.try_get("id")?,
                number: CaseNumber::parse(&number).map_err(corrupt)?,
                category: Category::parse(&category).map_err(corrupt)?,
                status: CaseStatus::parse(&status).map_err(corrupt)?,
                party_count: r.try_get("party_count")?,
                point: lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }),
                region_code: RegionCode::parse(&region).map_err(corrupt)?,
                submitted_at: r.try_get("submitted_at")?,
                joined_at: r.try_get("joined_at")?,
            })
        })
        .collect()
}

/// Closes an open alert. Returns false when it does not exist or was
/// already closed.
pub async fn close(
    conn: &mut Conn,
    id: i64,
    by: &str,
    reason: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE alerts SET status = 'closed', closed_at = $1, closed_by = $2, close_reason = $3,
             updated_at = $1
         WHERE id = $4 AND status = 'open'",
    )
    .bind(now)
    .bind(by)
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "alert"))?;
    Ok(done.rows_affected() == 1)
}

/// Queues a newly filed case for early warning, in the filing's own
/// transaction (the worker sees it once that commits).
pub async fn queue_for_early_warning(
    conn: &mut Conn,
    case_id: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO early_warning_queue (case_id, queued_at) VALUES ($1, $2)")
        .bind(case_id)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(e, "early-warning queue"))?;
    Ok(())
}

/// Takes the early-warning turn for the rest of the transaction: a second
/// worker (another instance) waits here until this one commits, so no two
/// grow one cluster from what each read before the other wrote.
pub async fn take_early_warning_turn(conn: &mut Conn, now_ms: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE early_warning_turn SET taken_at = $1 WHERE id = 1")
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The oldest `limit` cases waiting for early warning, in case order.
pub async fn queued_for_early_warning(
    conn: &mut Conn,
    limit: i64,
) -> Result<Vec<i64>, StorageError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT case_id FROM early_warning_queue ORDER BY case_id LIMIT $1")
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
    Ok(ids)
}

/// Removes handled cases from the early-warning queue.
pub async fn dequeue_early_warning(conn: &mut Conn, case_ids: &[i64]) -> Result<(), StorageError> {
    super::execute_for_ids(
        conn,
        "DELETE FROM early_warning_queue WHERE case_id IN (",
        &[],
        case_ids,
    )
    .await
}
