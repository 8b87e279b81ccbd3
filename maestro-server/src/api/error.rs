//! [`ApiError`]: every failure of the API as one JSON body,
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`, with a status code.
//! Internal causes are logged and never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maestro_core::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`bad_request`, `not_found`, `unauthorized`, …).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The offending field or parameter, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An API failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{message}")]
    BadRequest {
        /// Code.
        code: &'static str,
        /// Message.
        message: String,
        /// Field.
        field: Option<String>,
    },
    /// 401: no or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 413.
    #[error("{0}")]
    TooLarge(String),
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but not acceptable.
    #[error("{message}")]
    Unprocessable {
        /// Code.
        code: &'static str,
        /// Message.
        message: String,
        /// Field.
        field: Option<String>,
    },
    /// 503: a dependency is down or not configured.
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// API result.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// 400 with a field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code: "bad_request", message: message.into(), field: Some(field.into()) }
    }
    /// 400.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest { code: "bad_request", message: message.into(), field: None }
    }
    /// 422 with a code.
    pub fn unprocessable(code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        ApiError::Unprocessable { code, message: message.into(), field }
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The body sent for this error.
    pub fn body(&self) -> ErrorBody {
        let (message, field) = match self {
            ApiError::BadRequest { message, field, .. } | ApiError::Unprocessable { message, field, .. } => {
                (message.clone(), field.clone())
            }
            ApiError::Internal(_) => ("internal error (logged on the server)".to_string(), None),
            other => (other.to_string(), None),
        };
        ErrorBody { error: ErrorDetail { code: self.code().into(), message, field } }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error answering a request");
        }
        (self.status_code(), axum::Json(self.body())).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Invalid(m) => ApiError::bad(m),
            StorageError::Unavailable { message, .. } => {
                tracing::warn!(%message, "storage unavailable");
                ApiError::Unavailable("storage unavailable, try again".into())
            }
            StorageError::LeaseHeld(m) => ApiError::Conflict(format!("lease `{m}` is held by another owner")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // "Failed to deserialize the JSON body into the target type: field: message"
                let text = e.body_text();
                let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d).to_string();
                let field = detail.split_once(": ").map(|(f, _)| f.to_string()).filter(|f| !f.contains(' '));
                ApiError::BadRequest { code: "invalid_body", message: format!("invalid JSON body: {detail}"), field }
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
                code: "malformed_json",
                message: format!(
                    "malformed JSON: {}",
                    e.body_text().trim_start_matches("Failed to parse the request body as JSON: ")
                ),
                field: None,
            },
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("expected `Content-Type: application/json`".into())
            }
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge("request body is too large".into())
                } else {
                    ApiError::bad(format!("cannot read the request body: {}", e.body_text()))
                }
            }
            other => ApiError::bad(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest { code: "invalid_path", message: r.body_text(), field: None }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        let detail = text.trim_start_matches("Failed to deserialize query string: ").to_string();
        ApiError::BadRequest { code: "invalid_query", message: format!("invalid query string: {detail}"), field: None }
    }
}

/// `Json` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Path` whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query` whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
