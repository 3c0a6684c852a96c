//! Routing rules: CRUD, reorder, validation and the dry-run
//! (`/routing/simulate`). Every change bumps the routing version in the same
//! transaction, so the next decision on every instance uses it.

use super::committees::CommitteeOut;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::{audit, AdminState};
use crate::domain::rule::{check_target_resolvable, validate_rule_fields};
use crate::domain::{
    Category, Committee, CommitteeKind, DomainError, GeoPoint, RegionCode, Rule, RuleConditions,
    RuleId, RuleTarget,
};
use crate::i18n::Lang;
use crate::routing::CaseFacts;
use crate::storage::{self, rules::RuleFields, Conn, StorageError};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn default_true() -> bool {
    true
}

/// When a rule applies; every condition set must hold.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"categories": ["labor"], "region_prefix": "620722", "min_parties": null, "at_risk": null}))]
pub struct ConditionsDto {
    /// Category codes; empty means any category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The case's region code starts with this (2 to 12 digits).
    #[serde(default)]
    pub region_prefix: Option<String>,
    /// At least this many people involved (1–100000).
    #[serde(default)]
    pub min_parties: Option<i64>,
    /// The at-risk flag has this value.
    #[serde(default)]
    pub at_risk: Option<bool>,
}

/// Where a matching case goes.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetDto {
    /// One named committee (must exist and be active).
    Committee {
        /// The committee's id.
        committee_id: i64,
    },
    /// The nearest active committee of a kind.
    Nearest {
        /// `village`, `township`, `county`, `industry` or `court`.
        kind: String,
        /// Only committees with this specialty (industry only).
        #[serde(default)]
        specialty: Option<String>,
        /// Only committees at most this far, km (0–5000).
        #[serde(default)]
        max_distance_km: Option<f64>,
        /// Only committees in the case's county.
        #[serde(default)]
        within_county: bool,
    },
}

/// A rule to create, replace or validate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "劳动争议 → 劳动调委会", "priority": 20, "enabled": true,
    "conditions": {"categories": ["labor"]},
    "target": {"type": "nearest", "kind": "industry", "specialty": "labor", "within_county": true},
    "accept_hours": null, "resolve_days": null}))]
pub struct RuleIn {
    /// A name admins recognise, unique, 1–200 characters.
    pub name: String,
    /// Lower first, 0–1000000000.
    pub priority: i64,
    /// Disabled rules are kept but never fire (default true).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// When it applies.
    #[serde(default)]
    pub conditions: ConditionsDto,
    /// Where cases go.
    pub target: TargetDto,
    /// Accept deadline for cases it routes, hours (1–720; default from configuration).
    #[serde(default)]
    pub accept_hours: Option<i64>,
    /// Resolve deadline, days (1–365; default from configuration).
    #[serde(default)]
    pub resolve_days: Option<i64>,
}

/// A stored rule.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "name": "劳动争议 → 劳动调委会", "priority": 20, "enabled": true,
    "conditions": {"categories": ["labor"], "region_prefix": null, "min_parties": null, "at_risk": null},
    "target": {"type": "nearest", "kind": "industry", "specialty": "labor", "max_distance_km": null, "within_county": true},
    "accept_hours": null, "resolve_days": null}))]
pub struct RuleOut {
    /// Database id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Priority, lower first.
    pub priority: i64,
    /// Whether it fires.
    pub enabled: bool,
    /// Conditions.
    pub conditions: ConditionsDto,
    /// Target.
    pub target: TargetDto,
    /// Accept deadline override, hours.
    pub accept_hours: Option<i64>,
    /// Resolve deadline override, days.
    pub resolve_days: Option<i64>,
}

