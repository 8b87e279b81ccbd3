//! The reference server's JSON API (axum).
//!
//! [`router`] builds every route with its state applied; [`serve`] runs it with graceful
//! shutdown. Routes, auth and examples: `docs/api.md`; the OpenAPI document is served at
//! `/openapi.json` and generated from this code ([`openapi::ApiDoc`]).
//!
//! Every response body is JSON (except `/metrics`, the SVG/GraphML of a graph); every error is
//! `{"error": {"code", "message", "field"?}}` ([`error::ApiError`]); lists are pages
//! `{"items": [...], "next_cursor": ..., "next": "<url of the next page>"}`.
//!
//! # Example
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use maestro_server::api::{ApiConfig, ApiState, auth::{AuthConfig, issue_token}, router};
//! use tower::ServiceExt;
//! let store = maestro_store::open("sqlite::memory:").await.unwrap();
//! let config = ApiConfig { auth: AuthConfig::new(Some("s3cret"), None, None, None), ..ApiConfig::default() };
//! let app = router(ApiState::new(store, config));
//! let token = issue_token("s3cret", "acme", 60).unwrap();
//! let req = axum::http::Request::get("/resources?limit=10")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! assert_eq!(app.oneshot(req).await.unwrap().status(), 200);
//! # });
//! ```

pub mod auth;
pub mod config;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod metrics;
pub mod openapi;
pub mod routes;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use maestro_core::PipelineConfig;
use maestro_store::AnyStore;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

pub use config::ServerConfig;

use self::auth::AuthConfig;
use self::crypto::SecretKey;
use self::error::ApiError;
use self::metrics::Metrics;

/// What the API needs besides the store.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Token verification.
    pub auth: AuthConfig,
    /// Key sealing connection credentials (`MAESTRO_SECRET_KEY`); without it, connections
    /// with credentials are refused (503).
    pub secret_key: Option<SecretKey>,
    /// Largest request body (bytes); larger ones get 413.
    pub body_limit: usize,
    /// Longest time a request may take before 408.
    pub request_timeout: Duration,
    /// Runs executing at once; more wait their turn (`queued`).
    pub max_concurrent_runs: usize,
    /// Pipeline settings for API-started runs.
    pub pipeline: PipelineConfig,
    /// Directory that `file` connections created through the API read from (their `paths`
    /// must be relative to it). `None` refuses `file` connections through the API, so a caller
    /// cannot make the server read arbitrary files.
    pub file_root: Option<PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            auth: AuthConfig::new(None, None, None, None),
            secret_key: None,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_runs: 4,
            pipeline: PipelineConfig::default(),
            file_root: None,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn AnyStore>,
    pub(crate) config: ApiConfig,
    pub(crate) auth: AuthConfig,
    pub(crate) metrics: Metrics,
    pub(crate) tasks: TaskTracker,
    pub(crate) run_slots: Arc<Semaphore>,
    pub(crate) started: Instant,
    /// The HTTP checker of `POST /sites/{id}/checks` (`None` if it could not be built).
    pub(crate) checker: Option<Arc<maestro_providers::http_check::Checker>>,
}

