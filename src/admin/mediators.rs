//! Mediators: CRUD and invite links. A mediator's name and phone are
//! personal data: every read is audited and viewers see them masked.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::{audit, iso, iso_opt, mask, AdminState};
use crate::domain::{DomainError, Phone};
use crate::i18n::Lang;
use crate::secrets::{hash_secret, random_secret};
use crate::storage::{
    self, mediators::MediatorFields, mediators::MediatorRecord, Conn, StorageError,
};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn default_language() -> String {
    "zh-CN".into()
}

fn default_true() -> bool {
    true
}

/// A mediator to create or replace.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"committee_id": 7, "name": "张建国", "phone": "13812345678", "language": "zh-CN", "active": true}))]
pub struct MediatorIn {
    /// The committee they work for (must exist).
    pub committee_id: i64,
    /// Full name, 1–100 characters.
    pub name: String,
    /// Mainland mobile number (`+86`, spaces and dashes accepted), or null.
    #[serde(default)]
    pub phone: Option<String>,
    /// `zh-CN` (default), `zh-TW` or `en`.
    #[serde(default = "default_language")]
    pub language: String,
    /// Whether they receive assignments (default true).
    #[serde(default = "default_true")]
    pub active: bool,
}

impl MediatorIn {
    fn parse(&self) -> Result<MediatorFields, DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::new("name", "name must be 1 to 100 characters"));
        }
        let phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(Phone::parse(p)?.as_str().to_owned()),
        };
        let language = Lang::parse(&self.language)
            .ok_or_else(|| DomainError::new("language", "expected zh-CN, zh-TW or en"))?;
        Ok(MediatorFields {
            committee_id: self.committee_id,
            name: name.to_owned(),
            phone,
            language: language.code().to_owned(),
            active: self.active,
        })
    }
}

/// A mediator (masked for viewers: name `张**`, phone `138****5678`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 3, "committee_id": 7, "name": "张建国", "phone": "13812345678",
    "language": "zh-CN", "active": true, "reachable": true, "linked": false, "linked_at": null,
    "created_at": "2026-11-21T08:00:00Z"}))]
pub struct MediatorOut {
    /// Database id.
    pub id: i64,
    /// Committee.
    pub committee_id: i64,
    /// Name (masked for viewers).
    pub name: String,
    /// Phone (masked for viewers).
    pub phone: Option<String>,
    /// Language code.
    pub language: String,
    /// Receives assignments.
    pub active: bool,
    /// False once Telegram refused a message to them.
    pub reachable: bool,
    /// Whether a Telegram account is linked.
    pub linked: bool,
    /// When linked.
    pub linked_at: Option<String>,
    /// When created.
    pub created_at: String,
}

fn out(m: MediatorRecord, caller: &Caller) -> MediatorOut {
    let personal = caller.sees_personal_data();
    MediatorOut {
        id: m.id,
        committee_id: m.committee_id,
        name: if personal {
            m.name
        } else {
            mask::name(&m.name)
        },
        phone: m
            .phone
            .and_then(|p| if personal { Some(p) } else { mask::phone(&p) }),
        language: m.language,
        active: m.active,
        reachable: m.reachable,
        linked: m.linked_at.is_some(),
        linked_at: iso_opt(m.linked_at),
        created_at: iso(m.created_at),
    }
}

/// Filters of the mediator list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MediatorQuery {
    /// Only mediators of this committee.
    pub committee_id: Option<i64>,
}

/// What a delete did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"result": "deleted"}))]
pub struct MediatorDeleteResult {
    /// `deleted`, or `deactivated` when cases name the mediator.
    pub result: String,
}

/// Options of a new invite.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_hours": 72}))]
pub struct InviteIn {
    /// Hours the link works, 1–720 (default 72).
    #[serde(default)]
    pub valid_hours: Option<i64>,
}

/// A new invite link, shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://t.me/jiefen_bot?start=Ab3dE5gH7jK9mN1pQ3sT", "expires_at": "2026-11-24T08:00:00Z"}))]
pub struct InviteOut {
    /// The link to send to the mediator; it works once.
    pub url: String,
    /// When it stops working.
    pub expires_at: String,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_mediators, create_mediator))
        .routes(routes!(get_mediator, update_mediator, delete_mediator))
        .routes(routes!(create_invite))
}

async fn load(conn: &mut Conn, id: i64) -> ApiResult<MediatorRecord> {
    storage::mediators::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("mediator {id} not found")))
}

async fn check_committee(conn: &mut Conn, id: i64) -> ApiResult<()> {
    if storage::committees::get(conn, id).await?.is_none() {
        return Err(ApiError::invalid(
            "committee_id",
            format!("committee {id} does not exist"),
        ));
    }
    Ok(())
}