impl From<Rule> for RuleOut {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id,
            name: r.name,
            priority: r.priority,
            enabled: r.enabled,
            conditions: ConditionsDto {
                categories: r
                    .conditions
                    .categories
                    .iter()
                    .map(|c| c.code().to_owned())
                    .collect(),
                region_prefix: r.conditions.region_prefix,
                min_parties: r.conditions.min_parties,
                at_risk: r.conditions.at_risk,
            },
            target: match r.target {
                RuleTarget::Committee { committee_id } => TargetDto::Committee { committee_id },
                RuleTarget::Nearest {
                    kind,
                    specialty,
                    max_distance_km,
                    within_county,
                } => TargetDto::Nearest {
                    kind: kind.code().to_owned(),
                    specialty: specialty.map(|s| s.code().to_owned()),
                    max_distance_km,
                    within_county,
                },
            },
            accept_hours: r.accept_hours,
            resolve_days: r.resolve_days,
        }
    }
}

fn prefixed(prefix: &str) -> impl Fn(DomainError) -> DomainError + '_ {
    move |e| {
        let field = if e.field.starts_with(prefix) {
            e.field
        } else {
            format!("{prefix}{}", e.field.rsplit('.').next().unwrap_or(&e.field))
        };
        DomainError::new(field, e.message)
    }
}

impl RuleIn {
    /// Parses the shape into storage fields (no database checks).
    pub fn parse(&self) -> Result<RuleFields, DomainError> {
        let mut categories = Vec::new();
        for c in &self.conditions.categories {
            let c = Category::parse(c)
                .map_err(|e| DomainError::new("conditions.categories", e.message))?;
            if !categories.contains(&c) {
                categories.push(c);
            }
        }
        let region_prefix = self
            .conditions
            .region_prefix
            .as_deref()
            .map(RegionCode::parse_prefix)
            .transpose()
            .map_err(|e| DomainError::new("conditions.region_prefix", e.message))?;
        let conditions = RuleConditions {
            categories,
            region_prefix,
            min_parties: self.conditions.min_parties,
            at_risk: self.conditions.at_risk,
        };
        conditions.validate().map_err(prefixed("conditions."))?;
        let target = match &self.target {
            TargetDto::Committee { committee_id } => RuleTarget::Committee {
                committee_id: *committee_id,
            },
            TargetDto::Nearest {
                kind,
                specialty,
                max_distance_km,
                within_county,
            } => RuleTarget::Nearest {
                kind: CommitteeKind::parse(kind)
                    .map_err(|e| DomainError::new("target.kind", e.message))?,
                specialty: specialty
                    .as_deref()
                    .map(Category::parse)
                    .transpose()
                    .map_err(|e| DomainError::new("target.specialty", e.message))?,
                max_distance_km: *max_distance_km,
                within_county: *within_county,
            },
        };
        target.validate().map_err(prefixed("target."))?;
        validate_rule_fields(
            &self.name,
            self.priority,
            self.accept_hours,
            self.resolve_days,
        )?;
        Ok(RuleFields {
            priority: self.priority,
            name: self.name.trim().to_owned(),
            enabled: self.enabled,
            conditions,
            target,
            accept_hours: self.accept_hours,
            resolve_days: self.resolve_days,
        })
    }
}

/// One problem found in a rule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Problem {
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A warning about a rule that is valid but may not do what is meant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Warning {
    /// The earlier rule concerned, when there is one.
    pub rule_id: Option<i64>,
    /// What to look at.
    pub message: String,
}

/// The result of checking a rule against the current table.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"valid": true, "errors": [], "warnings": [{"rule_id": 1,
    "message": "rule 1 '有人身安全风险 → 县矛调中心' comes first and matches every case this rule matches; this rule fires only when that one finds no committee with free capacity"}]}))]
pub struct RuleCheck {
    /// No errors: the rule can be saved.
    pub valid: bool,
    /// What prevents saving it.
    pub errors: Vec<Problem>,
    /// What may make it never fire.
    pub warnings: Vec<Warning>,
}

