//! The CLI subcommands as library functions (the binary only parses arguments).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use maestro_core::{
    ChangeOp, HistoryQuery, Kind, OutboxRelay, PageRequest, Pipeline, PipelineConfig, Publisher, RelayConfig,
    Repository, ResourceFilter, ResourceKey, RunJob, RunReport, RunStatus, ScopeOutcome,
};
use maestro_providers::Source;
use maestro_store::AnyStore;

use crate::config::RunConfig;
use crate::progress::ProgressObserver;

/// The demo inventory (the original server-app demo dataset in the File template shape).
pub const DEMO_INVENTORY: &str = include_str!("../../examples/data/demo-inventory.json");

/// Run every source of `config` once, then deliver the outbox to every publisher.
/// Returns the run reports.
///
/// # Errors
/// The database cannot be opened or a run cannot be recorded. Provider failures are not errors:
/// they are in the reports.
pub async fn run(config: RunConfig, out: &mut dyn Write) -> Result<Vec<RunReport>> {
    let store = maestro_store::open(&config.database)
        .await
        .with_context(|| format!("opening the database ({})", scheme(&config.database)))?;
    let mut reports = Vec::new();
    for source in &config.sources {
        let report = run_source(&store, &config.tenant, source, &config.pipeline).await?;
        print_report(out, &report)?;
        reports.push(report);
    }
    deliver(&store, &config.publishers, &config.relay, out).await?;
    Ok(reports)
}

fn scheme(url: &str) -> &str {
    url.split(':').next().unwrap_or("")
}

async fn run_source(
    store: &Arc<dyn AnyStore>,
    tenant: &str,
    source: &Source,
    pipeline: &PipelineConfig,
) -> Result<RunReport> {
    let progress = ProgressObserver::new(&format!("{} ({})", source.connection, source.provider.name()));
    let repo: Arc<dyn Repository> = store.clone();
    let job = RunJob {
        tenant,
        connection: &source.connection,
        provider: source.provider.as_ref(),
        translator: source.translator.as_ref(),
    };
    let report = Pipeline::new(repo)
        .with_config(pipeline.clone())
        .run_and_record(job, &progress)
        .await
        .context("recording the run")?;
    progress.finish();
    tracing::info!(run = %report.run_id, status = ?report.status, created = report.stats.changes.created, deactivated = report.stats.deactivated, "run finished");
    Ok(report)
}

/// Drain the outbox to each publisher once.
async fn deliver(
    store: &Arc<dyn AnyStore>,
    publishers: &[Arc<dyn Publisher>],
    relay: &RelayConfig,
    out: &mut dyn Write,
) -> Result<()> {
    for p in publishers {
        let r = OutboxRelay::new(store.clone(), p.clone()).with_config(relay.clone());
        let pass = r.drain().await.with_context(|| format!("delivering to `{}`", p.name()))?;
        r.release().await?;
        let status = store.outbox_status().await?;
        let backlog = status.iter().find(|s| s.sink == p.name()).map_or(0, |s| s.backlog);
        writeln!(
            out,
            "  outbox → {}: {} delivered, {} dead-lettered, {} waiting",
            p.name(),
            pass.delivered,
            pass.dead_lettered,
            backlog
        )?;
        if pass.failed || pass.backing_off {
            writeln!(out, "    (the sink is failing; events stay in the outbox and are retried on the next run)")?;
        }
    }
    Ok(())
}

/// Print one run's summary.
pub fn print_report(out: &mut dyn Write, r: &RunReport) -> std::io::Result<()> {
    let c = r.stats.changes;
    writeln!(
        out,
        "run {} [{} / {}] {:?}: {} items → created {}, updated {}, unchanged {}, reactivated {}, deactivated {}",
        r.run_id,
        r.provider,
        r.connection,
        r.status,
        r.stats.items,
        c.created,
        c.updated,
        c.unchanged,
        c.reactivated,
        r.stats.deactivated
    )?;
    if let Some(e) = &r.error {
        writeln!(out, "  error: {e}")?;
    }
    for s in &r.scopes {
        if s.outcome != ScopeOutcome::Complete {
            writeln!(out, "  scope {} {:?}: {}", s.scope.local_key(), s.outcome, s.error.clone().unwrap_or_default())?;
            for e in &s.item_errors {
                writeln!(out, "    - {e}")?;
            }
            if s.item_error_count as usize > s.item_errors.len() {
                writeln!(out, "    … {} more item error(s)", s.item_error_count as usize - s.item_errors.len())?;
            }
        } else if s.empty {
            writeln!(
                out,
                "  scope {} completed with no resources: everything in it was deactivated",
                s.scope.local_key()
            )?;
        }
    }
    Ok(())
}

