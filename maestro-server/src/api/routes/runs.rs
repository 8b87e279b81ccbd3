//! Starting crawls (`POST /connections/{id}/runs` and the original
//! `PUT /crawler/{provider}/{connection}/{task}`) and reading runs.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maestro_core::{ConfigErrors, NoObserver, Pipeline, Repository, RunJob, RunReport, RunRequest, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::connections::{load, open_credentials, provider_config, provider_info};
use super::{Page, PageParams, RunPage, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::api::ids::SafeId;

/// `POST /connections/{id}/runs`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// Task (see the provider's `tasks`; default: its `default_task`).
    pub task: Option<String>,
}

/// A run request and, once it ended, the pipeline's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// Run request id.
    pub id: Uuid,
    /// Connection.
    pub connection: String,
    /// Provider.
    pub provider: String,
    /// Task.
    pub task: String,
    /// `queued`, `running`, `complete`, `partial`, `failed` or `interrupted`.
    pub status: String,
    /// The pipeline run id (once recorded).
    pub run_id: Option<Uuid>,
    /// Why it failed outside the pipeline.
    pub error: Option<String>,
    /// Accepted at.
    pub requested_at: DateTime<Utc>,
    /// Ended at.
    pub finished_at: Option<DateTime<Utc>>,
    /// The pipeline's report: per-scope outcomes and stats (on `GET /runs/{id}` once ended).
    #[schema(value_type = Option<Object>)]
    pub report: Option<RunReport>,
}

impl RunView {
    fn of(r: RunRequest, report: Option<RunReport>) -> Self {
        RunView {
            id: r.id,
            connection: r.connection,
            provider: r.provider,
            task: r.task,
            status: r.status,
            run_id: r.run_id,
            error: r.error,
            requested_at: r.requested_at,
            finished_at: r.finished_at,
            report,
        }
    }
}

/// The answer of the original crawler route.
#[derive(Debug, Serialize, ToSchema)]
pub struct CrawlerAccepted {
    /// `In progress. <task>`.
    pub msg: String,
    /// Connection id.
    pub conn_id: String,
    /// Task.
    pub task: String,
    /// `warning` (the original's "in progress").
    pub status: String,
    /// The run request id (`GET /runs/{id}`).
    pub run_id: Uuid,
}

fn task_not_allowed(detail: String) -> ApiError {
    ApiError::unprocessable("task_not_allowed", format!("This task is not allowed: {detail}"), Some("task".into()))
}

/// Accept a run of `task` on connection `conn_id`; the crawl runs in the background.
async fn start_run(s: &ApiState, tenant: &str, conn_id: &str, task: Option<String>) -> ApiResult<RunRequest> {
    let c = load(s, tenant, conn_id).await?;
    let info = provider_info(&c.provider)
        .ok_or_else(|| task_not_allowed(format!("provider `{}` is not available", c.provider)))?;
    let task = task.unwrap_or_else(|| info.default_task.clone());
    if !info.tasks.contains(&task) {
        return Err(task_not_allowed(format!(
            "`{}` has no task `{task}`; tasks: {}",
            c.provider,
            info.tasks.join(", ")
        )));
    }
    let creds = open_credentials(s, &c)?;
    let mut cfg = provider_config(s, &c, &creds)?;
    if c.provider == "aws" && task != "all" {
        cfg["tasks"] = Value::Array(vec![Value::String(task.clone())]);
    }
    let req = RunRequest {
        id: Uuid::now_v7(),
        tenant: tenant.to_string(),
        connection: c.id.clone(),
        provider: c.provider.clone(),
        task,
        status: "queued".into(),
        run_id: None,
        error: None,
        requested_at: Utc::now(),
        finished_at: None,
    };
    s.inner.store.put_run_request(&req).await?;
    let state = s.clone();
    let mut r = req.clone();
    s.inner.tasks.spawn(async move {
        let Ok(_permit) = state.inner.run_slots.clone().acquire_owned().await else { return };
        r.status = "running".into();
        if let Err(e) = state.inner.store.put_run_request(&r).await {
            tracing::error!(run = %r.id, error = %e, "cannot record a run start");
        }
        execute(&state, &mut r, cfg).await;
        r.finished_at = Some(Utc::now());
        if let Err(e) = state.inner.store.put_run_request(&r).await {
            tracing::error!(run = %r.id, error = %e, "cannot record a run end");
        }
    });
    Ok(req)
}