/// Checks a rule against the current rules and committees: its own shape,
/// that its target can resolve to an active committee, and whether an
/// earlier enabled rule matches every case it matches (so it can only fire
/// when that one finds no free committee). Kept as one function so it can
/// be switched to routing's own validation.
pub fn check_rule(
    f: &RuleFields,
    replacing: Option<RuleId>,
    rules: &[Rule],
    committees: &[Committee],
) -> RuleCheck {
    let mut errors = Vec::new();
    if let Err(e) = check_target_resolvable(&f.target, committees) {
        errors.push(Problem {
            field: e.field,
            message: e.message,
        });
    }
    let mut warnings = Vec::new();
    if !f.enabled {
        warnings.push(Warning {
            rule_id: None,
            message: "the rule is disabled and never fires".into(),
        });
    }
    let own_id = replacing.unwrap_or(RuleId::MAX);
    for r in rules.iter().filter(|r| r.enabled && r.id != own_id) {
        let earlier = (r.priority, r.id) < (f.priority, own_id);
        if earlier && r.conditions.covers(&f.conditions) {
            warnings.push(Warning {
                rule_id: Some(r.id),
                message: format!(
                    "rule {} '{}' comes first and matches every case this rule matches; this rule \
                     fires only when that one finds no committee with free capacity",
                    r.id, r.name
                ),
            });
        }
    }
    RuleCheck {
        valid: errors.is_empty(),
        errors,
        warnings,
    }
}

async fn check_against_table(
    conn: &mut Conn,
    f: &RuleFields,
    replacing: Option<RuleId>,
) -> ApiResult<RuleCheck> {
    let rules = storage::rules::list(conn).await?;
    let committees = storage::committees::list_all(conn).await?;
    Ok(check_rule(f, replacing, &rules, &committees))
}

/// The new order of every rule.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ids": [3, 1, 2]}))]
pub struct ReorderIn {
    /// Every rule id, once each, in the new order; priorities become 10, 20, 30, …
    pub ids: Vec<i64>,
}

/// Options of the validate call.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValidateQuery {
    /// The id of the rule this would replace (an edit), if any.
    pub replacing: Option<i64>,
}

fn default_parties() -> i64 {
    1
}

fn default_lang() -> String {
    "zh-CN".into()
}

/// A hypothetical case.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "labor", "region_code": "620722101201", "party_count": 1,
    "at_risk": false, "language": "zh-CN"}))]
pub struct SimulateIn {
    /// Category code.
    pub category: String,
    /// Region code of where it happened (must exist).
    pub region_code: String,
    /// Latitude; with `lon`, else the region's centroid is used.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub lon: Option<f64>,
    /// People involved (1–100000, default 1).
    #[serde(default = "default_parties")]
    pub party_count: i64,
    /// Anyone at risk of harm (default false).
    #[serde(default)]
    pub at_risk: bool,
    /// Language of the rendered explanation: `zh-CN` (default), `zh-TW`, `en`.
    #[serde(default = "default_lang")]
    pub language: String,
    /// Committees to treat as having declined the case.
    #[serde(default)]
    pub exclude_committee_ids: Vec<i64>,
}

/// The decision routing would take now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"committee": null, "rule_id": 2, "distance_km": 12.3, "accept_hours": null,
    "resolve_days": null, "explanation": {"via": {"type": "rule", "rule_id": 2, "rule_name": "劳动争议 → 劳动调委会"},
    "committee_id": 9, "committee_name": "民乐县劳动人事争议人民调解委员会", "distance_km": 12.3, "skipped": []},
    "text": "按规则 2「劳动争议 → 劳动调委会」分派到民乐县劳动人事争议人民调解委员会，距离 12.3 公里。"}))]
pub struct SimulateOut {
    /// The committee chosen; null means the unrouted queue.
    pub committee: Option<CommitteeOut>,
    /// The rule that chose it.
    pub rule_id: Option<i64>,
    /// Distance from the case, km.
    pub distance_km: Option<f64>,
    /// Accept deadline override of the rule, hours.
    pub accept_hours: Option<i64>,
    /// Resolve deadline override of the rule, days.
    pub resolve_days: Option<i64>,
    /// Why, structured: `via` (rule, nearest_in_county, county_centre,
    /// escalation, unrouted), the committee, and what was skipped.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    /// Why, as text in the requested language.
    pub text: String,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(reorder_rules))
        .routes(routes!(validate_rule))
        .routes(routes!(simulate))
}

async fn load(conn: &mut Conn, id: i64) -> ApiResult<Rule> {
    storage::rules::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("rule {id} not found")))
}