/// Exit code for a set of reports: 0 complete, 2 partial, 1 failed.
pub fn exit_code(reports: &[RunReport]) -> i32 {
    if reports.iter().any(|r| r.status == RunStatus::Failed) {
        1
    } else if reports.iter().any(|r| r.status == RunStatus::Partial) {
        2
    } else {
        0
    }
}

async fn count_by_kind(repo: &dyn Repository, tenant: &str, active: Option<bool>) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    let mut page = PageRequest::first(1000);
    let filter = ResourceFilter { active, ..ResourceFilter::tenant(tenant) };
    loop {
        let p = repo.list_resources(&filter, &page).await?;
        for r in &p.items {
            *counts.entry(r.key.kind.to_string()).or_default() += 1;
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(counts),
        }
    }
}

fn fmt_counts(c: &BTreeMap<String, u64>) -> String {
    c.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

/// The demo: import the demo inventory into a SQLite file, import it again (unchanged), then
/// remove one server and change one application and import again (one deactivation, one update).
///
/// # Errors
/// The working directory cannot be written, or a run fails unexpectedly.
pub async fn demo(dir: &Path, out: &mut dyn Write) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let db = dir.join("maestro.db");
    for f in ["maestro.db", "maestro.db-wal", "maestro.db-shm", "events.jsonl"] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing the previous demo's `{}`", p.display()))?;
        }
    }
    let inventory = dir.join("inventory.json");
    std::fs::write(&inventory, DEMO_INVENTORY).with_context(|| format!("writing `{}`", inventory.display()))?;
    let events = dir.join("events.jsonl");
    let config_text = format!(
        "database: sqlite://{db}\ntenant: demo\nsources:\n  - type: file\n    connection: demo-files\n    paths: [{inv}]\npublishers:\n  - type: jsonl\n    path: {ev}\n",
        db = db.display(),
        inv = inventory.display(),
        ev = events.display()
    );
    let config_path = dir.join("maestro.yaml");
    std::fs::write(&config_path, &config_text)?;
    writeln!(out, "maestro demo: the server-app demo dataset imported with the `file` provider into {}", db.display())?;
    writeln!(
        out,
        "(config written to {}; run it yourself with `maestro run {}`)\n",
        config_path.display(),
        config_path.display()
    )?;

    writeln!(out, "1. First import")?;
    let r1 = run(RunConfig::load(&config_path)?, out).await?;
    let store = maestro_store::open(&format!("sqlite://{}", db.display())).await?;
    let repo: &dyn Repository = &*store;
    writeln!(out, "   created by kind: {}\n", fmt_counts(&count_by_kind(repo, "demo", Some(true)).await?))?;
    if r1[0].stats.changes.created == 0 {
        bail!("the first import created nothing");
    }

    writeln!(out, "2. The same files again")?;
    let r2 = run(RunConfig::load(&config_path)?, out).await?;
    writeln!(
        out,
        "   {} unchanged, {} written: unchanged items cost no write\n",
        r2[0].stats.changes.unchanged,
        r2[0].stats.changes.created + r2[0].stats.changes.updated
    )?;

    writeln!(out, "3. One server removed from the file, one application changed")?;
    let mut doc: serde_json::Value = serde_json::from_str(DEMO_INVENTORY)?;
    let removed = doc["servers"].as_array_mut().context("servers array")?.remove(0);
    let removed_id = removed["unique_id"].as_str().context("unique_id")?.to_string();
    let app = &mut doc["applications"][0];
    let app_name = app["name"].as_str().context("application name")?.to_string();
    app["language"] = serde_json::json!("Rust");
    std::fs::write(&inventory, serde_json::to_string_pretty(&doc)?)?;
    let r3 = run(RunConfig::load(&config_path)?, out).await?;
    writeln!(out, "   updated {}, deactivated {}", r3[0].stats.changes.updated, r3[0].stats.deactivated)?;
    for (kind, id) in [(Kind::SERVER, removed_id.as_str()), (Kind::APPLICATION, app_name.as_str())] {
        let key = ResourceKey::new("demo", "demo-files", kind.clone(), id);
        let hist = repo
            .history(
                &HistoryQuery { tenant: "demo".into(), key: Some(key.clone()), since: None, until: None },
                &PageRequest::first(100),
            )
            .await?;
        let ops: Vec<String> = hist
            .items
            .iter()
            .map(|c| match c.op {
                ChangeOp::Updated => format!(
                    "updated ({})",
                    c.diff
                        .iter()
                        .map(|d| format!("{}: {} → {}", d.path, show(&d.old), show(&d.new)))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                op => op.as_str().to_string(),
            })
            .collect();
        writeln!(out, "   history of {kind} `{id}`: {}", ops.join(", "))?;
    }
    let inactive = count_by_kind(repo, "demo", Some(false)).await?;
    writeln!(out, "   inactive now: {}", fmt_counts(&inactive))?;
    let lines = std::fs::read_to_string(&events).map(|s| s.lines().count()).unwrap_or(0);
    writeln!(out, "\n{lines} events were delivered to {} through the outbox.", events.display())?;
    Ok(())
}

