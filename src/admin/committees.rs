//! Committees: CRUD, deactivation instead of deletion when something refers
//! to one, and bulk import as JSON or CSV. Every change bumps the routing
//! version in the same transaction, so every instance routes with it at once.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path, Query, Text};
use super::regions::ImportResult;
use super::{audit, AdminState, IMPORT_BODY_LIMIT};
use crate::domain::committee::validate_committee_fields;
use crate::domain::{Category, Committee, CommitteeKind, DomainError, GeoPoint, RegionCode};
use crate::import::{import, ImportFiles};
use crate::storage::{self, committees::CommitteeFields, Conn, StorageError};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn default_capacity() -> i64 {
    100
}

fn default_true() -> bool {
    true
}

/// A committee to create or replace.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "620722-LB", "name": "六坝镇人民调解委员会", "kind": "township",
    "specialties": [], "region_code": "620722101", "lat": 38.605, "lon": 100.8,
    "address": "六坝镇政府一楼", "phone": "0936-4421234", "capacity": 50, "active": true}))]
pub struct CommitteeIn {
    /// Stable external code, 1–64 characters without spaces.
    pub code: String,
    /// Full name, 1–200 characters.
    pub name: String,
    /// `village`, `township`, `county`, `industry` or `court`.
    pub kind: String,
    /// Category codes (industry committees only, at least one).
    #[serde(default)]
    pub specialties: Vec<String>,
    /// The region it serves (6, 9 or 12 digits; must exist).
    pub region_code: String,
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
    /// Street address shown to residents (at most 500 characters).
    #[serde(default)]
    pub address: String,
    /// Office phone shown to residents (at most 40 characters).
    #[serde(default)]
    pub phone: String,
    /// Open cases it can hold at once, 0–1000000 (default 100).
    #[serde(default = "default_capacity")]
    pub capacity: i64,
    /// Whether it takes cases (default true).
    #[serde(default = "default_true")]
    pub active: bool,
}

impl CommitteeIn {
    /// Parses into storage fields; errors name the field.
    pub fn parse(&self) -> Result<CommitteeFields, DomainError> {
        let kind = CommitteeKind::parse(&self.kind)?;
        let mut specialties = Vec::new();
        for s in &self.specialties {
            let c = Category::parse(s).map_err(|e| DomainError::new("specialties", e.message))?;
            if !specialties.contains(&c) {
                specialties.push(c);
            }
        }
        let region_code = RegionCode::parse(&self.region_code)?;
        let location = GeoPoint::parse(self.lat, self.lon)?;
        validate_committee_fields(&self.code, &self.name, kind, &specialties, self.capacity)?;
        if self.address.chars().count() > 500 {
            return Err(DomainError::new(
                "address",
                "address must be at most 500 characters",
            ));
        }
        if self.phone.chars().count() > 40 {
            return Err(DomainError::new(
                "phone",
                "phone must be at most 40 characters",
            ));
        }
        Ok(CommitteeFields {
            code: self.code.trim().to_owned(),
            name: self.name.trim().to_owned(),
            kind,
            specialties,
            region_code,
            location,
            address: self.address.trim().to_owned(),
            phone: self.phone.trim().to_owned(),
            capacity: self.capacity,
            active: self.active,
            illustrative: false,
        })
    }
}

/// A committee.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 7, "code": "620722-LB", "name": "六坝镇人民调解委员会", "kind": "township",
    "specialties": [], "region_code": "620722101", "lat": 38.605, "lon": 100.8,
    "address": "六坝镇政府一楼", "phone": "0936-4421234", "capacity": 50, "active": true, "illustrative": false}))]
pub struct CommitteeOut {
    /// Database id.
    pub id: i64,
    /// Stable external code.
    pub code: String,
    /// Full name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Category codes.
    pub specialties: Vec<String>,
    /// Region served.
    pub region_code: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Street address.
    pub address: String,
    /// Office phone.
    pub phone: String,
    /// Capacity.
    pub capacity: i64,
    /// Whether it takes cases.
    pub active: bool,
    /// Whether it is illustrative demo data.
    pub illustrative: bool,
}

impl CommitteeOut {
    /// The committee as `caller` may see it: office phones are public, but
    /// a mobile number entered as a committee's phone is a person's and is
    /// masked for viewers like any other.
    pub fn for_caller(mut self, caller: &Caller) -> Self {
        if !caller.sees_personal_data() {
            if let Some(masked) = super::mask::phone(&self.phone) {
                self.phone = masked;
            }
        }
        self
    }
}