fn first_error(check: &RuleCheck) -> ApiResult<()> {
    match check.errors.first() {
        Some(p) => Err(ApiError::invalid(p.field.clone(), p.message.clone())),
        None => Ok(()),
    }
}

/// Lists rules in evaluation order (priority, then id).
#[utoipa::path(get, path = "/api/v1/routing/rules", tag = "routing",
    responses(
        (status = 200, description = "Rules", body = Vec<RuleOut>),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_rules(
    State(state): State<AdminState>,
    _caller: Caller,
) -> ApiResult<axum::Json<Vec<RuleOut>>> {
    let mut conn = state.storage.acquire().await?;
    let rules = storage::rules::list(&mut conn).await?;
    Ok(axum::Json(rules.into_iter().map(RuleOut::from).collect()))
}

/// Creates a rule. Its target must resolve to an active committee. Admin only.
#[utoipa::path(post, path = "/api/v1/routing/rules", tag = "routing", request_body = RuleIn,
    responses(
        (status = 201, description = "Created", body = RuleOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable, or the target resolves to nothing", body = ErrorBody),
    ))]
async fn create_rule(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<RuleIn>,
) -> ApiResult<(StatusCode, axum::Json<RuleOut>)> {
    caller.require_admin()?;
    let f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    first_error(&check_against_table(&mut tx, &f, None).await?)?;
    let id = storage::rules::insert(&mut tx, &f, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "rule.create",
        "rule",
        &id.to_string(),
        serde_json::json!({ "name": f.name, "priority": f.priority }),
    )
    .await?;
    let r = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/routing/rules/{id}", tag = "routing",
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = RuleOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such rule", body = ErrorBody),
    ))]
async fn get_rule(
    State(state): State<AdminState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RuleOut>> {
    let mut conn = state.storage.acquire().await?;
    Ok(axum::Json(load(&mut conn, id).await?.into()))
}

/// Replaces a rule. Admin only.
#[utoipa::path(put, path = "/api/v1/routing/rules/{id}", tag = "routing", request_body = RuleIn,
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Replaced", body = RuleOut),
        (status = 400, description = "Malformed JSON or id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such rule", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable, or the target resolves to nothing", body = ErrorBody),
    ))]
async fn update_rule(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<RuleIn>,
) -> ApiResult<axum::Json<RuleOut>> {
    caller.require_admin()?;
    let f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    load(&mut tx, id).await?;
    first_error(&check_against_table(&mut tx, &f, Some(id)).await?)?;
    storage::rules::update(&mut tx, id, &f, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "rule.update",
        "rule",
        &id.to_string(),
        serde_json::json!({ "name": f.name, "priority": f.priority, "enabled": f.enabled }),
    )
    .await?;
    let r = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(r.into()))
}

/// Deletes a rule. Admin only.
#[utoipa::path(delete, path = "/api/v1/routing/rules/{id}", tag = "routing",
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such rule", body = ErrorBody),
    ))]
async fn delete_rule(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let r = load(&mut tx, id).await?;
    storage::rules::delete(&mut tx, id).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "rule.delete",
        "rule",
        &id.to_string(),
        serde_json::json!({ "name": r.name }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts every rule in a new order. Admin only.
#[utoipa::path(post, path = "/api/v1/routing/rules/reorder", tag = "routing", request_body = ReorderIn,
    responses(
        (status = 200, description = "The rules in their new order", body = Vec<RuleOut>),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "The ids are not every rule exactly once", body = ErrorBody),
    ))]
async fn reorder_rules(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<ReorderIn>,
) -> ApiResult<axum::Json<Vec<RuleOut>>> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let rules = storage::rules::list(&mut tx).await?;
    let mut given = input.ids.clone();
    given.sort_unstable();
    let mut all: Vec<i64> = rules.iter().map(|r| r.id).collect();
    all.sort_unstable();
    if given != all {
        return Err(ApiError::invalid(
            "ids",
            "ids must list every rule exactly once",
        ));
    }
    storage::rules::reorder(&mut tx, &input.ids, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "rule.reorder",
        "rule",
        "",
        serde_json::json!({ "ids": input.ids }),
    )
    .await?;
    let rules = storage::rules::list(&mut tx).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(rules.into_iter().map(RuleOut::from).collect()))
}

