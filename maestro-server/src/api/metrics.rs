//! Prometheus metrics: request latency by route (recorded by a middleware) and, at each
//! scrape, gauges read from the store (resources by kind, runs by status, outbox backlog and
//! dead letters per sink, scheduler jobs by state, site check results by outcome and each
//! site's newest result).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, GaugeVec, HistogramOpts, HistogramVec, IntGaugeVec, Opts, Registry, TextEncoder};

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
    site_checks: IntGaugeVec,
    site_up: IntGaugeVec,
    site_status: IntGaugeVec,
    site_response: GaugeVec,
    site_checked_at: GaugeVec,
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
        let site = &["tenant", "site"];
        let site_checks = g(
            "maestro_site_checks",
            "Stored check results of existing sites, by outcome",
            &["tenant", "site", "success"],
        );
        let site_up = g("maestro_site_up", "1 if the site's newest check succeeded, else 0", site);
        let site_status =
            g("maestro_site_last_status_code", "Status code of the site's newest check (0: no response)", site);
        let f = |name: &str, help: &str| GaugeVec::new(Opts::new(name, help), site).expect("valid gauge");
        let site_response = f(
            "maestro_site_last_response_time_seconds",
            "Time to response headers of the site's newest check (absent without a response)",
        );
        let site_checked_at = f("maestro_site_last_check_timestamp_seconds", "Unix time of the site's newest check");
        for c in [
            &resources,
            &runs,
            &outbox_backlog,
            &outbox_dead,
            &outbox_delivered,
            &jobs,
            &site_checks,
            &site_up,
            &site_status,
        ] {
            registry.register(Box::new(c.clone())).expect("unique metric");
        }
        for c in [&site_response, &site_checked_at] {
            registry.register(Box::new(c.clone())).expect("unique metric");
        }
        registry.register(Box::new(latency.clone())).expect("unique metric");
        Self {
            registry,
            latency,
            resources,
            runs,
            outbox_backlog,
            outbox_dead,
            outbox_delivered,
            jobs,
            site_checks,
            site_up,
            site_status,
            site_response,
            site_checked_at,
        }
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
        self.site_checks.reset();
        self.site_up.reset();
        self.site_status.reset();
        self.site_response.reset();
        self.site_checked_at.reset();
        for st in store.check_stats().await? {
            let id = st.site_id.to_string();
            let l = [st.tenant.as_str(), id.as_str()];
            for (outcome, n) in [("true", st.successes), ("false", st.failures)] {
                self.site_checks
                    .with_label_values(&[st.tenant.as_str(), id.as_str(), outcome])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            self.site_up.with_label_values(&l).set(i64::from(st.last.success));
            self.site_status.with_label_values(&l).set(i64::from(st.last.status_code.unwrap_or(0)));
            if let Some(ms) = st.last.response_time_ms {
                self.site_response.with_label_values(&l).set(ms / 1000.0);
            }
            let at = st.last.checked_at.timestamp_micros() as f64 / 1e6;
            self.site_checked_at.with_label_values(&l).set(at);
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
