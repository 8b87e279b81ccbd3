//! Run with: cargo run --release -p maestro-server --example bench_api -- [N] [SECONDS] [CONNECTIONS]
//! or, to seed a file for a run against the `maestro serve` binary:
//! `MAESTRO_SECRETJWT=… cargo run --release -p maestro-server --example bench_api -- seed PATH [N]`
//!
//! Seeds a SQLite store with N synthetic server resources (default 100 000) through the real
//! pipeline, serves the JSON API on 127.0.0.1:0 and runs `wrk` (must be on PATH) for SECONDS
//! (default 60) on `GET /resources?limit=50` with a valid bearer token: first always the first
//! page, then a random page each request (a Lua script picks the cursor, so no page is served
//! from a warm spot twice in a row); then does the same on a bare axum hello-world as the
//! ceiling. Prints wrk's reports (`--latency`: p50/p75/p90/p99). Append the numbers to
//! docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_trait::async_trait;
use maestro_core::testing::PassThroughTranslator;
use maestro_core::{
    Cursor, NoObserver, Page, Pipeline, PipelineConfig, Provider, ProviderError, Repository, RunJob, Scope,
};
use maestro_server::api::auth::{AuthConfig, issue_token};
use maestro_server::api::{ApiConfig, ApiState};
use serde_json::{Value, json};

// The allocator the `maestro` binary runs with (src/main.rs), so these numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PAGE: usize = 1000;

struct Synthetic {
    n: usize,
}

fn instance(i: usize) -> Value {
    let id = format!("i-{i:017x}");
    json!({
        "kind": "server", "id": id, "name": format!("web-{i}"),
        "attributes": {
            "unique_id": id,
            "ipv4_private": format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "status": "running", "instance_type": (["t3.micro", "m5.large", "c5.xlarge", "r5.2xlarge"][i % 4]),
            "cpu": ([2, 2, 4, 8][i % 4]), "memory": ([1, 8, 8, 64][i % 4]),
            "os": {"base": "Linux", "dist": "Amazon Linux", "version": "2023"},
            "datacenters": {"provider": "AWS", "region": "us-east-1", "zone": format!("us-east-1{}", ["a", "b", "c"][i % 3])},
        },
        "tags": {"Name": format!("web-{i}"), "env": (["prod", "staging", "dev"][i % 3]), "team": "platform"},
        "relations": [{"rel": "in_subnet", "kind": "network", "native_id": format!("subnet-{:08x}", i % 97)}]
    })
}

#[async_trait]
impl Provider for Synthetic {
    fn name(&self) -> &str {
        "synthetic"
    }
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(vec![Scope::new("bench", "aws", "server-list", Some("us-east-1".into()))])
    }
    async fn fetch_page(&self, _scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let start: usize = cursor.map_or(0, |c| c.parse().unwrap_or(0));
        let end = (start + PAGE).min(self.n);
        Ok(Page {
            items: (start..end).map(instance).collect(),
            bad_items: Vec::new(),
            next: (end < self.n).then(|| end.to_string()),
        })
    }
}

fn wrk(url: &str, secs: u64, conns: u32, token: Option<&str>, script: Option<&std::path::Path>) -> Result<String> {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s"), "--latency", "--timeout", "5s"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().context("running wrk (apt-get install wrk)")?;
    anyhow::ensure!(out.status.success(), "wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Seed `n` synthetic servers for tenant `bench` through the real pipeline.
async fn seed(repo: Arc<dyn Repository>, n: usize) -> Result<()> {
    let t = Instant::now();
    let provider = Synthetic { n };
    let job = RunJob { tenant: "bench", connection: "aws", provider: &provider, translator: &PassThroughTranslator };
    let config = PipelineConfig { batch_size: 2000, scope_concurrency: 1, ..PipelineConfig::default() };
    let report = Pipeline::new(repo).with_config(config).run_and_record(job, &NoObserver).await?;
    anyhow::ensure!(report.stats.changes.created == n as u64, "seeded {} of {n}", report.stats.changes.created);
    println!("seeded {n} resources in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// `bench_api seed PATH [N]`: seed a SQLite file for a run against the `maestro serve` binary and
/// print a bearer token for tenant `bench`, signed with `$MAESTRO_SECRETJWT` (see docs/benchmarks.md).
async fn seed_only(args: &[String]) -> Result<()> {
    let path = args.first().context("usage: bench_api seed PATH [N]")?;
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    anyhow::ensure!(!std::path::Path::new(path).exists(), "{path} exists: seed a new file");
    let secret = std::env::var("MAESTRO_SECRETJWT").context("set MAESTRO_SECRETJWT to sign the token")?;
    let store = maestro_store::open(&format!("sqlite://{path}")).await?;
    seed(store, n).await?;
    println!("{}", issue_token(&secret, "bench", 24 * 3600)?);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("seed") {
        return seed_only(&args[2..]).await;
    }
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    let secs: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(60);
    let conns: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(32);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = maestro_store::open(&url).await?;

    seed(store.clone(), n).await?;

    let secret = "bench-secret";
    let api = ApiConfig { auth: AuthConfig::new(Some(secret), None, None, None), ..ApiConfig::default() };
    let state = ApiState::new(store, api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(maestro_server::api::serve(listener, state, std::future::pending(), Duration::from_secs(1)));

    let hello = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hello_addr = hello.local_addr()?;
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    tokio::spawn(async move { axum::serve(hello, app).await });

    let token = issue_token(secret, "bench", 3600)?;
    let check =
        reqwest::Client::new().get(format!("http://{addr}/resources?limit=50")).bearer_auth(&token).send().await?;
    anyhow::ensure!(check.status() == 200, "API answered {}", check.status());
    let body: Value = check.json().await?;
    anyhow::ensure!(body["items"].as_array().map(Vec::len) == Some(50), "a page holds 50 items");
    println!("one page of 50 resources: {} bytes of JSON", body.to_string().len());

    // Row ids run 1..=n in a fresh store; a cursor is the last row id of the previous page.
    let script = dir.path().join("random-page.lua");
    std::fs::write(
        &script,
        format!(
            "math.randomseed(42)\n\
             request = function()\n\
               return wrk.format(\"GET\", \"/resources?limit=50&cursor=\" .. math.random(1, {}))\n\
             end\n",
            n.saturating_sub(50).max(1)
        ),
    )?;
    let probe = reqwest::Client::new()
        .get(format!("http://{addr}/resources?limit=50&cursor={}", n / 2))
        .bearer_auth(&token)
        .send()
        .await?;
    let probe: Value = probe.json().await?;
    anyhow::ensure!(probe["items"].as_array().map(Vec::len) == Some(50), "a random page holds 50 items");

    let api_url = format!("http://{addr}/resources?limit=50");
    let base_url = format!("http://{addr}");
    let hello_url = format!("http://{hello_addr}/");
    let (a, r, h) = tokio::task::spawn_blocking(move || -> Result<(String, String, String)> {
        let h = wrk(&hello_url, secs, conns, None, None)?;
        let a = wrk(&api_url, secs, conns, Some(&token), None)?;
        let r = wrk(&base_url, secs, conns, Some(&token), Some(&script))?;
        Ok((a, r, h))
    })
    .await??;
    println!("== bare axum hello-world (ceiling), {secs} s, {conns} connections ==\n{h}");
    println!("== GET /resources?limit=50 (first page) over {n} resources, {secs} s, {conns} connections ==\n{a}");
    println!("== GET /resources?limit=50&cursor=<random> over {n} resources, {secs} s, {conns} connections ==\n{r}");
    Ok(())
}
