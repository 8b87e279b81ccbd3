//! Run with: cargo run -p example-import -- examples/data/demo-inventory.json
//!
//! Imports an inventory file (the File template) into `example-import.db` (SQLite) and prints
//! what changed. Run it twice to see "unchanged"; edit the file to see updates and deactivations.

use std::sync::Arc;

use anyhow::{Context, Result};
use maestro_core::{ConfigErrors, NoObserver, Pipeline, RunJob};

#[tokio::main]
async fn main() -> Result<()> {
    let path = std::env::args().nth(1).context("usage: example-import <inventory.json|yaml>")?;
    let mut errors = ConfigErrors::new();
    let config = serde_json::json!({"type": "file", "connection": "example-files", "paths": [path]});
    let source = maestro_providers::build_source("example", &config, "source", &mut errors)
        .ok_or_else(|| anyhow::anyhow!("{errors}"))?;
    let store = Arc::new(maestro_store::SqliteStore::open("sqlite://example-import.db").await?);
    let job = RunJob {
        tenant: "example",
        connection: &source.connection,
        provider: source.provider.as_ref(),
        translator: source.translator.as_ref(),
    };
    let report = Pipeline::new(store).run_and_record(job, &NoObserver).await?;
    let c = report.stats.changes;
    println!(
        "{:?}: created {}, updated {}, unchanged {}, reactivated {}, deactivated {}",
        report.status, c.created, c.updated, c.unchanged, c.reactivated, report.stats.deactivated
    );
    for s in report.scopes.iter().filter(|s| s.error.is_some() || s.item_error_count > 0) {
        println!("  {} {:?}: {}", s.scope, s.outcome, s.error.clone().unwrap_or_else(|| s.item_errors.join("; ")));
    }
    Ok(())
}
