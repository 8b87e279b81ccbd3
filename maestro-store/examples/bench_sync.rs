//! Run with: cargo run --release -p maestro-store --example bench_sync -- [sqlite|postgres] [N]
//!
//! First sync of N synthetic EC2-sized resources through the real pipeline into a fresh store,
//! a re-sync with 1 % changed, and a raw bulk insert of the same rows as the ceiling. Prints
//! rates and peak RSS (VmHWM). PostgreSQL uses `DATABASE_URL` and a private schema.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use async_trait::async_trait;
use maestro_core::testing::PassThroughTranslator;
use maestro_core::{
    Cursor, NoObserver, Page, Pipeline, PipelineConfig, Provider, ProviderError, Repository, RunJob, Scope,
};
use serde_json::{Value, json};

const PAGE: usize = 1000;

/// Generates items on the fly: nothing is held in memory.
struct Synthetic {
    n: usize,
    /// Items whose index is a multiple of `churn_every` get this generation's values.
    generation: AtomicU32,
    churn_every: usize,
}

fn instance(i: usize, generation: u32, churn_every: usize) -> Value {
    let changed = generation > 0 && i % churn_every == 0;
    let state = if changed { "stopped" } else { "running" };
    let id = format!("i-{i:017x}");
    json!({
        "kind": "server",
        "id": id,
        "name": format!("web-{i}"),
        "attributes": {
            "unique_id": id,
            "ipv4_private": format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "ipv4_public": format!("52.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "dns_private": format!("ip-10-{}-{}-{}.ec2.internal", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "status": state,
            "active": true,
            "image": "ami-0abcdef1234567890",
            "instance_type": (["t3.micro", "m5.large", "c5.xlarge", "r5.2xlarge"][i % 4]),
            "cpu": ([2, 2, 4, 8][i % 4]),
            "memory": ([1, 8, 8, 64][i % 4]),
            "os": {"base": "Linux", "dist": "Amazon Linux", "version": "2023"},
            "datacenters": {"provider": "AWS", "region": "us-east-1", "zone": format!("us-east-1{}", ["a", "b", "c"][i % 3]),
                             "subnet_id": format!("subnet-{:08x}", i % 97), "vpc_id": format!("vpc-{:08x}", i % 7)},
            "storage": [{"name": "/dev/xvda", "volume_id": format!("vol-{i:017x}"), "size": 8, "root": true, "status": "attached",
                         "attach_time": "2024-03-01T10:00:00Z", "delete_termination": true}],
            "network_interface": [{"id": format!("eni-{i:017x}"), "mac": "0a:1b:2c:3d:4e:5f", "security_groups": [format!("sg-{:08x}", i % 13)]}],
            "launch_time": "2024-03-01T09:59:12Z",
            "architecture": "x86_64", "hypervisor": "xen", "virtualization_type": "hvm", "ebs_optimized": false,
            "monitoring": "disabled", "root_device_type": "ebs", "source_dest_check": true, "key_name": "deploy-key",
            "iam_instance_profile": "arn:aws:iam::123456789012:instance-profile/web",
        },
        "tags": {"Name": format!("web-{i}"), "env": (["prod", "staging", "dev"][i % 3]), "team": "platform", "cost-center": "cc-1042"},
        "relations": [
            {"rel": "in_subnet", "kind": "network", "native_id": format!("subnet-{:08x}", i % 97)},
            {"rel": "attached_volume", "kind": "volume", "native_id": format!("vol-{i:017x}")}
        ]
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
        let g = self.generation.load(Ordering::SeqCst);
        let items = (start..end).map(|i| instance(i, g, self.churn_every)).collect();
        Ok(Page { items, bad_items: Vec::new(), next: (end < self.n).then(|| end.to_string()) })
    }
}

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map(String::as_str).unwrap_or("sqlite").to_string();
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let repo: Arc<dyn Repository> = match backend.as_str() {
        "sqlite" => Arc::new(
            maestro_store::SqliteStore::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?,
        ),
        "postgres" => {
            let url = std::env::var("DATABASE_URL").context("set DATABASE_URL for the PostgreSQL benchmark")?;
            Arc::new(maestro_store::PostgresStore::open_in_schema(&url, Some(&schema)).await?)
        }
        other => anyhow::bail!("unknown backend `{other}`: sqlite or postgres"),
    };
    let provider = Synthetic { n, generation: AtomicU32::new(0), churn_every: 100 };
    let sample = serde_json::to_vec(&instance(12345, 0, 100))?.len();
    println!("backend {backend}, {n} resources, ~{sample} bytes of raw JSON each");
    let config = PipelineConfig { batch_size: 2000, scope_concurrency: 1, ..PipelineConfig::default() };
    let pipeline = Pipeline::new(repo.clone()).with_config(config);
    let job = || RunJob { tenant: "bench", connection: "aws", provider: &provider, translator: &PassThroughTranslator };

    let t = Instant::now();
    let r1 = pipeline.run(job(), &NoObserver).await;
    let first = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        r1.stats.changes.created == n as u64,
        "first sync created {} of {n}: {r1:?}",
        r1.stats.changes.created
    );
    let rss_first = peak_rss_mb();
    println!("first sync:  {first:7.2} s  {:>9.0} resources/s  peak RSS {rss_first:.0} MB", n as f64 / first);

    provider.generation.store(1, Ordering::SeqCst);
    let t = Instant::now();
    let r2 = pipeline.run(job(), &NoObserver).await;
    let resync = t.elapsed().as_secs_f64();
    println!(
        "re-sync 1 %: {resync:7.2} s  {:>9.0} resources/s  updated {} unchanged {} deactivated {}  ({:.1}x faster than first sync)",
        n as f64 / resync,
        r2.stats.changes.updated,
        r2.stats.changes.unchanged,
        r2.stats.deactivated,
        first / resync
    );
    println!("peak RSS after both syncs: {:.0} MB", peak_rss_mb());

    // Ceiling: the same rows, multi-row INSERT into a bare copy of the resources table, no
    // lookups, no history, no outbox.
    let t = Instant::now();
    match backend.as_str() {
        "sqlite" => raw_sqlite(&dir, n).await?,
        _ => raw_postgres(&std::env::var("DATABASE_URL")?, &schema, n).await?,
    }
    let raw = t.elapsed().as_secs_f64();
    println!(
        "raw bulk insert of the same rows: {raw:7.2} s  {:>9.0} rows/s  → first sync reaches {:.0} % of it",
        n as f64 / raw,
        100.0 * raw / first
    );
    if backend == "postgres" {
        let url = std::env::var("DATABASE_URL")?;
        let pool = sqlx::PgPool::connect(&url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&pool).await?;
    }
    Ok(())
}

