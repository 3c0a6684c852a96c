//! Request extractors: the caller's token and role, and JSON, query and
//! path extractors whose rejections use the API's JSON error shape instead
//! of axum's plain-text ones.

use super::error::ApiError;
use super::AdminState;
use crate::secrets::{hash_secret, Role};
use crate::storage;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

/// Token use is recorded at most this often, so reads do not each become a
/// database write.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Who is calling: a live admin token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: i64,
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

impl Caller {
    /// How the caller appears in the audit log and case timelines.
    pub fn actor(&self) -> String {
        format!("token:{}#{}", self.name, self.token_id)
    }

    /// Refuses (403) unless the caller's role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Only admins.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin])
    }

    /// Whether the caller may see personal data unmasked (viewers may not).
    pub fn sees_personal_data(&self) -> bool {
        self.role != Role::Viewer
    }
}

impl FromRequestParts<AdminState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(ApiError::Unauthorized)?;
        // Looked up by hash: the database never sees the secret, and
        // comparing hashes leaks nothing useful about the secret by timing.
        let hash = hash_secret(secret);
        let mut conn = state.storage.acquire().await?;
        let token = storage::tokens::find_live(&mut conn, &hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let role = Role::parse(&token.role).ok_or(ApiError::Unauthorized)?;
        let now = state.clock.now_ms();
        if token.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_MS) {
            storage::tokens::touch(&mut conn, token.id, now).await?;
        }
        Ok(Caller {
            token_id: token.id,
            name: token.name,
            role,
        })
    }
}

/// A JSON body; malformed JSON is a 400, wrong types, missing or unknown
/// fields a 422 naming the field, a wrong content type a 415.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json"
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "expected a body with Content-Type: application/json".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e.status()))?;
        let value = axum::Json::<T>::from_bytes(&bytes).map_err(json_rejection)?;
        // PostgreSQL cannot store NUL in text; refuse it here as bad input
        // rather than fail later as a database error.
        if bytes.windows(6).any(|w| w == b"\\u0000") {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                if let Some(field) = nul_path(&v, String::new()) {
                    return Err(ApiError::Invalid {
                        message: "text must not contain NUL characters".into(),
                        field: Some(field),
                    });
                }
            }
        }
        Ok(Json(value.0))
    }
}

/// The path (`a.b[2]`) of the first string holding a NUL character.
fn nul_path(v: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { ".".into() } else { at }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_path(x, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                return Some(at.clone());
            }
            let p = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            nul_path(x, p)
        }),
        _ => None,
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text)
                .to_owned();
            // serde_path_to_error writes "path: message"; a path has no spaces.
            let field = detail
                .split_once(": ")
                .map(|(p, _)| p)
                .filter(|p| !p.contains(' ') && *p != ".")
                .map(str::to_owned)
                // "missing field `name`", "unknown field `colour`" at the top level.
                .or_else(|| {
                    let (_, rest) = detail.split_once("field `")?;
                    rest.split_once('`').map(|(f, _)| f.to_owned())
                });
            ApiError::Invalid {
                message: detail,
                field,
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            None,
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "expected a body with Content-Type: application/json".into(),
        ),
        JsonRejection::BytesRejection(e) => body_rejection(e.status()),
        other => ApiError::bad_request(None, other.body_text()),
    }
}

/// Maps a failure to read the body (too large, not UTF-8, cut off).
pub(crate) fn body_rejection(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request(None, "the request body could not be read")
    }
}

/// A UTF-8 text body (CSV imports).
#[derive(Debug, Clone)]
pub struct Text(pub String);

impl<S: Send + Sync> FromRequest<S> for Text {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match String::from_request(req, state).await {
            Ok(s) if s.contains('\0') => Err(ApiError::invalid(
                "body",
                "text must not contain NUL characters",
            )),
            Ok(s) => Ok(Text(s)),
            Err(axum::extract::rejection::StringRejection::InvalidUtf8(_)) => {
                Err(ApiError::bad_request(None, "the body must be UTF-8 text"))
            }
            Err(axum::extract::rejection::StringRejection::FailedToBufferBody(e)) => {
                Err(body_rejection(e.status()))
            }
            Err(other) => Err(ApiError::bad_request(None, other.body_text())),
        }
    }
}

/// A query string; a bad one is a 400 naming the parameter when it can.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // NUL cannot be stored or compared in PostgreSQL text.
        if parts
            .uri
            .query()
            .is_some_and(|q| q.to_ascii_lowercase().contains("%00"))
        {
            return Err(ApiError::bad_request(
                None,
                "the query string must not contain NUL characters",
            ));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                let field = detail
                    .split_once(": ")
                    .map(|(p, _)| p)
                    .filter(|p| !p.contains(' '))
                    .map(str::to_owned);
                Err(ApiError::BadRequest {
                    message: format!("bad query string: {detail}"),
                    field,
                })
            }
            Err(other) => Err(ApiError::bad_request(None, other.body_text())),
        }
    }
}

/// Path parameters; a value of the wrong type is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::bad_request(
                None,
                format!("bad path parameter: {}", e.body_text()),
            )),
            Err(other) => Err(ApiError::bad_request(None, other.body_text())),
        }
    }
}