/// Checks a rule against the current rules and committees without saving
/// it: errors that would refuse it (bad values, a target that resolves to no
/// active committee) and warnings (an earlier rule that matches every case
/// this one matches, a disabled rule). A rule whose JSON is well-formed is
/// always answered with 200.
#[utoipa::path(post, path = "/api/v1/routing/rules/validate", tag = "routing", request_body = RuleIn,
    params(ValidateQuery),
    responses(
        (status = 200, description = "The check", body = RuleCheck),
        (status = 400, description = "Malformed JSON or query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Wrong JSON types or unknown fields", body = ErrorBody),
    ))]
async fn validate_rule(
    State(state): State<AdminState>,
    _caller: Caller,
    Query(q): Query<ValidateQuery>,
    Json(input): Json<RuleIn>,
) -> ApiResult<axum::Json<RuleCheck>> {
    let f = match input.parse() {
        Ok(f) => f,
        Err(e) => {
            return Ok(axum::Json(RuleCheck {
                valid: false,
                errors: vec![Problem {
                    field: e.field,
                    message: e.message,
                }],
                warnings: vec![],
            }))
        }
    };
    let mut conn = state.storage.acquire().await?;
    Ok(axum::Json(
        check_against_table(&mut conn, &f, q.replacing).await?,
    ))
}

/// Where a case with these facts would go now, and why: the same decision
/// and explanation a real filing would get (nothing is written).
#[utoipa::path(post, path = "/api/v1/routing/simulate", tag = "routing", request_body = SimulateIn,
    responses(
        (status = 200, description = "The decision", body = SimulateOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn simulate(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<SimulateIn>,
) -> ApiResult<axum::Json<SimulateOut>> {
    let category = Category::parse(&input.category)?;
    let region_code = RegionCode::parse(&input.region_code)?;
    if !(1..=100_000).contains(&input.party_count) {
        return Err(ApiError::invalid(
            "party_count",
            "party_count must be 1 to 100000",
        ));
    }
    let lang = Lang::parse(&input.language)
        .ok_or_else(|| ApiError::invalid("language", "expected zh-CN, zh-TW or en"))?;
    let mut conn = state.storage.acquire().await?;
    let point = match (input.lat, input.lon) {
        (Some(lat), Some(lon)) => GeoPoint::parse(lat, lon)?,
        (None, None) => region_centroid(&mut conn, &region_code).await?,
        (Some(_), None) => return Err(ApiError::invalid("lon", "give lat and lon together")),
        (None, Some(_)) => return Err(ApiError::invalid("lat", "give lat and lon together")),
    };
    let facts = CaseFacts {
        category,
        point,
        region_code,
        party_count: input.party_count,
        at_risk: input.at_risk,
    };
    let d = state
        .router
        .decide(&mut conn, &facts, &input.exclude_committee_ids)
        .await?;
    Ok(axum::Json(SimulateOut {
        text: d.explanation.render(lang),
        explanation: serde_json::to_value(&d.explanation).unwrap_or_default(),
        committee: d
            .committee
            .map(|c| CommitteeOut::from(c).for_caller(&caller)),
        rule_id: d.rule_id,
        distance_km: d.distance_km.map(|k| (k * 10.0).round() / 10.0),
        accept_hours: d.accept_hours,
        resolve_days: d.resolve_days,
    }))
}

/// The centroid of a region, or of its nearest ancestor that has one.
pub(crate) async fn region_centroid(conn: &mut Conn, code: &RegionCode) -> ApiResult<GeoPoint> {
    let mut next = Some(code.clone());
    let mut first = true;
    while let Some(c) = next {
        match storage::regions::get(conn, c.as_str()).await? {
            Some(r) => {
                if let Some(p) = r.centroid {
                    return Ok(p);
                }
                next = r.parent_code;
            }
            None if first => {
                return Err(ApiError::invalid(
                    "region_code",
                    format!("region {code} is not known"),
                ))
            }
            None => break,
        }
        first = false;
    }
    Err(ApiError::invalid(
        "lat",
        format!("region {code} has no known location; give lat and lon"),
    ))
}