async fn execute(s: &ApiState, r: &mut RunRequest, cfg: Value) {
    let mut errors = ConfigErrors::new();
    let Some(source) = maestro_providers::build_source(&r.tenant, &cfg, "connection", &mut errors) else {
        r.status = "failed".into();
        r.error = Some(format!(
            "the connection's configuration is invalid at: {}",
            errors.problems.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
        ));
        return;
    };
    let repo: Arc<dyn Repository> = s.inner.store.clone();
    let job = RunJob {
        tenant: &r.tenant,
        connection: &source.connection,
        provider: source.provider.as_ref(),
        translator: source.translator.as_ref(),
    };
    match Pipeline::new(repo).with_config(s.inner.config.pipeline.clone()).run_and_record(job, &NoObserver).await {
        Ok(report) => {
            r.run_id = Some(report.run_id);
            r.status = match report.status {
                RunStatus::Complete => "complete",
                RunStatus::Partial => "partial",
                RunStatus::Failed => "failed",
            }
            .into();
            r.error = report.error.clone();
            tracing::info!(run = %r.id, pipeline_run = %report.run_id, status = %r.status, "API run finished");
        }
        Err(e) => {
            r.status = "failed".into();
            r.error = Some(format!("recording the run failed: {e}"));
        }
    }
}

/// Start a crawl of a connection; answers at once with the run id.
#[utoipa::path(post, path = "/connections/{id}/runs", tag = "runs", params(("id" = String, Path)),
    request_body = StartRun, security(("bearer" = []), ("service" = [])),
    responses((status = 202, body = RunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn start(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<SafeId>,
    ApiJson(body): ApiJson<StartRun>,
) -> ApiResult<(StatusCode, ApiJson<RunView>)> {
    let r = start_run(&s, &who.tenant, &id, body.task).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(RunView::of(r, None))))
}

/// The original route: start `task` of `connection`, whose provider must be `provider`
/// (case-insensitive). 422 `task_not_allowed` for an unknown provider or task; 400 for an
/// unknown connection (as the original).
#[utoipa::path(put, path = "/crawler/{provider}/{connection}/{task}", tag = "runs",
    params(("provider" = String, Path), ("connection" = String, Path), ("task" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 201, body = CrawlerAccepted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn crawler(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath((provider, connection, task)): ApiPath<(SafeId, SafeId, SafeId)>,
) -> ApiResult<(StatusCode, ApiJson<CrawlerAccepted>)> {
    let provider = provider.to_lowercase();
    let info = provider_info(&provider).ok_or_else(|| task_not_allowed(format!("no provider `{provider}`")))?;
    if !info.tasks.iter().any(|t| *t == *task) {
        return Err(task_not_allowed(format!("`{provider}` has no task `{task}`")));
    }
    let c = match s.inner.store.get_connection(&who.tenant, &connection).await? {
        Some(c) => c,
        None => return Err(ApiError::bad_field("connection", format!("no connection `{connection}`"))),
    };
    if c.provider != provider {
        return Err(task_not_allowed(format!("connection `{}` is a `{}` connection", c.id, c.provider)));
    }
    let r = start_run(&s, &who.tenant, &connection, Some(task.0.clone())).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CrawlerAccepted {
            msg: format!("In progress. {}", task.0),
            conn_id: c.id,
            task: task.0,
            status: "warning".into(),
            run_id: r.id,
        }),
    ))
}

/// The caller's runs, oldest first.
#[utoipa::path(get, path = "/runs", tag = "runs", params(PageParams), security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<RunView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<RunPage>> {
    let page = page_request(p.limit, p.cursor)?;
    if let Some(c) = &page.after
        && c.parse::<Uuid>().is_err()
    {
        return Err(ApiError::bad_field("cursor", "cursor is not one this server returned"));
    }
    let items = s.inner.store.list_run_requests(&who.tenant, &page).await?;
    Ok(ApiJson(Page::from_store(items, &uri, |r| RunView::of(r, None))))
}

/// One run: status, and once ended the per-scope outcomes and stats.
#[utoipa::path(get, path = "/runs/{id}", tag = "runs", params(("id" = Uuid, Path)), security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = RunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<RunView>> {
    let r = s
        .inner
        .store
        .get_run_request(&who.tenant, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run `{id}`")))?;
    let report = match r.run_id {
        Some(run) => s.inner.store.get_run(run).await?,
        None => None,
    };
    Ok(ApiJson(RunView::of(r, report)))
}
