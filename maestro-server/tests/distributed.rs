//! `maestro beat` ×2 and `maestro worker` ×2 as real processes against PostgreSQL and RabbitMQ:
//! the active beat is killed (SIGKILL) and the standby keeps firing; the broker connection is
//! cut (through a loopback TCP proxy this test controls, so the shared broker keeps running for
//! other tests) and restored; every slot is executed at most once and work continues.
//!
//! Needs `DATABASE_URL` (PostgreSQL; the test uses its own schema) and RabbitMQ at
//! `MAESTRO_BROKER_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`; the test uses its own
//! queues).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Proc, eventually};
use maestro_core::LeaseStore;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => u,
        _ => panic!(
            "DATABASE_URL is not set to a PostgreSQL URL: start PostgreSQL (scripts/services.sh does) and export \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

/// host:port of the broker and the URL with `{addr}` standing for it.
fn broker() -> (String, String) {
    let url = std::env::var("MAESTRO_BROKER_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let after_at = url.rsplit_once('@').map_or(url.trim_start_matches("amqp://"), |(_, r)| r);
    let addr = after_at.split('/').next().unwrap().to_string();
    let template = url.replacen(&addr, "{addr}", 1);
    (addr, template)
}

/// A loopback TCP proxy in front of the broker. `cut` closes every connection and refuses new
/// ones until `restore`.
struct Proxy {
    addr: String,
    cut: Arc<Mutex<bool>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(Mutex::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, cs) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if *c.lock().unwrap() {
                    drop(inbound);
                    continue;
                }
                let up = upstream.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&up).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                cs.lock().unwrap().push(h);
            }
        });
        Self { addr, cut, conns }
    }

    fn cut(&self) {
        *self.cut.lock().unwrap() = true;
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        *self.cut.lock().unwrap() = false;
    }
}

/// `slot key → executions` from the workers' journals: lines
/// `job <slot key> crawl attempt <n> ok: run … Complete …` (an executed crawl) or `ok: skipped: …`
/// (a redelivery of a run already recorded).
fn executions(workers: &[&Proc]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for w in workers {
        for l in w.lines() {
            let Some(rest) = l.strip_prefix("job ") else { continue };
            let key = rest.split_whitespace().next().unwrap().to_string();
            if l.contains(" ok: run ") {
                *m.entry(key).or_default() += 1;
            } else {
                m.entry(key).or_default();
            }
        }
    }
    m
}

