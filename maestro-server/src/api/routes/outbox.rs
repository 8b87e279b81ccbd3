//! The outbox: per-sink status, dead letters (the caller's tenant's only) and replay.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maestro_core::{DeadLetter, PageRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{DeadLetterPage, Page, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};

/// One sink's delivery state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SinkView {
    /// Sink name.
    pub sink: String,
    /// Events not yet delivered.
    pub backlog: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dead letters not replayed.
    pub dead: u64,
    /// Last failure.
    pub last_error: Option<String>,
}

/// `GET /outbox`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxStatus {
    /// Every sink.
    pub sinks: Vec<SinkView>,
}

/// A dead letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    /// Id (for replay).
    pub id: i64,
    /// Sink that gave up.
    pub sink: String,
    /// The event.
    #[schema(value_type = Object)]
    pub event: Value,
    /// Last error.
    pub error: String,
    /// Attempts.
    pub attempts: u32,
    /// When.
    pub dead_at: DateTime<Utc>,
    /// `dead`, `replay` or `replayed`.
    pub state: String,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(d: DeadLetter) -> Self {
        DeadLetterView {
            id: d.id,
            sink: d.sink,
            event: serde_json::to_value(&d.event).unwrap_or(Value::Null),
            error: d.error,
            attempts: d.attempts,
            dead_at: d.dead_at,
            state: d.state,
        }
    }
}

/// `GET /outbox/dead-letters` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Only this sink.
    pub sink: Option<String>,
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Backlog, delivered and dead counts per sink.
#[utoipa::path(get, path = "/outbox", tag = "outbox", security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = OutboxStatus), (status = 401, body = ErrorBody)))]
pub async fn status(State(s): State<ApiState>, _who: Principal) -> ApiResult<ApiJson<OutboxStatus>> {
    let sinks = s.inner.store.outbox_status().await?;
    Ok(ApiJson(OutboxStatus {
        sinks: sinks
            .into_iter()
            .map(|x| SinkView {
                sink: x.sink,
                backlog: x.backlog,
                delivered: x.delivered,
                dead: x.dead,
                last_error: x.last_error,
            })
            .collect(),
    }))
}

/// Dead letters of the caller's tenant, oldest first (a page may hold fewer than `limit`
/// items: other tenants' letters are skipped; follow `next` until it is `null`).
#[utoipa::path(get, path = "/outbox/dead-letters", tag = "outbox", params(DeadLetterQuery),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<DeadLetterView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn dead_letters(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> ApiResult<ApiJson<DeadLetterPage>> {
    let page = page_request(q.limit, q.cursor)?;
    let mut p = s.inner.store.dead_letters(q.sink.as_deref(), &page).await?;
    p.items.retain(|d| d.event.tenant == who.tenant);
    Ok(ApiJson(Page::from_store(p, &uri, DeadLetterView::from)))
}

/// Ask for a dead letter to be delivered again by its sink's relay.
#[utoipa::path(post, path = "/outbox/dead-letters/{id}/replay", tag = "outbox", params(("id" = i64, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 202, body = DeadLetterView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replay(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, ApiJson<DeadLetterView>)> {
    let mut page = PageRequest::first(1000);
    let found = loop {
        let p = s.inner.store.dead_letters(None, &page).await?;
        if let Some(d) = p.items.into_iter().find(|d| d.id == id) {
            break Some(d);
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break None,
        }
    };
    let Some(mut d) = found.filter(|d| d.event.tenant == who.tenant) else {
        return Err(ApiError::NotFound(format!("no dead letter {id}")));
    };
    if d.state == "replayed" {
        return Err(ApiError::Conflict(format!("dead letter {id} was already replayed")));
    }
    s.inner.store.request_replay(id).await?;
    d.state = "replay".into();
    Ok((StatusCode::ACCEPTED, ApiJson(d.into())))
}
