//! Site check throughput: 1,000 sites in a SQLite `sites` table, all pointing at a fast
//! loopback axum server; checks/s and RSS, compared with `wrk` against the same server.
//!
//! Run with: `cargo run --release -p maestro-providers --example bench_checks [sites] [concurrency] [rounds]`
//! (needs `wrk` on the PATH for the ceiling; without it only the checker is measured).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::get;
use maestro_core::PageRequest;
use maestro_core::monitor::{Site, SiteStore};
use maestro_providers::http_check::{Checker, CheckerConfig, validate_site};
use maestro_store::SqliteStore;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn wrk(url: &str, connections: usize) -> Option<f64> {
    let out =
        std::process::Command::new("wrk").args(["-t2", &format!("-c{connections}"), "-d5s", url]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find(|l| l.starts_with("Requests/sec:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let concurrency: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);

    let app = Router::new().route("/ok", get(|| async { "all ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    for i in 0..n {
        let mut site = Site::new("bench", format!("http://{addr}/ok?site={i}"));
        site.regexp = Some("ok".into());
        site.conditions = vec!["[STATUS] == 200".into(), "[RESPONSE_TIME] < 5000".into()];
        store.create_site(&site).await?;
    }
    let sites: Vec<Site> = store.list_sites("bench", true, &PageRequest::first(10_000)).await?.items;
    anyhow::ensure!(sites.len() == n, "expected {n} sites, got {}", sites.len());
    let rss_before = rss_kib("VmRSS:");
    println!("{n} sites, concurrency {concurrency}, {rounds} rounds per mode, RSS before {} MiB", rss_before / 1024);

    let mut best = Vec::new();
    for reuse in [true, false] {
        let checker =
            Checker::new(CheckerConfig { concurrency, reuse_connections: reuse, ..CheckerConfig::default() })?;
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let compiled =
                sites.iter().map(|s| validate_site(s).map_err(anyhow::Error::from)).collect::<Result<Vec<_>>>()?;
            let t = Instant::now();
            let summary = checker.run(compiled, &store, None).await.context("run")?;
            let secs = t.elapsed().as_secs_f64();
            anyhow::ensure!(
                summary.failed == 0,
                "{} checks failed: {:?}",
                summary.failed,
                summary.results.iter().find(|r| !r.success)
            );
            rates.push(n as f64 / secs);
            // Distinct check times per round (µs resolution keys).
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let max = rates.iter().cloned().fold(0.0, f64::max);
        println!(
            "checker ({}): {} checks/s (rounds: {}), results + events stored in SQLite",
            if reuse { "keep-alive" } else { "new connection per check" },
            max.round(),
            rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
        );
        best.push(max);
    }
    println!("peak RSS {} MiB (VmHWM), now {} MiB", rss_kib("VmHWM:") / 1024, rss_kib("VmRSS:") / 1024);

    let url = format!("http://{addr}/ok");
    let ceiling = tokio::task::spawn_blocking(move || wrk(&url, concurrency)).await?;
    match ceiling {
        Some(rps) => {
            println!("wrk -t2 -c{concurrency} -d5s (keep-alive): {rps:.0} req/s");
            println!("ratio keep-alive checker / wrk: {:.0} %", 100.0 * best[0] / rps);
            println!("ratio new-connection checker / wrk: {:.0} %", 100.0 * best[1] / rps);
        }
        None => println!("wrk not found: no ceiling measured"),
    }
    Ok(())
}
