//! Admin tokens: create (the secret is shown once), list, revoke. Admins only.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path};
use super::{audit, iso, iso_opt, AdminState};
use crate::secrets::{create_token, Role};
use crate::storage::{self, tokens::TokenRecord, StorageError};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A token to create.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "王主任 (operator)", "role": "operator"}))]
pub struct TokenIn {
    /// Whose it is, 1–100 characters.
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
}

/// A token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 2, "name": "王主任 (operator)", "role": "operator",
    "created_at": "2026-11-21T08:00:00Z", "last_used_at": null, "revoked_at": null}))]
pub struct TokenOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// When created.
    pub created_at: String,
    /// When last used (to the minute).
    pub last_used_at: Option<String>,
    /// When revoked.
    pub revoked_at: Option<String>,
}

impl From<TokenRecord> for TokenOut {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name,
            role: t.role,
            created_at: iso(t.created_at),
            last_used_at: iso_opt(t.last_used_at),
            revoked_at: iso_opt(t.revoked_at),
        }
    }
}

/// A new token with its secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 2, "name": "王主任 (operator)", "role": "operator",
    "token": "jf_3kT9xQ2mB7vN1cR8wZ4yH6pL0sD5fG2jK9aE3uI7"}))]
pub struct NewTokenOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// The secret for `Authorization: Bearer …`. Only its hash is stored; it
    /// cannot be shown again.
    pub token: String,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token_route))
        .routes(routes!(revoke_token))
}

/// Every token, newest first. Admin only.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "Tokens", body = Vec<TokenOut>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn list_tokens(
    State(state): State<AdminState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<TokenOut>>> {
    caller.require_admin()?;
    let mut conn = state.storage.acquire().await?;
    let list = storage::tokens::list(&mut conn).await?;
    Ok(axum::Json(list.into_iter().map(TokenOut::from).collect()))
}

/// Creates a token and shows its secret once. Admin only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenIn,
    responses(
        (status = 201, description = "Created; the secret is in `token`", body = NewTokenOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad name or role", body = ErrorBody),
    ))]
async fn create_token_route(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<TokenIn>,
) -> ApiResult<(StatusCode, axum::Json<NewTokenOut>)> {
    caller.require_admin()?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 100 characters",
        ));
    }
    let role = Role::parse(input.role.trim())
        .ok_or_else(|| ApiError::invalid("role", "expected admin, operator or viewer"))?;
    // create_token writes the token and its audit row in one transaction.
    let (id, secret) =
        create_token(&state.storage, name, role, state.now(), &caller.actor()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewTokenOut {
            id,
            name: name.to_owned(),
            role: role.code().to_owned(),
            token: secret,
        }),
    ))
}

/// Revokes a token; it stops working at once. Admin only.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No live token with this id", body = ErrorBody),
    ))]
async fn revoke_token(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    if !storage::tokens::revoke(&mut tx, id, now).await? {
        return Err(ApiError::NotFound(format!("no live token {id}")));
    }
    audit(
        &mut tx,
        now,
        &caller,
        "token.revoke",
        "token",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