fn slot_time(key: &str) -> chrono::DateTime<chrono::Utc> {
    key.rsplit_once('@').unwrap().1.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beats_fail_over_and_workers_survive_a_broker_cut() {
    let db = database_url();
    let (broker_addr, broker_template) = broker();
    assert!(
        TcpStream::connect(&broker_addr).await.is_ok(),
        "RabbitMQ is not reachable at {broker_addr}: start it with RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached"
    );
    let unique = format!("{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let schema = format!("maestro_test_dist_{unique}");
    let queue = format!("maestro.test.dist.{unique}");
    let proxy = Proxy::start(broker_addr.clone()).await;
    let broker_url = broker_template.replace("{addr}", &proxy.addr);

    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, r#"{"servers": [{"unique_id": "i-1", "name": "a"}, {"unique_id": "i-2", "name": "b"}]}"#)
        .unwrap();
    let config = dir.path().join("m.yaml");
    std::fs::write(
        &config,
        format!(
            "tenant: t\nsources:\n  - {{type: file, connection: files, paths: [\"{}\"]}}\nschedules:\n  - {{name: crawl, kind: crawl, args: {{connection: files}}, every: 1, overlap: queue}}\n",
            inv.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let env = |node: &str| -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), db.clone()),
            ("MAESTRO_DB_SCHEMA".into(), schema.clone()),
            ("MAESTRO_BROKER_URL".into(), broker_url.clone()),
            ("MAESTRO_QUEUE".into(), queue.clone()),
            ("MAESTRO_NODE_ID".into(), node.into()),
        ]
    };
    let start = |name: &str, mode: &str| {
        let e = env(name);
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Proc::start(
            name,
            &[mode, "--config", &cfg, "--tick-ms", "200", "--lease-ttl", "2", "--poll-ms", "100", "--workers", "2"],
            &e,
        )
    };
    let store = maestro_store::PostgresStore::open_in_schema(&db, Some(&schema)).await.unwrap();

    let mut beat_a = start("beat-a", "beat");
    beat_a.wait_line(Duration::from_secs(60), |l| l.contains("started with 1 schedule"));
    eventually("beat-a active", Duration::from_secs(60), || async {
        let h = store.lease_holder("beat", chrono::Utc::now()).await.unwrap();
        (h.map(|h| h.0).as_deref() == Some("beat-beat-a")).then_some(())
    })
    .await;
    let mut beat_b = start("beat-b", "beat");
    beat_b.wait_line(Duration::from_secs(60), |l| l.contains("started with 1 schedule"));
    let w1 = start("worker-1", "worker");
    let w2 = start("worker-2", "worker");

    eventually("three executed slots", Duration::from_secs(90), || async {
        (executions(&[&w1, &w2]).values().filter(|n| **n >= 1).count() >= 3).then_some(())
    })
    .await;

    // Kill the active beat without a chance to release its lease.
    beat_a.signal("KILL");
    let killed_at = chrono::Utc::now();
    let _ = beat_a.child.wait();
    eventually("beat-b takes the lease", Duration::from_secs(60), || async {
        let h = store.lease_holder("beat", chrono::Utc::now()).await.unwrap();
        (h.map(|h| h.0).as_deref() == Some("beat-beat-b")).then_some(())
    })
    .await;
    eventually("slots fired by the standby run", Duration::from_secs(90), || async {
        let after = executions(&[&w1, &w2]).into_iter().filter(|(k, n)| *n >= 1 && slot_time(k) > killed_at).count();
        (after >= 3).then_some(())
    })
    .await;

    // Cut every broker connection (workers and beat), keep it down a moment, restore.
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();
    let restored_at = chrono::Utc::now();
    eventually("slots enqueued after the restore run", Duration::from_secs(120), || async {
        let after = executions(&[&w1, &w2]).into_iter().filter(|(k, n)| *n >= 1 && slot_time(k) > restored_at).count();
        (after >= 3).then_some(())
    })
    .await;

    // Stop the beat, let the workers drain, then check: no slot ran twice.
    assert!(beat_b.terminate(Duration::from_secs(30)).success());
    let mut w1 = w1;
    let mut w2 = w2;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(w1.terminate(Duration::from_secs(60)).success());
    assert!(w2.terminate(Duration::from_secs(60)).success());
    let ex = executions(&[&w1, &w2]);
    let twice: Vec<_> = ex.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "slots executed more than once: {twice:?}");
    // Every executed slot is a recorded run under the job's run id.
    for key in ex.iter().filter(|(_, n)| **n == 1).map(|(k, _)| k) {
        let run_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes());
        use maestro_core::Repository;
        assert!(store.get_run(run_id).await.unwrap().is_some(), "run of {key} recorded");
    }
    // Both workers took part, and both beats fired (beat-a before the kill, beat-b after).
    let per_worker = [&w1, &w2].map(|w| w.lines().iter().filter(|l| l.contains(" ok: run ")).count());
    assert!(per_worker.iter().all(|n| *n > 0), "work spread over both workers: {per_worker:?}");

    // The cut really hit the workers: each lost its connection and opened a new one.
    for w in [&w1, &w2] {
        assert!(
            w.err_lines().iter().any(|l| l.contains("RabbitMQ connection lost; reconnecting")),
            "{} did not reconnect:\n{}",
            w.name,
            w.err_lines().join("\n")
        );
    }

    // Tidy up the broker queues.
    let q = maestro_core::scheduler::RabbitQueue::connect(maestro_core::scheduler::RabbitConfig {
        url: broker_template.replace("{addr}", &broker_addr),
        queue: queue.clone(),
        retry: maestro_core::scheduler::QueueConfig::default().retry,
    })
    .await
    .unwrap();
    q.delete_queues().await.unwrap();
}
