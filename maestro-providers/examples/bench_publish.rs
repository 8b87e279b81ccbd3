//! Run with: cargo run --release -p maestro-providers --features kafka,amqp,nats --example bench_publish -- [events] [kafka|amqp|nats ...]
//!
//! Events per second through the OutboxRelay (SQLite outbox file → publisher → broker ack) for
//! the Kafka, RabbitMQ and NATS JetStream publishers, and the latency from outbox insert to
//! broker ack (p50/p99) while events are appended at a steady 500 events/s.
//!
//! Needs: `MAESTRO_TANSU_BIN` (a tansu binary; a private broker is started on a free port),
//! `MAESTRO_BROKER_URL` (RabbitMQ), `MAESTRO_NATS_URL` (NATS with JetStream) —
//! `. scripts/services.sh` sets all three.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use maestro_core::{BatchOutcome, Event, OutboxRelay, OutboxStore, PublishError, Publisher, RelayConfig};
use maestro_providers::amqp::{AmqpConfig, AmqpPublisher};
use maestro_providers::kafka::{KafkaPublisher, KafkaPublisherConfig};
use maestro_providers::nats::{NatsConfig, NatsPublisher};
use serde_json::json;
use uuid::Uuid;

/// Records when each event was acknowledged.
struct Timed {
    inner: Arc<dyn Publisher>,
    acked: Mutex<HashMap<Uuid, Instant>>,
}

#[async_trait]
impl Publisher for Timed {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        self.inner.publish(event).await?;
        self.acked.lock().unwrap().insert(event.id, Instant::now());
        Ok(())
    }
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        let outcome = self.inner.publish_batch(events).await;
        let now = Instant::now();
        let mut acked = self.acked.lock().unwrap();
        for e in &events[..outcome.delivered] {
            acked.insert(e.id, now);
        }
        outcome
    }
}

fn site_check(n: usize) -> Event {
    let now = chrono::Utc::now();
    Event {
        id: Uuid::now_v7(),
        kind: "site.check".into(),
        tenant: "bench".into(),
        subject: format!("site:{}", n % 100),
        run_id: None,
        occurred_at: now,
        payload: json!({"site_id": n % 100, "status_code": 200, "response_time": 0.042, "has_regexp": true,
            "created": now.to_rfc3339(), "modified": now.to_rfc3339(), "comments": "",
            "url": format!("https://site{}.example/", n % 100), "response_time_ms": 42, "cert_expires_at": null,
            "conditions": [], "success": true, "error": null, "checked_at": now.to_rfc3339()}),
    }
}

async fn store(dir: &tempfile::TempDir, name: &str) -> Result<Arc<maestro_store::SqliteStore>> {
    let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
    Ok(Arc::new(maestro_store::SqliteStore::open(&url).await?))
}

fn relay_config() -> RelayConfig {
    RelayConfig { batch_size: 500, idle_poll_ms: 5, ..RelayConfig::default() }
}

async fn backlog(store: &dyn OutboxStore, sink: &str) -> Result<u64> {
    Ok(store.outbox_status().await?.into_iter().find(|s| s.sink == sink).map_or(0, |s| s.backlog))
}