impl From<Committee> for CommitteeOut {
    fn from(c: Committee) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
            kind: c.kind.code().to_owned(),
            specialties: c.specialties.iter().map(|s| s.code().to_owned()).collect(),
            region_code: c.region_code.as_str().to_owned(),
            lat: c.location.lat,
            lon: c.location.lon,
            address: c.address,
            phone: c.phone,
            capacity: c.capacity,
            active: c.active,
            illustrative: c.illustrative,
        }
    }
}

/// Filters of the committee list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommitteeQuery {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only committees whose region code starts with this.
    pub region: Option<String>,
    /// Only active (true) or inactive (false) committees.
    pub active: Option<bool>,
}

/// What a delete did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"result": "deactivated"}))]
pub struct DeleteResult {
    /// `deleted`, or `deactivated` when cases, mediators or rules refer to it.
    pub result: String,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    let (s1, p1, json_import) = routes!(import_committees_json);
    let (s2, p2, csv_import) = routes!(import_committees_csv);
    OpenApiRouter::new()
        .routes(routes!(list_committees, create_committee))
        .routes(routes!(get_committee, update_committee, delete_committee))
        .routes((
            s1,
            p1,
            json_import.layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        ))
        .routes((
            s2,
            p2,
            csv_import.layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        ))
}

async fn check_region(conn: &mut Conn, f: &CommitteeFields, field: &str) -> ApiResult<()> {
    if storage::regions::get(conn, f.region_code.as_str())
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            field,
            format!("region {} is not known", f.region_code),
        ));
    }
    Ok(())
}

async fn load(conn: &mut Conn, id: i64) -> ApiResult<Committee> {
    storage::committees::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("committee {id} not found")))
}

/// Lists committees, ordered by id.
#[utoipa::path(get, path = "/api/v1/committees", tag = "committees", params(CommitteeQuery),
    responses(
        (status = 200, description = "Committees", body = Vec<CommitteeOut>),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_committees(
    State(state): State<AdminState>,
    caller: Caller,
    Query(q): Query<CommitteeQuery>,
) -> ApiResult<axum::Json<Vec<CommitteeOut>>> {
    let mut conn = state.storage.acquire().await?;
    let all = storage::committees::list_all(&mut conn).await?;
    let kind = q.kind.as_deref().map(str::trim);
    let region = q.region.as_deref().map(str::trim);
    Ok(axum::Json(
        all.into_iter()
            .filter(|c| kind.is_none_or(|k| c.kind.code() == k))
            .filter(|c| region.is_none_or(|r| c.region_code.as_str().starts_with(r)))
            .filter(|c| q.active.is_none_or(|a| c.active == a))
            .map(|c| CommitteeOut::from(c).for_caller(&caller))
            .collect(),
    ))
}

/// Creates a committee. Admin only.
#[utoipa::path(post, path = "/api/v1/committees", tag = "committees", request_body = CommitteeIn,
    responses(
        (status = 201, description = "Created", body = CommitteeOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The code is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn create_committee(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<CommitteeIn>,
) -> ApiResult<(StatusCode, axum::Json<CommitteeOut>)> {
    caller.require_admin()?;
    let f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    check_region(&mut tx, &f, "region_code").await?;
    let id = storage::committees::insert(&mut tx, &f, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "committee.create",
        "committee",
        &id.to_string(),
        serde_json::json!({ "code": f.code }),
    )
    .await?;
    let c = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok((StatusCode::CREATED, axum::Json(c.into())))
}

/// One committee.
#[utoipa::path(get, path = "/api/v1/committees/{id}", tag = "committees",
    params(("id" = i64, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The committee", body = CommitteeOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such committee", body = ErrorBody),
    ))]
async fn get_committee(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CommitteeOut>> {
    let mut conn = state.storage.acquire().await?;
    Ok(axum::Json(
        CommitteeOut::from(load(&mut conn, id).await?).for_caller(&caller),
    ))
}

/// Replaces a committee. Admin only.
#[utoipa::path(put, path = "/api/v1/committees/{id}", tag = "committees", request_body = CommitteeIn,
    params(("id" = i64, Path, description = "Committee id")),
    responses(
        (status = 200, description = "Replaced", body = CommitteeOut),
        (status = 400, description = "Malformed JSON or id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such committee", body = ErrorBody),
        (status = 409, description = "The code is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn update_committee(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<CommitteeIn>,
) -> ApiResult<axum::Json<CommitteeOut>> {
    caller.require_admin()?;
    let mut f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let before = load(&mut tx, id).await?;
    // Demo data stays marked as such when edited.
    f.illustrative = before.illustrative;
    check_region(&mut tx, &f, "region_code").await?;
    storage::committees::update(&mut tx, id, &f, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "committee.update",
        "committee",
        &id.to_string(),
        serde_json::json!({ "code": f.code, "active": f.active }),
    )
    .await?;
    let c = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(c.into()))
}

/// Deletes a committee, or deactivates it when cases (or their history),
/// mediators or rules refer to it (the timeline must keep pointing at it). Admin only.
#[utoipa::path(delete, path = "/api/v1/committees/{id}", tag = "committees",
    params(("id" = i64, Path, description = "Committee id")),
    responses(
        (status = 200, description = "Deleted or deactivated", body = DeleteResult),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such committee", body = ErrorBody),
    ))]
