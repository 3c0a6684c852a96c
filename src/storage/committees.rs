//! Committees and mediators' committees. Every change bumps the routing
//! version so each instance reloads its spatial index.

use super::{classify, flag, from_json_text, get_flag, json_text, meta_bump, Conn, StorageError};
use crate::domain::{Category, Committee, CommitteeId, CommitteeKind, GeoPoint, RegionCode};
use sqlx::Row;

/// Fields of a committee to create or update (everything but the id).
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeFields {
    /// Stable external code.
    pub code: String,
    /// Full name.
    pub name: String,
    /// Its kind.
    pub kind: CommitteeKind,
    /// Specialties (industry committees only).
    pub specialties: Vec<Category>,
    /// The region it serves.
    pub region_code: RegionCode,
    /// Where it sits.
    pub location: GeoPoint,
    /// Street address.
    pub address: String,
    /// Office phone.
    pub phone: String,
    /// Open cases it can hold.
    pub capacity: i64,
    /// Whether it takes cases.
    pub active: bool,
    /// Illustrative demo data.
    pub illustrative: bool,
}

const COLUMNS: &str = "id, code, name, kind, specialties, region_code, lat, lon, address, phone, \
                       capacity, active, illustrative";

pub(crate) fn row_to_committee(r: &sqlx::any::AnyRow) -> Result<Committee, StorageError> {
    let corrupt = |e: crate::domain::DomainError| StorageError::Corrupt(e.to_string());
    let kind: String = r.try_get("kind")?;
    let specialties: String = r.try_get("specialties")?;
    let region: String = r.try_get("region_code")?;
    Ok(Committee {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: CommitteeKind::parse(&kind).map_err(corrupt)?,
        specialties: from_json_text(&specialties, "committee specialties")?,
        region_code: RegionCode::parse(&region).map_err(corrupt)?,
        location: GeoPoint {
            lat: r.try_get("lat")?,
            lon: r.try_get("lon")?,
        },
        address: r.try_get("address")?,
        phone: r.try_get("phone")?,
        capacity: r.try_get("capacity")?,
        active: get_flag(r, "active")?,
        illustrative: get_flag(r, "illustrative")?,
    })
}

/// Creates a committee, or updates the one with the same code. Returns its id.
pub async fn upsert_by_code(
    conn: &mut Conn,
    f: &CommitteeFields,
    now: i64,
) -> Result<CommitteeId, StorageError> {
    write(
        conn,
        f,
        now,
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
           specialties = excluded.specialties, region_code = excluded.region_code,
           lat = excluded.lat, lon = excluded.lon, address = excluded.address,
           phone = excluded.phone, capacity = excluded.capacity, active = excluded.active,
           illustrative = excluded.illustrative, updated_at = excluded.updated_at",
        &format!("committee {}", f.code),
    )
    .await
}

/// Creates a committee; a taken code is a [`StorageError::Conflict`].
pub async fn insert(
    conn: &mut Conn,
    f: &CommitteeFields,
    now: i64,
) -> Result<CommitteeId, StorageError> {
    write(conn, f, now, "", &format!("committee code {}", f.code)).await
}

/// Inserts a committee (with `on_conflict` appended) and bumps the routing
/// version.
async fn write(
    conn: &mut Conn,
    f: &CommitteeFields,
    now: i64,
    on_conflict: &str,
    what: &str,
) -> Result<CommitteeId, StorageError> {
    let id: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO committees (code, name, kind, specialties, region_code, lat, lon, address, phone,
                                 capacity, active, illustrative, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13){on_conflict}
         RETURNING id"
    ))
    .bind(&f.code)
    .bind(&f.name)
    .bind(f.kind.code())
    .bind(json_text(&f.specialties))
    .bind(f.region_code.as_str())
    .bind(f.location.lat)
    .bind(f.location.lon)
    .bind(&f.address)
    .bind(&f.phone)
    .bind(f.capacity)
    .bind(flag(f.active))
    .bind(flag(f.illustrative))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, what))?;
    meta_bump(conn, "routing_version").await?;
    Ok(id)
}

