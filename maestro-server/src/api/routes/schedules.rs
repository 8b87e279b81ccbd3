//! Schedules of the caller's tenant (`maestro_core::scheduler::ScheduleStore`).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maestro_core::scheduler::{CatchUp, JobSpec, Overlap};
use maestro_core::{Schedule, Trigger};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::api::ids::SafeId;

/// A schedule as sent and returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// Name, unique per tenant (path parameter on update; ignored there).
    #[schema(value_type = String)]
    pub name: SafeId,
    /// The job: `{"kind": "crawl", "args": {...}}`.
    #[schema(value_type = Object)]
    pub job: JobSpec,
    /// `{"interval": <seconds>}` or `{"cron": "<expr>"}` (UTC).
    #[schema(value_type = Object)]
    pub trigger: Trigger,
    /// Enabled (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Missed-slot policy.
    #[serde(default)]
    #[schema(value_type = String)]
    pub catch_up: CatchUp,
    /// Overlap policy.
    #[serde(default)]
    #[schema(value_type = String)]
    pub overlap: Overlap,
}

fn yes() -> bool {
    true
}

/// A stored schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Name.
    pub name: String,
    /// Job.
    #[schema(value_type = Object)]
    pub job: JobSpec,
    /// Trigger.
    #[schema(value_type = Object)]
    pub trigger: Trigger,
    /// Enabled.
    pub enabled: bool,
    /// Missed-slot policy.
    #[schema(value_type = String)]
    pub catch_up: CatchUp,
    /// Overlap policy.
    #[schema(value_type = String)]
    pub overlap: Overlap,
    /// Last slot fired.
    pub last_slot: Option<DateTime<Utc>>,
    /// Next slot the beat looks at.
    pub next_slot: Option<DateTime<Utc>>,
}

impl From<Schedule> for ScheduleView {
    fn from(s: Schedule) -> Self {
        ScheduleView {
            name: s.name,
            job: s.job,
            trigger: s.trigger,
            enabled: s.enabled,
            catch_up: s.catch_up,
            overlap: s.overlap,
            last_slot: s.last_slot,
            next_slot: s.next_slot,
        }
    }
}

/// `GET /schedules`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    /// Every schedule of the tenant.
    pub items: Vec<ScheduleView>,
}

fn to_schedule(tenant: &str, name: &str, b: ScheduleBody) -> Result<Schedule, ApiError> {
    b.trigger
        .validate()
        .map_err(|e| ApiError::unprocessable("invalid_trigger", e.to_string(), Some("trigger".into())))?;
    if b.job.kind.trim().is_empty() || b.job.kind.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_job",
            "job.kind must be 1..=100 characters",
            Some("job.kind".into()),
        ));
    }
    Ok(Schedule {
        name: name.into(),
        tenant: tenant.into(),
        job: b.job,
        trigger: b.trigger,
        enabled: b.enabled,
        catch_up: b.catch_up,
        overlap: b.overlap,
        last_slot: None,
        next_slot: None,
    })
}

/// The caller's schedules.
#[utoipa::path(get, path = "/schedules", tag = "schedules", security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ScheduleList), (status = 401, body = ErrorBody)))]
pub async fn list(State(s): State<ApiState>, who: Principal) -> ApiResult<ApiJson<ScheduleList>> {
    let items = s.inner.store.list_schedules(Some(&who.tenant)).await?;
    Ok(ApiJson(ScheduleList { items: items.into_iter().map(ScheduleView::from).collect() }))
}

/// Create a schedule.
#[utoipa::path(post, path = "/schedules", tag = "schedules", request_body = ScheduleBody, security(("bearer" = []), ("service" = [])),
    responses((status = 201, body = ScheduleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<ApiState>,
    who: Principal,
    ApiJson(b): ApiJson<ScheduleBody>,
) -> ApiResult<(StatusCode, ApiJson<ScheduleView>)> {
    let name = b.name.0.clone();
    if s.inner.store.get_schedule(&who.tenant, &name).await?.is_some() {
        return Err(ApiError::Conflict(format!("schedule `{name}` exists; update it with PUT /schedules/{name}")));
    }
    let sch = to_schedule(&who.tenant, &name, b)?;
    s.inner.store.upsert_schedule(&sch).await?;
    let stored = s.inner.store.get_schedule(&who.tenant, &name).await?.unwrap_or(sch);
    Ok((StatusCode::CREATED, ApiJson(stored.into())))
}

async fn load(s: &ApiState, tenant: &str, name: &str) -> ApiResult<Schedule> {
    s.inner.store.get_schedule(tenant, name).await?.ok_or_else(|| ApiError::NotFound(format!("no schedule `{name}`")))
}

/// One schedule.
#[utoipa::path(get, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ScheduleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(name): ApiPath<SafeId>,
) -> ApiResult<ApiJson<ScheduleView>> {
    Ok(ApiJson(load(&s, &who.tenant, &name).await?.into()))
}

/// Replace a schedule (the body's `name` must match the path's).
#[utoipa::path(put, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)), request_body = ScheduleBody,
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ScheduleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(name): ApiPath<SafeId>,
    ApiJson(b): ApiJson<ScheduleBody>,
) -> ApiResult<ApiJson<ScheduleView>> {
    if b.name != name {
        return Err(ApiError::bad_field("name", format!("body name `{}` differs from the path's `{name}`", b.name)));
    }
    load(&s, &who.tenant, &name).await?;
    let sch = to_schedule(&who.tenant, &name, b)?;
    s.inner.store.upsert_schedule(&sch).await?;
    Ok(ApiJson(load(&s, &who.tenant, &name).await?.into()))
}

/// Delete a schedule.
#[utoipa::path(delete, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(name): ApiPath<SafeId>,
) -> ApiResult<StatusCode> {
    if s.inner.store.delete_schedule(&who.tenant, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no schedule `{name}`")))
    }
}