async fn delete_committee(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<DeleteResult>> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let c = load(&mut tx, id).await?;
    let referenced = storage::committees::is_referenced(&mut tx, id).await?
        || storage::committees::appears_in_case_history(&mut tx, id).await?;
    let result = if referenced {
        storage::committees::set_active(&mut tx, id, false, now).await?;
        "deactivated"
    } else {
        storage::committees::delete(&mut tx, id).await?;
        "deleted"
    };
    audit(
        &mut tx,
        now,
        &caller,
        &format!("committee.{}", &result[..result.len() - 1]),
        "committee",
        &id.to_string(),
        serde_json::json!({ "code": c.code }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(DeleteResult {
        result: result.into(),
    }))
}

/// Creates or updates committees from a JSON array, keyed by code. Every
/// item is checked first; an error names the item (`[3].region_code`) and
/// nothing is written. Admin only.
#[utoipa::path(post, path = "/api/v1/committees/import", tag = "committees",
    request_body = Vec<CommitteeIn>,
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Larger than 5 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "An item is wrong", body = ErrorBody),
    ))]
async fn import_committees_json(
    State(state): State<AdminState>,
    caller: Caller,
    Json(items): Json<Vec<CommitteeIn>>,
) -> ApiResult<axum::Json<ImportResult>> {
    caller.require_admin()?;
    let mut parsed = Vec::with_capacity(items.len());
    let mut codes = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let f = item
            .parse()
            .map_err(|e| ApiError::invalid(format!("[{i}].{}", e.field), e.message))?;
        if !codes.insert(f.code.clone()) {
            return Err(ApiError::invalid(
                format!("[{i}].code"),
                format!("{} appears twice", f.code),
            ));
        }
        parsed.push(f);
    }
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    for (i, f) in parsed.iter().enumerate() {
        check_region(&mut tx, f, &format!("[{i}].region_code")).await?;
        storage::committees::upsert_by_code(&mut tx, f, now).await?;
    }
    audit(
        &mut tx,
        now,
        &caller,
        "committee.import",
        "committee",
        "",
        serde_json::json!({ "committees": parsed.len(), "format": "json" }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(ImportResult {
        regions: 0,
        committees: parsed.len(),
    }))
}

/// Creates or updates committees from CSV (the `jiefen import` format:
/// `code,name,kind,specialties,region_code,lat,lon,address,phone,capacity,active,illustrative`).
/// A bad row names its line and field and nothing is written. Admin only.
#[utoipa::path(post, path = "/api/v1/committees/import/csv", tag = "committees",
    request_body(content = String, content_type = "text/csv",
        example = "code,name,kind,region_code,lat,lon\n620722-LB,六坝镇人民调解委员会,township,620722101,38.605,100.8\n"),
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        (status = 400, description = "Body is not UTF-8", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Larger than 5 MiB", body = ErrorBody),
        (status = 422, description = "A row is wrong", body = ErrorBody),
    ))]
async fn import_committees_csv(
    State(state): State<AdminState>,
    caller: Caller,
    Text(csv): Text,
) -> ApiResult<axum::Json<ImportResult>> {
    caller.require_admin()?;
    let now = state.now();
    let files = ImportFiles {
        committees: Some(csv),
        ..Default::default()
    };
    let summary = import(&state.storage, &files, now).await?;
    let mut tx = state.storage.begin().await?;
    audit(
        &mut tx,
        now,
        &caller,
        "committee.import",
        "committee",
        "",
        serde_json::json!({ "committees": summary.committees, "format": "csv" }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(summary.into()))
}