/// Lists mediators. Audited as a read of personal data.
#[utoipa::path(get, path = "/api/v1/mediators", tag = "mediators", params(MediatorQuery),
    responses(
        (status = 200, description = "Mediators", body = Vec<MediatorOut>),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_mediators(
    State(state): State<AdminState>,
    caller: Caller,
    Query(q): Query<MediatorQuery>,
) -> ApiResult<axum::Json<Vec<MediatorOut>>> {
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let list = storage::mediators::list(&mut tx, q.committee_id).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "mediator.list",
        "mediator",
        "",
        serde_json::json!({ "committee_id": q.committee_id, "count": list.len(),
                            "masked": !caller.sees_personal_data() }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(
        list.into_iter().map(|m| out(m, &caller)).collect(),
    ))
}

/// Creates a mediator. Admin only.
#[utoipa::path(post, path = "/api/v1/mediators", tag = "mediators", request_body = MediatorIn,
    responses(
        (status = 201, description = "Created", body = MediatorOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn create_mediator(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<MediatorIn>,
) -> ApiResult<(StatusCode, axum::Json<MediatorOut>)> {
    caller.require_admin()?;
    let f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    check_committee(&mut tx, f.committee_id).await?;
    let id = storage::mediators::insert(&mut tx, &f, now).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "mediator.create",
        "mediator",
        &id.to_string(),
        serde_json::json!({ "committee_id": f.committee_id }),
    )
    .await?;
    let m = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok((StatusCode::CREATED, axum::Json(out(m, &caller))))
}

/// One mediator. Audited as a read of personal data.
#[utoipa::path(get, path = "/api/v1/mediators/{id}", tag = "mediators",
    params(("id" = i64, Path, description = "Mediator id")),
    responses(
        (status = 200, description = "The mediator", body = MediatorOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such mediator", body = ErrorBody),
    ))]
async fn get_mediator(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<MediatorOut>> {
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let m = load(&mut tx, id).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "mediator.read",
        "mediator",
        &id.to_string(),
        serde_json::json!({ "masked": !caller.sees_personal_data() }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(out(m, &caller)))
}

/// Replaces a mediator's details. Admin only.
#[utoipa::path(put, path = "/api/v1/mediators/{id}", tag = "mediators", request_body = MediatorIn,
    params(("id" = i64, Path, description = "Mediator id")),
    responses(
        (status = 200, description = "Replaced", body = MediatorOut),
        (status = 400, description = "Malformed JSON or id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such mediator", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn update_mediator(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<MediatorIn>,
) -> ApiResult<axum::Json<MediatorOut>> {
    caller.require_admin()?;
    let f = input.parse()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    load(&mut tx, id).await?;
    check_committee(&mut tx, f.committee_id).await?;
    storage::mediators::update(&mut tx, id, &f).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "mediator.update",
        "mediator",
        &id.to_string(),
        serde_json::json!({ "committee_id": f.committee_id, "active": f.active }),
    )
    .await?;
    let m = load(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(out(m, &caller)))
}

/// Deletes a mediator, or deactivates them when cases name them. Admin only.
#[utoipa::path(delete, path = "/api/v1/mediators/{id}", tag = "mediators",
    params(("id" = i64, Path, description = "Mediator id")),
    responses(
        (status = 200, description = "Deleted or deactivated", body = MediatorDeleteResult),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such mediator", body = ErrorBody),
    ))]
async fn delete_mediator(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<MediatorDeleteResult>> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    load(&mut tx, id).await?;
    let result = if storage::mediators::is_referenced(&mut tx, id).await? {
        storage::mediators::set_active(&mut tx, id, false).await?;
        "deactivated"
    } else {
        storage::mediators::delete(&mut tx, id).await?;
        "deleted"
    };
    audit(
        &mut tx,
        now,
        &caller,
        &format!("mediator.{}", &result[..result.len() - 1]),
        "mediator",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(MediatorDeleteResult {
        result: result.into(),
    }))
}

/// Creates a single-use invite link for the mediator to link their
/// Telegram account (`https://t.me/<bot>?start=<code>`). The code is random,
/// stored only as a hash, and shown in this response only; earlier unused
/// links of the same mediator stop working. Admin only.
#[utoipa::path(post, path = "/api/v1/mediators/{id}/invites", tag = "mediators", request_body = InviteIn,
    params(("id" = i64, Path, description = "Mediator id")),
    responses(
        (status = 201, description = "The link, shown once", body = InviteOut),
        (status = 400, description = "Malformed JSON or id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such mediator", body = ErrorBody),
        (status = 409, description = "The mediator is inactive, or the bot's username is not configured", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A value is not acceptable", body = ErrorBody),
    ))]
async fn create_invite(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<InviteIn>,
) -> ApiResult<(StatusCode, axum::Json<InviteOut>)> {
    caller.require_admin()?;
    let hours = input.valid_hours.unwrap_or(72);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::invalid(
            "valid_hours",
            "valid_hours must be 1 to 720",
        ));
    }
    let Some(bot) = state.bot_username.clone() else {
        return Err(ApiError::Conflict(
            "the bot's username is not configured, so no invite link can be made".into(),
        ));
    };
    let now = state.now();
    let expires_at = now + hours * 3_600_000;
    let mut tx = state.storage.begin().await?;
    let m = load(&mut tx, id).await?;
    if !m.active {
        return Err(ApiError::Conflict(format!(
            "mediator {id} is inactive; activate them first"
        )));
    }
    // 24 letters and digits: about 143 bits, and within Telegram's 64-character
    // limit for start parameters.
    let code = random_secret(24);
    storage::mediators::insert_invite(
        &mut tx,
        id,
        &hash_secret(&code),
        expires_at,
        &caller.actor(),
        now,
    )
    .await?;
    audit(
        &mut tx,
        now,
        &caller,
        "mediator.invite",
        "mediator",
        &id.to_string(),
        serde_json::json!({ "expires_at": expires_at }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(InviteOut {
            url: format!("https://t.me/{bot}?start={code}"),
            expires_at: iso(expires_at),
        }),
    ))
}