/// Shared state of every handler: the store, the configuration, metrics and the background
/// tasks (runs, graph builds) that a graceful shutdown waits for.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl ApiState {
    /// State over `store` with `config`.
    pub fn new(store: Arc<dyn AnyStore>, config: ApiConfig) -> Self {
        let slots = config.max_concurrent_runs.max(1);
        let checker = Self::checker(&config);
        Self {
            inner: Arc::new(Inner {
                store,
                auth: config.auth.clone(),
                config,
                metrics: Metrics::new(),
                tasks: TaskTracker::new(),
                run_slots: Arc::new(Semaphore::new(slots)),
                started: Instant::now(),
                checker,
            }),
        }
    }

    /// The checker of run-now checks: each check's time limit stays 2 s below the request
    /// timeout (and at most the checker's default cap of 60 s).
    fn checker(config: &ApiConfig) -> Option<Arc<maestro_providers::http_check::Checker>> {
        use maestro_providers::http_check::{Checker, CheckerConfig};
        let mut c = CheckerConfig::default();
        let below = config.request_timeout.saturating_sub(Duration::from_secs(2)).as_millis();
        c.max_timeout_ms = c.max_timeout_ms.min(u64::try_from(below).unwrap_or(u64::MAX)).max(100);
        match Checker::new(c) {
            Ok(checker) => Some(Arc::new(checker)),
            Err(e) => {
                tracing::error!(error = %e, "the HTTP checker could not be built; POST /sites/{{id}}/checks answers 503");
                None
            }
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AnyStore> {
        &self.inner.store
    }

    /// Wait until every background run and graph build has ended, at most `grace`; then mark
    /// the runs still unfinished `interrupted` (their scopes completed so far stay; nothing
    /// half-written, since every batch is one transaction). Returns how many were interrupted.
    ///
    /// # Errors
    /// The store cannot record the interruption.
    pub async fn drain(&self, grace: Duration) -> Result<u64, ApiError> {
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait()).await.is_ok() {
            return Ok(0);
        }
        tracing::warn!("shutdown grace over: marking unfinished runs interrupted");
        Ok(self.inner.store.interrupt_unfinished_runs(chrono::Utc::now(), "the server stopped during the run").await?)
    }
}

/// Every route of the API, with `state` applied.
pub fn router(state: ApiState) -> Router {
    use routes::*;
    let limit = state.inner.config.body_limit;
    let timeout = state.inner.config.request_timeout;
    Router::new()
        .route("/health", get(system::health))
        .route("/version", get(system::version))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/providers", get(connections::providers))
        .route("/connections", get(connections::list).post(connections::create))
        .route("/connections/{id}", get(connections::get_one).put(connections::update).delete(connections::delete))
        .route("/connections/{id}/runs", post(runs::start))
        .route("/crawler/{provider}/{connection}/{task}", put(runs::crawler))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::get_one))
        .route("/resources", get(resources::list))
        .route("/resources/key/{key}", get(resources::by_key))
        .route("/resources/key/{key}/history", get(resources::history_by_key))
        .route("/resources/{tenant}/{connection}/{kind}/{native_id}", get(resources::get_one))
        .route("/resources/{tenant}/{connection}/{kind}/{native_id}/history", get(resources::history))
        .route("/inventory", get(resources::inventory))
        .route("/graphs", get(graphs::list).post(graphs::create))
        .route("/graphs/{id}", get(graphs::get_one))
        .route("/schedules", get(schedules::list).post(schedules::create))
        .route("/schedules/{name}", get(schedules::get_one).put(schedules::update).delete(schedules::delete))
        .route("/outbox", get(outbox::status))
        .route("/outbox/dead-letters", get(outbox::dead_letters))
        .route("/outbox/dead-letters/{id}/replay", post(outbox::replay))
        .route("/sites", get(sites::list).post(sites::create))
        .route("/sites/{id}", get(sites::get_one).put(sites::update).delete(sites::delete))
        .route("/sites/{id}/checks", get(sites::checks).post(sites::run_now))
        .fallback(system::not_found)
        .method_not_allowed_fallback(system::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve `state`'s router on `listener` until `shutdown` resolves; then stop accepting, let
/// in-flight requests end, and wait up to `grace` for background runs (see [`ApiState::drain`]).
///
/// # Errors
/// The listener fails, or the interruption cannot be recorded.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let interrupted = state
        .inner
        .store
        .interrupt_unfinished_runs(chrono::Utc::now(), "the server stopped during the run")
        .await
        .map_err(std::io::Error::other)?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "runs left unfinished by a previous process marked interrupted");
    }
    axum::serve(listener, router(state.clone())).with_graceful_shutdown(shutdown).await?;
    state.drain(grace).await.map_err(std::io::Error::other)?;
    Ok(())
}
