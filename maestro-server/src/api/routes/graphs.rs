//! Graph jobs: the original analytics payload `{_id, owner_id, type, clients|systems|apps}`,
//! built in the background with maestro-graph; status, SVG, GraphML and JSON.

use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maestro_core::{Event, GraphJobRecord};
use maestro_graph::{GraphDefinition, GraphKind, JobStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{GraphPage, Page, PageParams, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::api::ids::{SafeId, check_id};

/// `POST /graphs`: the original analytics request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGraph {
    /// Graph id.
    #[serde(rename = "_id")]
    #[schema(value_type = String)]
    pub id: SafeId,
    /// Owner (the original's tenant-like owner id).
    pub owner_id: String,
    /// `bussiness` (original spelling), `business` or `infra`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    pub name: Option<String>,
    /// Client ids whose systems' entries to draw.
    pub clients: Option<Vec<String>>,
    /// System ids whose entries to draw.
    pub systems: Option<Vec<String>>,
    /// Entry application ids.
    pub apps: Option<Vec<String>>,
}

/// A graph job.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphView {
    /// Id.
    pub id: String,
    /// Owner id.
    pub owner_id: String,
    /// `business` or `infra`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `processing`, `finished`, `warning` or `error`.
    pub status: String,
    /// Outcome message.
    pub msg: String,
    /// Metrics (density, edges, counts).
    #[schema(value_type = Object)]
    pub info: Value,
    /// The request.
    #[schema(value_type = Object)]
    pub definition: Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<GraphJobRecord> for GraphView {
    fn from(g: GraphJobRecord) -> Self {
        GraphView {
            id: g.id,
            owner_id: g.owner_id,
            kind: g.kind,
            status: g.status,
            msg: g.msg,
            info: g.info,
            definition: g.definition,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

fn check_ids(field: &str, ids: &Option<Vec<String>>) -> Result<(), ApiError> {
    if let Some(v) = ids {
        if v.len() > 10_000 {
            return Err(ApiError::bad_field(field, format!("{field}: at most 10000 ids")));
        }
        for (i, id) in v.iter().enumerate() {
            check_id(&format!("{field}[{i}]"), id)?;
        }
    }
    Ok(())
}

/// Create (or rebuild) a graph; it is built in the background.
#[utoipa::path(post, path = "/graphs", tag = "graphs", request_body = NewGraph, security(("bearer" = []), ("service" = [])),
    responses((status = 202, body = GraphView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<ApiState>,
    who: Principal,
    ApiJson(body): ApiJson<NewGraph>,
) -> ApiResult<(StatusCode, ApiJson<GraphView>)> {
    let kind = match body.kind.as_str() {
        "bussiness" | "business" => GraphKind::Business,
        "infra" => GraphKind::Infra,
        other => {
            return Err(ApiError::unprocessable(
                "invalid_graph_type",
                format!("type must be `bussiness`, `business` or `infra`, got `{other}`"),
                Some("type".into()),
            ));
        }
    };
    check_id("owner_id", &body.owner_id)?;
    check_ids("clients", &body.clients)?;
    check_ids("systems", &body.systems)?;
    check_ids("apps", &body.apps)?;
    let now = Utc::now();
    let created_at = s.inner.store.get_graph_job(&who.tenant, &body.id).await?.map_or(now, |g| g.created_at);
    let def = GraphDefinition {
        id: body.id.0.clone(),
        name: body.name.clone().unwrap_or_else(|| body.id.0.clone()),
        kind,
        clients: body.clients.clone().unwrap_or_default(),
        systems: body.systems.clone().unwrap_or_default(),
        apps: body.apps.clone().unwrap_or_default(),
    };
    let rec = GraphJobRecord {
        tenant: who.tenant.clone(),
        id: body.id.0.clone(),
        owner_id: body.owner_id.clone(),
        kind: if kind == GraphKind::Infra { "infra" } else { "business" }.into(),
        definition: json!({"name": def.name, "clients": def.clients, "systems": def.systems, "apps": def.apps}),
        status: "processing".into(),
        msg: "In progress".into(),
        info: json!({}),
        svg: None,
        graphml: None,
        json: None,
        created_at,
        updated_at: now,
    };
    s.inner.store.put_graph_job(&rec).await?;
    let state = s.clone();
    let mut job = rec.clone();
    s.inner.tasks.spawn(async move {
        build(&state, &mut job, def).await;
        job.updated_at = Utc::now();
        if let Err(e) = state.inner.store.put_graph_job(&job).await {
            tracing::error!(graph = %job.id, error = %e, "cannot record a graph");
            return;
        }
        let event = Event {
            id: Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("graph.ready/{}/{}/{}", job.tenant, job.id, job.updated_at.timestamp_micros()).as_bytes()),
            kind: "graph.ready".into(),
            tenant: job.tenant.clone(),
            subject: format!("graph/{}", job.id),
            run_id: None,
            occurred_at: job.updated_at,
            payload: json!({"graph_id": job.id, "owner_id": job.owner_id, "type": job.kind, "status": job.status, "msg": job.msg, "info": job.info}),
        };
        if let Err(e) = state.inner.store.append_events(&[event]).await {
            tracing::error!(graph = %job.id, error = %e, "cannot emit graph.ready");
        }
    });
    Ok((StatusCode::ACCEPTED, ApiJson(rec.into())))
}

async fn build(s: &ApiState, job: &mut GraphJobRecord, def: GraphDefinition) {
    let inv = match crate::graph::load_inventory(&**s.store(), &job.tenant).await {
        Ok(inv) => inv,
        Err(e) => {
            job.status = "error".into();
            job.msg = format!("[load] {e}");
            return;
        }
    };
    let id = def.id.clone();
    let out = tokio::task::spawn_blocking(move || {
        let g = maestro_graph::build_graph(&inv, &def);
        let mut graphml = None;
        let mut json_doc = None;
        let mut svg = None;
        let mut info = json!({});
        if let Some(r) = &g.result {
            svg = Some(r.drawing.svg.clone());
            graphml = maestro_graph::to_graphml(&r.graph, &r.grid, &id).ok();
            json_doc = Some(maestro_graph::to_node_link(&r.graph, &r.grid));
            info = serde_json::to_value(&r.info).unwrap_or_default();
        } else if let Some(r) = &g.infra {
            svg = Some(r.svg.clone());
        }
        (g.status, g.msg, svg, graphml, json_doc, info)
    })
    .await;
    match out {
        Ok((status, msg, svg, graphml, json_doc, info)) => {
            job.status = match status {
                JobStatus::Processing => "processing",
                JobStatus::Finished => "finished",
                JobStatus::Warning => "warning",
                JobStatus::Error => "error",
            }
            .into();
            job.msg = msg;
            job.svg = svg;
            job.graphml = graphml;
            job.json = json_doc;
            job.info = info;
        }
        Err(e) => {
            job.status = "error".into();
            job.msg = format!("[draw] the graph build panicked: {e}");
        }
    }
}

/// The caller's graphs.
#[utoipa::path(get, path = "/graphs", tag = "graphs", params(PageParams), security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<GraphView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<GraphPage>> {
    let page = page_request(p.limit, p.cursor)?;
    let items = s.inner.store.list_graph_jobs(&who.tenant, &page).await?;
    Ok(ApiJson(Page::from_store(items, &uri, GraphView::from)))
}

/// A graph's status; `{id}.svg`, `{id}.graphml` and `{id}.json` return its drawing, its
/// GraphML and its node-link JSON.
#[utoipa::path(get, path = "/graphs/{id}", tag = "graphs", params(("id" = String, Path, description = "graph id, optionally with .svg, .graphml or .json")),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = GraphView, description = "status (or the SVG / GraphML / JSON with a suffix)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(State(s): State<ApiState>, who: Principal, ApiPath(id): ApiPath<SafeId>) -> ApiResult<Response> {
    let (base, fmt) = match id.rsplit_once('.') {
        Some((b, f @ ("svg" | "graphml" | "json"))) if !b.is_empty() => (b.to_string(), Some(f)),
        _ => (id.0.clone(), None),
    };
    let g = s
        .inner
        .store
        .get_graph_job(&who.tenant, &base)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no graph `{base}`")))?;
    let missing =
        |what: &str| ApiError::NotFound(format!("graph `{base}` has no {what} (status {}: {})", g.status, g.msg));
    Ok(match fmt {
        None => ApiJson(GraphView::from(g)).into_response(),
        Some("svg") => {
            let svg = g.svg.clone().ok_or_else(|| missing("SVG"))?;
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        Some("graphml") => {
            let x = g.graphml.clone().ok_or_else(|| missing("GraphML"))?;
            ([(header::CONTENT_TYPE, "application/graphml+xml")], x).into_response()
        }
        Some(_) => {
            let j = g.json.clone().ok_or_else(|| missing("JSON"))?;
            axum::Json(j).into_response()
        }
    })
}