/// Replaces every field of committee `id`.
pub async fn update(
    conn: &mut Conn,
    id: CommitteeId,
    f: &CommitteeFields,
    now: i64,
) -> Result<(), StorageError> {
    let what = format!("committee {id}");
    let done = sqlx::query(
        "UPDATE committees SET code = $2, name = $3, kind = $4, specialties = $5, region_code = $6,
           lat = $7, lon = $8, address = $9, phone = $10, capacity = $11, active = $12,
           illustrative = $13, updated_at = $14
         WHERE id = $1",
    )
    .bind(id)
    .bind(&f.code)
    .bind(&f.name)
    .bind(f.kind.code())
    .bind(json_text(&f.specialties))
    .bind(f.region_code.as_str())
    .bind(f.location.lat)
    .bind(f.location.lon)
    .bind(&f.address)
    .bind(&f.phone)
    .bind(f.capacity)
    .bind(flag(f.active))
    .bind(flag(f.illustrative))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, &what))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound(what));
    }
    meta_bump(conn, "routing_version").await?;
    Ok(())
}

/// Turns a committee on or off.
pub async fn set_active(
    conn: &mut Conn,
    id: CommitteeId,
    active: bool,
    now: i64,
) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE committees SET active = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(flag(active))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound(format!("committee {id}")));
    }
    meta_bump(conn, "routing_version").await?;
    Ok(())
}

/// Deletes a committee nothing refers to; a referenced one is a
/// [`StorageError::MissingReference`]-free conflict the caller turns into
/// deactivation.
pub async fn delete(conn: &mut Conn, id: CommitteeId) -> Result<bool, StorageError> {
    let what = format!("committee {id}");
    let done = sqlx::query("DELETE FROM committees WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| match classify(e, &what) {
            StorageError::MissingReference(w) => StorageError::Conflict(format!("{w} (in use)")),
            other => other,
        })?;
    if done.rows_affected() > 0 {
        meta_bump(conn, "routing_version").await?;
    }
    Ok(done.rows_affected() > 0)
}

/// One committee by id.
pub async fn get(conn: &mut Conn, id: CommitteeId) -> Result<Option<Committee>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM committees WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_committee).transpose()
}

/// One committee by its external code.
pub async fn get_by_code(conn: &mut Conn, code: &str) -> Result<Option<Committee>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM committees WHERE code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_committee).transpose()
}

/// Every committee, ordered by id (what the routing index loads).
pub async fn list_all(conn: &mut Conn) -> Result<Vec<Committee>, StorageError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM committees ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row_to_committee).collect()
}

/// Open cases (assigned, accepted, scheduled: what a capacity is measured
/// against) of each of the committees `ids`, read through
/// `cases (committee_id, status)`; an id with no committee is left out.
pub async fn open_case_counts(
    conn: &mut Conn,
    ids: &[CommitteeId],
) -> Result<std::collections::HashMap<CommitteeId, i64>, StorageError> {
    let rows = super::fetch_for_ids(
        conn,
        "SELECT m.id, (SELECT COUNT(*) FROM cases c WHERE c.committee_id = m.id
                 AND c.status IN ('assigned', 'accepted', 'scheduled'))
         FROM committees m WHERE m.id IN (",
        ids,
    )
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Whether any case refers to the committee.
pub async fn is_referenced(conn: &mut Conn, id: CommitteeId) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM cases WHERE committee_id = $1)
              + (SELECT COUNT(*) FROM mediators WHERE committee_id = $1)
              + (SELECT COUNT(*) FROM routing_rules WHERE target_committee_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Whether a case's history names the committee (a timeline event or a
/// decline), so that deleting it would leave the history pointing at nothing.
pub async fn appears_in_case_history(
    conn: &mut Conn,
    id: CommitteeId,
) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM case_declines WHERE committee_id = $1)
              + (SELECT COUNT(*) FROM case_events WHERE committee_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}