/// (events/s draining a pre-filled outbox, p50 ms, p99 ms at a steady append rate).
async fn measure(label: &str, make: &dyn Fn() -> Arc<dyn Publisher>, events: usize) -> Result<(f64, f64, f64)> {
    let dir = tempfile::tempdir()?;
    // 1. Throughput: fill the outbox, then drain it.
    let s = store(&dir, &format!("{label}-tp")).await?;
    let all: Vec<Event> = (0..events).map(site_check).collect();
    for chunk in all.chunks(1000) {
        s.append_events(chunk).await?;
    }
    let relay = OutboxRelay::new(s.clone(), make()).with_config(relay_config());
    let start = Instant::now();
    loop {
        let p = relay.drain().await?;
        if p.failed || p.backing_off {
            bail!("{label}: the publisher failed during the benchmark: {:?}", s.outbox_status().await?);
        }
        if backlog(s.as_ref(), relay.sink()).await? == 0 {
            break;
        }
    }
    let rate = events as f64 / start.elapsed().as_secs_f64();

    // 2. Latency: append 5 events every 10 ms (500/s, below every publisher's throughput) while the relay runs.
    let s = store(&dir, &format!("{label}-lat")).await?;
    let timed = Arc::new(Timed { inner: make(), acked: Mutex::default() });
    // Warm up: one event published directly, so that connecting, metadata and (Kafka) the
    // idempotent producer id are set up before the clock starts; they are a cold-start cost,
    // not insert→ack latency (without this the Kafka p99 is ~1 s: its first batch waits for
    // InitProducerId).
    timed.inner.publish(&site_check(events + 1)).await.map_err(|e| anyhow::anyhow!("{label}: warm-up publish: {e}"))?;
    let relay = Arc::new(OutboxRelay::new(s.clone(), timed.clone()).with_config(relay_config()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let relay = relay.clone();
        tokio::spawn(async move {
            relay
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    let n = events.min(2000);
    let mut inserted = HashMap::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut sent = 0;
    while sent < n {
        tick.tick().await;
        let batch: Vec<Event> = (sent..(sent + 5).min(n)).map(site_check).collect();
        s.append_events(&batch).await?;
        let t = Instant::now();
        for e in &batch {
            inserted.insert(e.id, t);
        }
        sent += batch.len();
    }
    for _ in 0..6000 {
        if timed.acked.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(());
    runner.await??;
    let acked = timed.acked.lock().unwrap();
    let mut lat: Vec<f64> = inserted
        .iter()
        .filter_map(|(id, t)| acked.get(id).map(|a| a.duration_since(*t).as_secs_f64() * 1000.0))
        .collect();
    if lat.len() < n {
        bail!("{label}: only {} of {n} events were acknowledged", lat.len());
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).min(lat.len()) - 1];
    Ok((rate, pct(0.50), pct(0.99)))
}

struct Tansu(std::process::Child, String);
impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn tansu() -> Result<Tansu> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let bin = std::env::var("MAESTRO_TANSU_BIN").context("MAESTRO_TANSU_BIN is not set (. scripts/services.sh)")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = std::process::Command::new(bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let t = Tansu(child, format!("127.0.0.1:{port}"));
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(&t.1).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin: AdminClient<_> = rdkafka::ClientConfig::new().set("bootstrap.servers", &t.1).create()?;
    admin.create_topics(&[NewTopic::new("site-monitor", 1, TopicReplication::Fixed(1))], &AdminOptions::new()).await?;
    Ok(t)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let mut which: Vec<String> = args.collect();
    if which.is_empty() {
        which = vec!["kafka".into(), "amqp".into(), "nats".into()];
    }
    println!("| publisher | events | events/s (drain) | p50 insert→ack (ms) | p99 insert→ack (ms) |");
    println!("|---|---|---|---|---|");
    for w in which {
        let (label, result) = match w.as_str() {
            "kafka" => {
                let t = tansu().await?;
                let brokers = t.1.clone();
                let make = move || -> Arc<dyn Publisher> {
                    Arc::new(KafkaPublisher::new(KafkaPublisherConfig::new(brokers.clone())).expect("producer"))
                };
                ("kafka (tansu, memory)", measure("kafka", &make, events).await)
            }
            "amqp" => {
                let url = std::env::var("MAESTRO_BROKER_URL").context("MAESTRO_BROKER_URL is not set")?;
                let exchange = format!("maestro.bench.{}", Uuid::new_v4().simple());
                // A durable queue bound to the exchange, so confirms mean "persisted".
                let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default()).await?;
                let ch = conn.create_channel().await?;
                let durable = lapin::options::ExchangeDeclareOptions { durable: true, ..Default::default() };
                let table = lapin::types::FieldTable::default;
                ch.exchange_declare(exchange.as_str().into(), lapin::ExchangeKind::Topic, durable, table()).await?;
                let q = lapin::options::QueueDeclareOptions { durable: true, ..Default::default() };
                ch.queue_declare(exchange.as_str().into(), q, table()).await?;
                let bind = lapin::options::QueueBindOptions::default();
                ch.queue_bind(exchange.as_str().into(), exchange.as_str().into(), "#".into(), bind, table()).await?;
                let ex = exchange.clone();
                let make = move || -> Arc<dyn Publisher> {
                    let mut c = AmqpConfig::new(url.clone());
                    c.exchange = ex.clone();
                    Arc::new(AmqpPublisher::new(c))
                };
                let r = measure("amqp", &make, events).await;
                ch.queue_delete(exchange.as_str().into(), Default::default()).await?;
                ch.exchange_delete(exchange.as_str().into(), Default::default()).await?;
                ("amqp (RabbitMQ, durable queue, confirms)", r)
            }
            "nats" => {
                let url = std::env::var("MAESTRO_NATS_URL").context("MAESTRO_NATS_URL is not set")?;
                let id = Uuid::new_v4().simple().to_string();
                let mut c = NatsConfig::new(url);
                c.stream = format!("MAESTRO_BENCH_{id}");
                c.subject = format!("maestro_bench_{id}.{{kind}}");
                c.stream_subjects = vec![format!("maestro_bench_{id}.>")];
                let cfg = c.clone();
                let make = move || -> Arc<dyn Publisher> { Arc::new(NatsPublisher::new(cfg.clone())) };
                let r = measure("nats", &make, events).await;
                let client = async_nats::connect(&c.url).await?;
                let _ = async_nats::jetstream::new(client).delete_stream(&c.stream).await;
                ("nats (JetStream, file storage)", r)
            }
            other => bail!("unknown publisher `{other}`: kafka, amqp or nats"),
        };
        let (rate, p50, p99) = result?;
        println!("| {label} | {events} | {rate:.0} | {p50:.1} | {p99:.1} |");
    }
    Ok(())
}