struct Row {
    kind: String,
    id: String,
    name: String,
    attrs: String,
    rels: String,
    tags: String,
    sum: Vec<u8>,
}

fn row(i: usize) -> Row {
    let v = instance(i, 0, 100);
    Row {
        kind: "server".into(),
        id: v["id"].as_str().unwrap_or_default().into(),
        name: v["name"].as_str().unwrap_or_default().into(),
        attrs: v["attributes"].to_string(),
        rels: v["relations"].to_string(),
        tags: v["tags"].to_string(),
        sum: maestro_core::checksum::checksum_of(&v, &[], "1").0.to_vec(),
    }
}

async fn raw_sqlite(dir: &tempfile::TempDir, n: usize) -> Result<()> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let opts = SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = sqlx::SqlitePool::connect_with(opts).await?;
    sqlx::query(
        "CREATE TABLE resources (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, connection TEXT NOT NULL, kind TEXT NOT NULL, \
         native_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, active INTEGER NOT NULL, attributes TEXT NOT NULL, \
         relations TEXT NOT NULL, tags TEXT NOT NULL, checksum BLOB NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, \
         updated_at INTEGER NOT NULL, version INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE UNIQUE INDEX k ON resources (tenant, connection, kind, native_id)").execute(&pool).await?;
    let now = chrono::Utc::now().timestamp_micros();
    for start in (0..n).step_by(2000) {
        let rows: Vec<Row> = (start..(start + 2000).min(n)).map(row).collect();
        let mut tx = pool.begin().await?;
        for chunk in rows.chunks(500) {
            let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "INSERT INTO resources (tenant, connection, kind, native_id, scope, name, active, attributes, relations, tags, checksum, first_seen, last_seen, updated_at, version) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind("bench")
                    .push_bind("aws")
                    .push_bind(&r.kind)
                    .push_bind(&r.id)
                    .push_bind("server-list@us-east-1")
                    .push_bind(&r.name)
                    .push_bind(true)
                    .push_bind(&r.attrs)
                    .push_bind(&r.rels)
                    .push_bind(&r.tags)
                    .push_bind(&r.sum)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(1i64);
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn raw_postgres(url: &str, schema: &str, n: usize) -> Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    let t = format!("{schema}.raw_resources");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE {t} (LIKE {schema}.resources INCLUDING ALL)")))
        .execute(&pool)
        .await?;
    let now = chrono::Utc::now();
    for start in (0..n).step_by(2000) {
        let rows: Vec<Row> = (start..(start + 2000).min(n)).map(row).collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {t} (tenant, connection, kind, native_id, scope, name, active, attributes, relations, tags, checksum, first_seen, last_seen, updated_at, version) \
             SELECT 'bench', 'aws', k, n, 'server-list@us-east-1', nm, true, a::jsonb, r::jsonb, tg::jsonb, c, $7, $7, $7, 1 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::bytea[]) AS x(k, n, nm, a, r, tg, c)"
        )))
        .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.attrs.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.rels.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.tags.as_str()).collect::<Vec<_>>())
        .bind(now)
        .bind(rows.iter().map(|r| r.sum.clone()).collect::<Vec<_>>())
        .execute(&pool)
        .await?;
    }
    Ok(())
}
