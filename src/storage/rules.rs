//! The routing rules table. Every change bumps the routing version.

use super::{
    classify, flag, from_json_text, get_flag, get_opt_flag, json_text, meta_bump, meta_get,
    BindOptF64, Conn, StorageError,
};
use crate::domain::{Category, CommitteeKind, Rule, RuleConditions, RuleId, RuleTarget};
use sqlx::Row;

/// A rule without its id, as created or replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFields {
    /// Lower first.
    pub priority: i64,
    /// Unique name.
    pub name: String,
    /// Whether it fires.
    pub enabled: bool,
    /// When it applies.
    pub conditions: RuleConditions,
    /// Where cases go.
    pub target: RuleTarget,
    /// Accept deadline override, hours.
    pub accept_hours: Option<i64>,
    /// Resolve deadline override, days.
    pub resolve_days: Option<i64>,
}

impl RuleFields {
    /// The fields of an existing rule.
    pub fn of(rule: &Rule) -> Self {
        Self {
            priority: rule.priority,
            name: rule.name.clone(),
            enabled: rule.enabled,
            conditions: rule.conditions.clone(),
            target: rule.target.clone(),
            accept_hours: rule.accept_hours,
            resolve_days: rule.resolve_days,
        }
    }
}

const COLUMNS: &str =
    "id, priority, name, enabled, categories, region_prefix, min_parties, at_risk, \
    target_committee_id, target_kind, target_specialty, max_distance_km, within_county, \
    accept_hours, resolve_days";

fn row_to_rule(r: &sqlx::any::AnyRow) -> Result<Rule, StorageError> {
    let corrupt = |e: crate::domain::DomainError| StorageError::Corrupt(e.to_string());
    let cats: String = r.try_get("categories")?;
    let target_committee: Option<i64> = r.try_get("target_committee_id")?;
    let target_kind: Option<String> = r.try_get("target_kind")?;
    let specialty: Option<String> = r.try_get("target_specialty")?;
    let target = match (target_committee, target_kind) {
        (Some(committee_id), _) => RuleTarget::Committee { committee_id },
        (None, Some(kind)) => RuleTarget::Nearest {
            kind: CommitteeKind::parse(&kind).map_err(corrupt)?,
            specialty: specialty
                .map(|s| Category::parse(&s))
                .transpose()
                .map_err(corrupt)?,
            max_distance_km: r.try_get("max_distance_km")?,
            within_county: get_flag(r, "within_county")?,
        },
        (None, None) => return Err(StorageError::Corrupt("rule without a target".into())),
    };
    Ok(Rule {
        id: r.try_get("id")?,
        priority: r.try_get("priority")?,
        name: r.try_get("name")?,
        enabled: get_flag(r, "enabled")?,
        conditions: RuleConditions {
            categories: from_json_text(&cats, "rule categories")?,
            region_prefix: r.try_get("region_prefix")?,
            min_parties: r.try_get("min_parties")?,
            at_risk: get_opt_flag(r, "at_risk")?,
        },
        target,
        accept_hours: r.try_get("accept_hours")?,
        resolve_days: r.try_get("resolve_days")?,
    })
}

struct TargetColumns {
    committee: Option<i64>,
    kind: Option<&'static str>,
    specialty: Option<&'static str>,
    max_km: Option<f64>,
    within_county: bool,
}

fn target_columns(t: &RuleTarget) -> TargetColumns {
    match t {
        RuleTarget::Committee { committee_id } => TargetColumns {
            committee: Some(*committee_id),
            kind: None,
            specialty: None,
            max_km: None,
            within_county: false,
        },
        RuleTarget::Nearest {
            kind,
            specialty,
            max_distance_km,
            within_county,
        } => TargetColumns {
            committee: None,
            kind: Some(kind.code()),
            specialty: specialty.map(|s| s.code()),
            max_km: *max_distance_km,
            within_county: *within_county,
        },
    }
}

