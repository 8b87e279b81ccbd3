//! `maestro consume` end to end against a real Kafka-protocol broker (a private tansu process,
//! `MAESTRO_TANSU_BIN`) and PostgreSQL (`DATABASE_URL`): the consumer process is killed between
//! storing a row and committing its offset, and the restarted process adds no duplicate row.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::Proc;
use maestro_core::{Event, Publisher};
use maestro_providers::kafka::{KafkaPublisher, KafkaPublisherConfig};
use serde_json::{Value, json};

const TANSU_HOW_TO: &str = "tansu (a Kafka-protocol broker) is needed: install it with \
    `cargo install tansu --locked --features dynostore` and set MAESTRO_TANSU_BIN to its path \
    (scripts/services.sh does both; `make test` sources it)";

fn tansu_bin() -> PathBuf {
    let p =
        std::env::var("MAESTRO_TANSU_BIN").unwrap_or_else(|_| panic!("MAESTRO_TANSU_BIN is not set; {TANSU_HOW_TO}"));
    let p = PathBuf::from(p);
    assert!(p.is_file(), "MAESTRO_TANSU_BIN={} is not a file; {TANSU_HOW_TO}", p.display());
    p
}

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: this test needs PostgreSQL. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and set \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (scripts/services.sh does both)"
        )
    })
}

/// A private tansu broker on a free loopback port, killed on drop.
struct Broker {
    child: Child,
    port: u16,
}

impl Broker {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu_bin())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tansu: {e}; {TANSU_HOW_TO}"));
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "tansu did not listen on 127.0.0.1:{port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let b = Self { child, port };
        let out = Command::new(tansu_bin())
            .args(["topic", "create", "--broker", &url, "--partitions", "1", "site-monitor"])
            .output()
            .expect("tansu topic create");
        assert!(out.status.success(), "tansu topic create: {}", String::from_utf8_lossy(&out.stderr));
        b
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `site.check` event as the HTTP checker emits it (the fields the consumer stores).
fn site_check(site_id: i64, n: u32) -> Event {
    let checked = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap() + chrono::Duration::seconds(i64::from(n));
    let naive = checked.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    Event {
        id: uuid::Uuid::now_v7(),
        kind: "site.check".into(),
        tenant: "acme".into(),
        subject: format!("site:{site_id}"),
        run_id: None,
        occurred_at: checked,
        payload: json!({
            "site_id": site_id, "status_code": 200, "response_time": 0.001 * f64::from(n + 1),
            "has_regexp": n % 2 == 0, "created": naive, "modified": naive, "comments": "",
            "url": format!("https://site{site_id}.example/"), "response_time_ms": n + 1,
            "cert_expires_at": null, "conditions": [], "success": true, "error": null,
            "checked_at": checked.to_rfc3339(),
        }),
    }
}

async fn rows(pool: &sqlx::PgPool, schema: &str) -> Vec<(i32, String, Option<f64>)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT site_id, to_char(record_date, 'YYYY-MM-DD HH24:MI:SS'), response_time \
         FROM \"{schema}\".site_monitor ORDER BY record_date"
    )))
    .fetch_all(pool)
    .await
    .unwrap_or_default()
}

fn expected(e: &Event) -> (i32, String, Option<f64>) {
    let p = &e.payload;
    (
        p["site_id"].as_i64().unwrap() as i32,
        p["modified"].as_str().unwrap()[..19].to_string(),
        p["response_time"].as_f64(),
    )
}

/// The process dies after storing this message and before committing its offset. The first
/// one, because of the test broker: tansu 0.6 never evicts a dead member of a group that has
/// committed offsets. librdkafka's `cgrp` debug log of the restarted consumer shows JoinGroup
/// answering generation 1 with the dead process still leader, then SyncGroup answering
/// REBALANCE_IN_PROGRESS forever, past the 10 s session timeout. See docs/monitoring.md.
const FAULT_AT: usize = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_killed_between_insert_and_commit_adds_no_duplicate_row() {
    let db = database_url();
    let broker = Broker::start();
    let mut cfg = KafkaPublisherConfig::new(broker.brokers());
    cfg.message_timeout_secs = 20.0;
    let publisher = KafkaPublisher::new(cfg).unwrap();
    let events: Vec<Event> = (0..6).map(|i| site_check(7, i)).collect();
    assert_eq!(publisher.publish_batch(&events).await.delivered, events.len());

    let schema = format!("maestro_test_{}", uuid::Uuid::new_v4().simple());
    let args = ["consume", "--brokers", &broker.brokers(), "--database", &db, "--schema", &schema];

    // First process: stores message FAULT_AT and is killed (SIGABRT: no clean leave of the
    // consumer group) before committing its offset.
    let mut first = Proc::start("consume-1", &args, &[("MAESTRO_FAULT_ABORT_BEFORE_COMMIT", &FAULT_AT.to_string())]);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = first.child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the first consumer did not reach its fault within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success(), "the fault hook kills the process: {status}");
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let want: Vec<_> = events.iter().map(expected).collect();
    assert_eq!(rows(&pool, &schema).await, want[..FAULT_AT], "rows stored before the kill");

    // Second process, same group: message FAULT_AT is delivered again (its offset was never
    // committed) and recognised as stored, the rest are new.
    let mut second = Proc::start("consume-2", &args, &[]);
    common::eventually("six rows stored by the restarted consumer", Duration::from_secs(120), || {
        let pool = pool.clone();
        let schema = schema.clone();
        async move { (rows(&pool, &schema).await.len() >= 6).then_some(()) }
    })
    .await;
    // Give a wrongly redelivered message time to show as an extra row before stopping.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(second.terminate(Duration::from_secs(30)).success());
    let stats: Value = serde_json::from_str(second.lines().last().expect("stats line")).unwrap();
    assert_eq!(
        stats,
        json!({"stored": 6 - FAULT_AT, "duplicates": 1, "dead_lettered": 0}),
        "the uncommitted message came again"
    );
    assert_eq!(rows(&pool, &schema).await, want, "every event once, no duplicate row");
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(&pool).await;
}
