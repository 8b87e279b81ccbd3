//! Prometheus metrics: request latency by route (recorded by a middleware) and, at each
//! scrape, gauges read from the store (resources by kind, runs by status, outbox backlog and
//! dead letters per sink, scheduler jobs by state).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntGaugeVec, Opts, Registry, TextEncoder};

use super::ApiState;
use super::error::ApiError;

/// The server's metric families.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    latency: HistogramVec,
    resources: IntGaugeVec,
    runs: IntGaugeVec,
    outbox_backlog: IntGaugeVec,
    outbox_dead: IntGaugeVec,
    outbox_delivered: IntGaugeVec,
    jobs: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every family registered.
    pub fn new() -> Self {
        let registry = Registry::new();
        let latency = HistogramVec::new(
            HistogramOpts::new("maestro_http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["method", "route", "status"],
        )
        .expect("valid histogram");
        let g = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels).expect("valid gauge")
        };
        let resources = g("maestro_resources", "Resources by tenant, kind and state", &["tenant", "kind", "active"]);
        let runs = g("maestro_runs", "Runs started through the API, by status", &["status"]);
        let outbox_backlog = g("maestro_outbox_backlog", "Events not yet delivered, per sink", &["sink"]);
        let outbox_dead = g("maestro_outbox_dead_letters", "Dead letters not replayed, per sink", &["sink"]);
        let outbox_delivered = g("maestro_outbox_delivered", "Events delivered, per sink", &["sink"]);
        let jobs = g("maestro_jobs", "Scheduler jobs by state", &["state"]);
        for c in [&resources, &runs, &outbox_backlog, &outbox_dead, &outbox_delivered, &jobs] {
            registry.register(Box::new(c.clone())).expect("unique metric");
        }
        registry.register(Box::new(latency.clone())).expect("unique metric");
        Self { registry, latency, resources, runs, outbox_backlog, outbox_dead, outbox_delivered, jobs }
    }

    /// Refresh the store gauges and render everything in the Prometheus text format.
    ///
    /// # Errors
    /// Store failures.
    pub async fn render(&self, state: &ApiState) -> Result<String, ApiError> {
        let store = &state.inner.store;
        let counts = store.resource_counts().await?;
        self.resources.reset();
        for c in counts {
            self.resources
                .with_label_values(&[c.tenant.as_str(), c.kind.as_str(), if c.active { "true" } else { "false" }])
                .set(i64::try_from(c.count).unwrap_or(i64::MAX));
        }
        self.runs.reset();
        for (s, n) in store.run_request_counts().await? {
            self.runs.with_label_values(&[s.as_str()]).set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.jobs.reset();
        for (s, n) in store.job_counts().await? {
            self.jobs.with_label_values(&[s.as_str()]).set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.outbox_backlog.reset();
        self.outbox_dead.reset();
        self.outbox_delivered.reset();
        for s in store.outbox_status().await? {
            let l = [s.sink.as_str()];
            self.outbox_backlog.with_label_values(&l).set(i64::try_from(s.backlog).unwrap_or(i64::MAX));
            self.outbox_dead.with_label_values(&l).set(i64::try_from(s.dead).unwrap_or(i64::MAX));
            self.outbox_delivered.with_label_values(&l).set(i64::try_from(s.delivered).unwrap_or(i64::MAX));
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
        String::from_utf8(buf).map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))
    }
}

/// Middleware: observe every request's latency under its route template (never the raw path,
/// so ids do not explode the label set).
pub async fn track(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    state
        .inner
        .metrics
        .latency
        .with_label_values(&[method.as_str(), route.as_str(), resp.status().as_str()])
        .observe(start.elapsed().as_secs_f64());
    resp
}