/// Creates a rule. A taken name is a conflict.
pub async fn insert(conn: &mut Conn, f: &RuleFields, now: i64) -> Result<RuleId, StorageError> {
    let t = target_columns(&f.target);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO routing_rules (priority, name, enabled, categories, region_prefix, min_parties,
            at_risk, target_committee_id, target_kind, target_specialty, max_distance_km,
            within_county, accept_hours, resolve_days, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         RETURNING id",
    )
    .bind(f.priority)
    .bind(&f.name)
    .bind(flag(f.enabled))
    .bind(json_text(&f.conditions.categories))
    .bind(f.conditions.region_prefix.clone())
    .bind(f.conditions.min_parties)
    .bind(f.conditions.at_risk.map(flag))
    .bind(t.committee)
    .bind(t.kind)
    .bind(t.specialty)
    .bind_opt_f64(t.max_km)
    .bind(flag(t.within_county))
    .bind(f.accept_hours)
    .bind(f.resolve_days)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, &format!("rule name '{}'", f.name)))?;
    meta_bump(conn, "routing_version").await?;
    Ok(id)
}

/// Replaces every field of rule `id`.
pub async fn update(
    conn: &mut Conn,
    id: RuleId,
    f: &RuleFields,
    now: i64,
) -> Result<(), StorageError> {
    let t = target_columns(&f.target);
    let done = sqlx::query(
        "UPDATE routing_rules SET priority = $2, name = $3, enabled = $4, categories = $5,
            region_prefix = $6, min_parties = $7, at_risk = $8, target_committee_id = $9,
            target_kind = $10, target_specialty = $11, max_distance_km = $12, within_county = $13,
            accept_hours = $14, resolve_days = $15, updated_at = $16
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.priority)
    .bind(&f.name)
    .bind(flag(f.enabled))
    .bind(json_text(&f.conditions.categories))
    .bind(f.conditions.region_prefix.clone())
    .bind(f.conditions.min_parties)
    .bind(f.conditions.at_risk.map(flag))
    .bind(t.committee)
    .bind(t.kind)
    .bind(t.specialty)
    .bind_opt_f64(t.max_km)
    .bind(flag(t.within_county))
    .bind(f.accept_hours)
    .bind(f.resolve_days)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, &format!("rule name '{}'", f.name)))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound(format!("rule {id}")));
    }
    meta_bump(conn, "routing_version").await?;
    Ok(())
}

/// Creates a rule or replaces the one with the same name. Returns its id.
pub async fn upsert_by_name(
    conn: &mut Conn,
    f: &RuleFields,
    now: i64,
) -> Result<RuleId, StorageError> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM routing_rules WHERE name = $1")
        .bind(&f.name)
        .fetch_optional(&mut *conn)
        .await?;
    match existing {
        Some(id) => {
            update(conn, id, f, now).await?;
            Ok(id)
        }
        None => insert(conn, f, now).await,
    }
}

/// Deletes a rule; false when there was none.
pub async fn delete(conn: &mut Conn, id: RuleId) -> Result<bool, StorageError> {
    let done = sqlx::query("DELETE FROM routing_rules WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() > 0 {
        meta_bump(conn, "routing_version").await?;
    }
    Ok(done.rows_affected() > 0)
}

/// Sets the priorities of the given rules to 10, 20, 30, … in the order given.
pub async fn reorder(conn: &mut Conn, ids: &[RuleId], now: i64) -> Result<(), StorageError> {
    for (i, id) in ids.iter().enumerate() {
        let done =
            sqlx::query("UPDATE routing_rules SET priority = $2, updated_at = $3 WHERE id = $1")
                .bind(*id)
                .bind((i as i64 + 1) * 10)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("rule {id}")));
        }
    }
    meta_bump(conn, "routing_version").await?;
    Ok(())
}

/// One rule.
pub async fn get(conn: &mut Conn, id: RuleId) -> Result<Option<Rule>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM routing_rules WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_rule).transpose()
}

/// Every rule in evaluation order (priority, then id).
pub async fn list(conn: &mut Conn) -> Result<Vec<Rule>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM routing_rules ORDER BY priority, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_rule).collect()
}

/// The current routing version (cheap; checked before each decision).
pub async fn routing_version(conn: &mut Conn) -> Result<i64, StorageError> {
    meta_get(conn, "routing_version").await
}
