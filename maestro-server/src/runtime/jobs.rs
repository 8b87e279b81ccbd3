//! The job kinds the runtime registers. Each handler is `async fn(Arc<Runtime>, JobContext) ->
//! Result<String, JobError>`; the string is a one-line summary for the job journal.
//!
//! Adding a kind: write the handler here and add one `.with(...)` line in
//! [`registry`](super::registry).

use std::sync::Arc;

use maestro_core::scheduler::{JobContext, JobError};
use maestro_core::{Event, OutboxRelay, Pipeline, Repository, RunJob, RunStatus};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Runtime;
use super::events::HubObserver;

fn arg<'a>(ctx: &'a JobContext, key: &str) -> Option<&'a str> {
    ctx.job.args.get(key).and_then(Value::as_str)
}

fn strings(ctx: &JobContext, key: &str) -> Vec<String> {
    match ctx.job.args.get(key) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `crawl {connection, task?}`: run one connection (one discovery task of it, if `task` is given)
/// through the pipeline, recorded under the job's run id. A redelivered job whose run is already
/// recorded as complete or partial does nothing.
pub async fn crawl(rt: Arc<Runtime>, ctx: JobContext) -> Result<String, JobError> {
    let connection = arg(&ctx, "connection").ok_or_else(|| JobError::permanent("crawl needs args.connection"))?;
    let run_id = ctx.job.run_id;
    let recorded = rt.store.get_run(run_id).await.map_err(|e| JobError::transient(e.to_string()))?;
    if let Some(done) = recorded.filter(|r| r.status != RunStatus::Failed) {
        return Ok(format!("skipped: run {run_id} already recorded as {:?}", done.status));
    }
    let built;
    let source = match arg(&ctx, "task") {
        Some(task) => {
            built = rt.config.source_for_task(connection, task).map_err(JobError::permanent)?;
            &built
        }
        None => {
            &rt.config
                .source(connection)
                .ok_or_else(|| JobError::permanent(rt.config.unknown_connection(connection)))?
                .source
        }
    };
    let observer = HubObserver::new(rt.hub.clone(), &ctx.job.tenant, connection, &ctx.job.id);
    let repo: Arc<dyn Repository> = rt.store.clone();
    let job = RunJob {
        tenant: &ctx.job.tenant,
        connection: &source.connection,
        provider: source.provider.as_ref(),
        translator: source.translator.as_ref(),
    };
    let report = Pipeline::new(repo)
        .with_config(rt.config.pipeline.clone())
        .with_run_id(run_id)
        .run_and_record(job, &observer)
        .await
        .map_err(|e| JobError::transient(format!("recording the run: {e}")))?;
    let c = report.stats.changes;
    rt.hub.publish(json!({
        "kind": "run.progress", "tenant": ctx.job.tenant, "connection": connection, "job": ctx.job.id,
        "phase": "finished", "run_id": run_id, "status": report.status, "items": report.stats.items,
        "created": c.created, "updated": c.updated, "deactivated": report.stats.deactivated, "at": chrono::Utc::now(),
    }));
    let summary = format!(
        "run {run_id} {:?}: {} items, created {}, updated {}, unchanged {}, deactivated {}",
        report.status, report.stats.items, c.created, c.updated, c.unchanged, report.stats.deactivated
    );
    match report.status {
        RunStatus::Failed => Err(JobError::transient(format!("{summary}: {}", report.error.unwrap_or_default()))),
        _ => Ok(summary),
    }
}

/// `outbox.relay`: one delivery pass of the outbox to every configured publisher.
pub async fn outbox_relay(rt: Arc<Runtime>, _ctx: JobContext) -> Result<String, JobError> {
    let mut parts = Vec::new();
    let mut failing = Vec::new();
    for p in &rt.config.publishers {
        let relay = OutboxRelay::new(rt.store.clone(), p.clone()).with_config(rt.config.relay.clone());
        let pass = relay.drain().await.map_err(|e| JobError::transient(format!("relay to `{}`: {e}", p.name())))?;
        relay.release().await.map_err(|e| JobError::transient(e.to_string()))?;
        parts.push(format!("{}: {} delivered, {} dead-lettered", p.name(), pass.delivered, pass.dead_lettered));
        if pass.failed {
            failing.push(p.name().to_string());
        }
    }
    if parts.is_empty() {
        return Ok("no publishers configured".into());
    }
    // A failing sink keeps its events and backs off on its own; the job itself succeeded.
    if !failing.is_empty() {
        tracing::warn!(sinks = ?failing, "publishers failing; events stay in the outbox");
    }
    Ok(parts.join("; "))
}

/// `graph {kind?: business|infra, apps?, systems?, clients?, id?}`: draw a graph of the tenant's
/// inventory into `server.graphs_dir/<id>.svg` and append a `graph.finished` event.
pub async fn graph(rt: Arc<Runtime>, ctx: JobContext) -> Result<String, JobError> {
    let kind = match arg(&ctx, "kind").unwrap_or("business") {
        "business" | "bussiness" => maestro_graph::GraphKind::Business,
        "infra" => maestro_graph::GraphKind::Infra,
        other => return Err(JobError::permanent(format!("unknown graph kind `{other}`: business or infra"))),
    };
    let id =
        arg(&ctx, "id").map(str::to_string).or_else(|| ctx.job.schedule.clone()).unwrap_or_else(|| ctx.job.id.clone());
    let file_name = super::safe_file_name(&id);
    let inv = crate::graph::load_inventory(&*rt.store, &ctx.job.tenant)
        .await
        .map_err(|e| JobError::transient(format!("loading the inventory: {e}")))?;
    let def = maestro_graph::model::GraphDefinition {
        id: id.clone(),
        name: id.clone(),
        kind,
        clients: strings(&ctx, "clients"),
        systems: strings(&ctx, "systems"),
        apps: strings(&ctx, "apps"),
    };
    let job = maestro_graph::build_graph(&inv, &def);
    let svg = job.result.as_ref().map(|r| r.drawing.svg.clone()).or_else(|| job.infra.as_ref().map(|r| r.svg.clone()));
    let mut written = None;
    if let Some(svg) = svg {
        let dir = &rt.config.server.graphs_dir;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| JobError::transient(format!("creating `{}`: {e}", dir.display())))?;
        let path = dir.join(format!("{file_name}.svg"));
        let tmp = dir.join(format!(".{file_name}.svg.tmp"));
        // Write then rename: the page never serves a half-written SVG.
        tokio::fs::write(&tmp, svg)
            .await
            .map_err(|e| JobError::transient(format!("writing `{}`: {e}", tmp.display())))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| JobError::transient(format!("renaming to `{}`: {e}", path.display())))?;
        written = Some(format!("{file_name}.svg"));
    }
    let event = Event {
        id: Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("graph.finished/{}", ctx.job.id).as_bytes()),
        kind: "graph.finished".into(),
        tenant: ctx.job.tenant.clone(),
        subject: id.clone(),
        run_id: Some(ctx.job.run_id),
        occurred_at: chrono::Utc::now(),
        payload: json!({"status": format!("{:?}", job.status), "msg": job.msg, "svg": written}),
    };
    rt.store.append_events(&[event]).await.map_err(|e| JobError::transient(e.to_string()))?;
    match job.status {
        maestro_graph::JobStatus::Error => Err(JobError::permanent(format!("graph `{id}`: {}", job.msg))),
        s => Ok(format!("graph `{id}` {s:?}: {}", job.msg)),
    }
}

