//! The reference server's web side: the server-rendered page at `/`, the `/events` websocket
//! and the graph SVGs. (The JSON API lives in `crate::api` and is merged in [`app`].)
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page: inventory with filters (`kind`, `active`, `q`, `tenant`, `after`), schedules and runs, sites with their last check (and a form adding one through `POST /sites`), graphs, dead letters |
//! | `GET /events?kinds=a,b` | websocket: every outbox event (the event JSON), run progress (`run.progress`), job outcomes (`job.finished`); `kinds` filters by `kind` (`resource.*` matches a prefix) |
//! | `GET /files/graphs/{file}.svg` | an SVG written by a `graph` job |
//! | `GET /graph.svg?kind=business&app=…` | a graph drawn on demand from the store |

mod events;
mod page;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::runtime::{Runtime, Shutdown};

/// What the handlers share.
#[derive(Clone)]
pub struct WebState {
    /// The runtime (store, config, hub).
    pub rt: Arc<Runtime>,
    /// Set when the server shuts down (websockets close).
    pub shutdown: Shutdown,
}

/// The web routes (page, websocket, graphs).
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/events", get(events::events))
        .route("/files/graphs/{file}", get(graph_file))
        .route("/graph.svg", get(graph_on_demand))
        .with_state(state)
}

/// The whole HTTP application of `maestro serve`: the page, `/events`, the graph files, and
/// the JSON API of [`crate::api`] (same paths as `maestro api`).
pub fn app(state: WebState, api: crate::api::ApiState) -> Router {
    router(state).merge(crate::api::router(api))
}

/// A plain-text error response that says what was wrong (never internals).
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        body,
    )
        .into_response()
}

async fn graph_file(State(st): State<WebState>, Path(file): Path<String>) -> Response {
    let Some(stem) = file.strip_suffix(".svg") else {
        return error(StatusCode::NOT_FOUND, "graphs are served as <name>.svg");
    };
    if crate::runtime::safe_file_name(stem) != stem {
        return error(StatusCode::BAD_REQUEST, "a graph name has only letters, digits, `.`, `-` and `_`");
    }
    let path = st.rt.config.server.graphs_dir.join(&file);
    match tokio::fs::read_to_string(&path).await {
        Ok(body) => svg(body),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            error(StatusCode::NOT_FOUND, format!("no graph `{stem}`"))
        }
        Err(e) => {
            tracing::error!(error = %e, path = %path.display(), "reading a graph");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the graph could not be read")
        }
    }
}

/// `?kind=business|infra&app=a&app=b&system=s&client=c&tenant=t` (repeatable keys).
#[derive(Debug, Default)]
struct GraphQuery {
    tenant: Option<String>,
    kind: Option<String>,
    app: Vec<String>,
    system: Vec<String>,
    client: Vec<String>,
}

impl GraphQuery {
    fn parse(query: &str) -> Result<Self, String> {
        let mut q = Self::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            match &*k {
                "tenant" => q.tenant = Some(v),
                "kind" => q.kind = Some(v),
                "app" => q.app.push(v),
                "system" => q.system.push(v),
                "client" => q.client.push(v),
                other => return Err(format!("unknown parameter `{other}`; known: tenant, kind, app, system, client")),
            }
        }
        Ok(q)
    }
}

async fn graph_on_demand(State(st): State<WebState>, uri: axum::http::Uri) -> Response {
    let q = match GraphQuery::parse(uri.query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let kind = match q.kind.as_deref().unwrap_or("business") {
        "business" | "bussiness" => maestro_graph::GraphKind::Business,
        "infra" => maestro_graph::GraphKind::Infra,
        other => return error(StatusCode::BAD_REQUEST, format!("unknown graph kind `{other}`: business or infra")),
    };
    let tenant = q.tenant.unwrap_or_else(|| st.rt.config.tenant.clone());
    let inv = match crate::graph::load_inventory(&*st.rt.store, &tenant).await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "loading the inventory for a graph");
            return error(StatusCode::SERVICE_UNAVAILABLE, "the inventory could not be read");
        }
    };
    let def = maestro_graph::model::GraphDefinition {
        id: "web".into(),
        name: "web".into(),
        kind,
        clients: q.client,
        systems: q.system,
        apps: q.app,
    };
    let job = maestro_graph::build_graph(&inv, &def);
    match (job.result, job.infra) {
        (Some(r), _) => svg(r.drawing.svg),
        (None, Some(r)) => svg(r.svg),
        (None, None) => error(StatusCode::UNPROCESSABLE_ENTITY, format!("no graph: {:?}: {}", job.status, job.msg)),
    }
}
