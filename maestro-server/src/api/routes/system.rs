//! Health, version, metrics, the OpenAPI document and the JSON 404/405.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::api::ApiState;
use crate::api::error::{ApiError, ApiJson, ErrorBody};
use crate::api::openapi::ApiDoc;

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Seconds since start.
    pub uptime_secs: u64,
}

/// `GET /version`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// `maestro`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// Liveness (no auth).
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
pub async fn health(State(s): State<ApiState>) -> ApiJson<Health> {
    ApiJson(Health { status: "ok".into(), uptime_secs: s.inner.started.elapsed().as_secs() })
}

/// Name and version (no auth).
#[utoipa::path(get, path = "/version", tag = "system", responses((status = 200, body = Version)))]
pub async fn version() -> ApiJson<Version> {
    ApiJson(Version { name: "maestro".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// Prometheus metrics (text format). Behind `Authorization: Bearer <MAESTRO_METRICS_TOKEN>`
/// when that variable is set.
#[utoipa::path(get, path = "/metrics", tag = "system", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 401, body = ErrorBody),
))]
pub async fn metrics(State(s): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    s.inner.auth.check_metrics(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()))?;
    let text = s.inner.metrics.render(&s).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}

/// JSON 404 for unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}

/// JSON 405.
pub async fn method_not_allowed() -> Response {
    let body = ErrorBody {
        error: crate::api::error::ErrorDetail {
            code: "method_not_allowed".into(),
            message: "method not allowed on this route; see /openapi.json".into(),
            field: None,
        },
    };
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}