/// `tix.process`: one pass of the TiX processor over every installation (needs a `tix:` section).
pub async fn tix_process(rt: Arc<Runtime>, _ctx: JobContext) -> Result<String, JobError> {
    let Some(cfg) = rt.config.tix.clone() else {
        return Err(JobError::permanent("tix.process needs a `tix:` section in the config"));
    };
    let processor = maestro_providers::tix::TixProcessor::new(cfg)
        .map_err(|e| JobError::permanent(e.to_string()))?
        .with_owner(rt.node_id.clone());
    let report = processor.process_all(&*rt.store).await.map_err(|e| JobError::transient(e.to_string()))?;
    Ok(format!(
        "tix: {} results, {} quarantined, {} skipped, {} failed",
        report.results(),
        report.quarantined(),
        report.skipped(),
        report.failed()
    ))
}

/// `site.check {tenant, site_ids?}`: check the tenant's due sites (all of `site_ids` if given),
/// store results and `site.check` events together (see `maestro_providers::http_check`).
pub async fn site_check(rt: Arc<Runtime>, ctx: JobContext) -> Result<String, JobError> {
    use maestro_providers::http_check::{Checker, CheckerConfig, SiteCheckJob};
    let checker = Checker::new(CheckerConfig::default()).map_err(|e| JobError::permanent(e.to_string()))?;
    let store: Arc<dyn maestro_core::monitor::SiteStore> = rt.store.clone();
    let inventory: Arc<dyn maestro_core::Repository> = rt.store.clone();
    let job = SiteCheckJob::new(store, Some(inventory), Arc::new(checker));
    let s = job.execute(&ctx.job.args).await?;
    Ok(format!("{} sites checked, {} failed, {} results stored", s.checked, s.failed, s.stored))
}