fn show(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or_else(|| "∅".to_string(), |v| v.to_string())
}

/// `maestro resources`: list resources of a tenant.
///
/// # Errors
/// Database errors.
pub async fn list_resources(database: &str, filter: ResourceFilter, limit: u32, out: &mut dyn Write) -> Result<()> {
    let store = maestro_store::open(database).await?;
    let mut page = PageRequest::first(limit.clamp(1, 1000));
    let mut shown = 0u32;
    loop {
        let p = store.list_resources(&filter, &page).await?;
        for r in &p.items {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                r.key.kind,
                r.key.native_id,
                if r.active { "active" } else { "inactive" },
                r.scope,
                r.doc.name
            )?;
            shown += 1;
            if shown >= limit {
                return Ok(());
            }
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(()),
        }
    }
}

/// `maestro history`: changes of one resource.
///
/// # Errors
/// Database errors.
pub async fn history(database: &str, key: ResourceKey, out: &mut dyn Write) -> Result<()> {
    let store = maestro_store::open(database).await?;
    let q = HistoryQuery { tenant: key.tenant.clone(), key: Some(key), since: None, until: None };
    let mut page = PageRequest::first(500);
    loop {
        let p = store.history(&q, &page).await?;
        for c in &p.items {
            writeln!(
                out,
                "{}\t{}\tv{}\t{}",
                c.at.to_rfc3339(),
                c.op.as_str(),
                c.version,
                serde_json::to_string(&c.diff)?
            )?;
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(()),
        }
    }
}

/// `maestro outbox status|dead|replay`.
///
/// # Errors
/// Database errors, or an unknown dead letter id.
pub async fn outbox(database: &str, action: OutboxAction, out: &mut dyn Write) -> Result<()> {
    let store = maestro_store::open(database).await?;
    match action {
        OutboxAction::Status => {
            for s in store.outbox_status().await? {
                writeln!(
                    out,
                    "{}\tbacklog {}\tdelivered {}\tdead {}\t{}",
                    s.sink,
                    s.backlog,
                    s.delivered,
                    s.dead,
                    s.last_error.unwrap_or_default()
                )?;
            }
        }
        OutboxAction::Dead { sink } => {
            let mut page = PageRequest::first(500);
            loop {
                let p = store.dead_letters(sink.as_deref(), &page).await?;
                for d in &p.items {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{} attempts\t{}",
                        d.id, d.sink, d.event.kind, d.state, d.attempts, d.error
                    )?;
                }
                match p.next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
        }
        OutboxAction::Replay { id } => {
            store.request_replay(id).await?;
            writeln!(out, "dead letter {id} will be delivered again by its sink's next relay pass")?;
        }
    }
    Ok(())
}

/// What `maestro outbox` does.
#[derive(Debug, Clone)]
pub enum OutboxAction {
    /// Backlog and counts per sink.
    Status,
    /// List dead letters.
    Dead {
        /// Only this sink.
        sink: Option<String>,
    },
    /// Ask for a dead letter to be delivered again.
    Replay {
        /// Its id.
        id: i64,
    },
}

/// The default demo directory.
pub fn default_demo_dir() -> PathBuf {
    PathBuf::from("maestro-demo")
}
