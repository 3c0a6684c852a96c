//! The admin API's one error type and its one JSON shape:
//! `{"error": code, "message": text, "field": name?}`.
//!
//! Bad input is always a 4xx with a message an admin can act on. A 500 is
//! only ever a fault of the service or the database: its cause is logged
//! (without personal data: storage errors carry ids and field names only)
//! and never shown to the client.

use crate::domain::DomainError;
use crate::import::ImportError;
use crate::routing::RoutingError;
use crate::storage::StorageError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"error": "invalid", "message": "capacity must be between 0 and 1000000", "field": "capacity"}))]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `conflict`, `payload_too_large`,
    /// `unsupported_media_type`, `invalid`, `internal`.
    pub error: String,
    /// What was wrong, in English, for people.
    pub message: String,
    /// The input field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad query string).
    #[error("{message}")]
    BadRequest {
        /// What was wrong.
        message: String,
        /// The field, when known.
        field: Option<String>,
    },
    /// 401: no token, or not a live token. Deliberately without detail.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: the token's role may not do this.
    #[error("this token's role may not do this")]
    Forbidden,
    /// 404: no such object (or route).
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than this route accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 415: the body is not of the expected media type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the request is well-formed but a value is not acceptable.
    #[error("{message}")]
    Invalid {
        /// What was wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 500: a fault of the service; the cause is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A 422 naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 400 naming `field`.
    pub fn bad_request(field: Option<&str>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        let (code, field) = match self {
            ApiError::BadRequest { field, .. } => ("bad_request", field.clone()),
            ApiError::Unauthorized => ("unauthorized", None),
            ApiError::Forbidden => ("forbidden", None),
            ApiError::NotFound(_) => ("not_found", None),
            ApiError::MethodNotAllowed => ("method_not_allowed", None),
            ApiError::Conflict(_) => ("conflict", None),
            ApiError::PayloadTooLarge => ("payload_too_large", None),
            ApiError::UnsupportedMediaType(_) => ("unsupported_media_type", None),
            ApiError::Invalid { field, .. } => ("invalid", field.clone()),
            ApiError::Internal(_) => ("internal", None),
        };
        let message = match self {
            ApiError::Unauthorized => "missing or invalid token".to_owned(),
            ApiError::Internal(_) => "internal error; it has been logged".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            error: code.to_owned(),
            message,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "admin API request failed");
        }
        let status = self.status();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StorageError::Stale(what) => ApiError::Conflict(format!(
                "{what} was changed by someone else; read it again and retry"
            )),
            StorageError::MissingReference(what) => ApiError::Invalid {
                message: format!("{what} refers to something that does not exist"),
                field: Some(what),
            },
            StorageError::Invalid(what) => ApiError::Invalid {
                message: format!("{what} is not acceptable"),
                field: Some(what),
            },
            StorageError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Invalid {
            message: e.message,
            field: Some(e.field),
        }
    }
}

impl From<RoutingError> for ApiError {
    fn from(e: RoutingError) -> Self {
        match e {
            RoutingError::Storage(s) => s.into(),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid {
                file,
                line,
                field,
                message,
            } => ApiError::Invalid {
                message: format!("{file}, line {line}, field {field}: {message}"),
                field: Some(field),
            },
            ImportError::Unreadable { file, message } => ApiError::Invalid {
                message: format!("{file}: {message}"),
                field: None,
            },
            ImportError::Storage(s) => s.into(),
        }
    }
}

/// JSON 404 for paths no route serves.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// JSON 405 for a route asked with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
