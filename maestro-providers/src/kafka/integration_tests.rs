//! Against real components: a private tansu broker per test (`MAESTRO_TANSU_BIN`), PostgreSQL
//! (`DATABASE_URL`) and a SQLite outbox file.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeZone, Utc};
use maestro_core::testing::assert_publisher_contract;
use maestro_core::{Event, OutboxRelay, OutboxStore, Publisher, RelayConfig, Retry};
use rdkafka::message::{Headers, Message, OwnedMessage};
use serde_json::{Value, json};
use sqlx::Row;

use super::format::{HEADER_EVENT_ID, HEADER_EVENT_KIND};
use super::tansu::Tansu;
use super::*;

pub(crate) fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: these tests need PostgreSQL. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and set \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (scripts/services.sh does both)"
        )
    })
}

/// A `site.check` event as the HTTP checker emits it; `n` makes `modified` unique per site.
pub(crate) fn site_check(site_id: i64, n: u32) -> Event {
    let checked =
        Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap() + chrono::Duration::milliseconds(i64::from(n) * 1500);
    let failed = n % 5 == 4;
    let naive = checked.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    Event {
        id: uuid::Uuid::now_v7(),
        kind: "site.check".into(),
        tenant: "acme".into(),
        subject: format!("site:{site_id}"),
        run_id: None,
        occurred_at: checked,
        payload: json!({
            "site_id": site_id,
            "status_code": if failed { Value::Null } else { json!(200 + (n % 3) * 100) },
            "response_time": if failed { Value::Null } else { json!(0.001 * f64::from(n + 1)) },
            "has_regexp": if failed { Value::Null } else { json!(n % 2 == 0) },
            "created": naive, "modified": naive,
            "comments": if failed { json!(format!("Request Exception: timeout #{n}")) } else { json!("") },
            "url": format!("https://site{site_id}.example/"), "response_time_ms": n + 1,
            "cert_expires_at": null, "conditions": [], "success": !failed,
            "error": if failed { json!("timeout") } else { Value::Null }, "checked_at": checked.to_rfc3339(),
        }),
    }
}

fn header(m: &OwnedMessage, name: &str) -> Option<String> {
    let h = m.headers()?;
    h.iter().find(|h| h.key == name).and_then(|h| h.value).map(|v| String::from_utf8(v.to_vec()).unwrap())
}

fn fast_relay() -> RelayConfig {
    let mut c = RelayConfig { batch_size: 50, idle_poll_ms: 20, ..RelayConfig::default() };
    c.retry.max_attempts = 10_000;
    c.retry.initial_backoff = Duration::from_millis(50);
    c.retry.max_backoff = Duration::from_millis(300);
    c
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Arc<maestro_store::SqliteStore> {
    let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
    Arc::new(maestro_store::SqliteStore::open(&url).await.unwrap())
}

fn publisher(t: &Tansu, timeout_secs: f64) -> KafkaPublisher {
    let mut cfg = KafkaPublisherConfig::new(t.brokers());
    cfg.message_timeout_secs = timeout_secs;
    KafkaPublisher::new(cfg).unwrap()
}

async fn backlog(store: &dyn OutboxStore, sink: &str) -> u64 {
    store.outbox_status().await.unwrap().into_iter().find(|s| s.sink == sink).map_or(0, |s| s.backlog)
}

/// Run relay passes until the sink's backlog is empty (hang guard: 120 s).
async fn drain_fully(relay: &OutboxRelay, store: &dyn OutboxStore) {
    for _ in 0..2400 {
        relay.run_once().await.unwrap();
        if backlog(store, relay.sink()).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = store.outbox_status().await.unwrap();
    panic!("the relay did not drain within 120 s: {status:?}");
}

fn ids(messages: &[OwnedMessage]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in messages {
        *out.entry(header(m, HEADER_EVENT_ID).expect("event id header")).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn publisher_passes_the_contract_and_writes_the_originals_format() {
    let t = Tansu::start().await;
    t.create_topic("site-monitor", 1).await;
    let p = publisher(&t, 20.0);
    let sample = assert_publisher_contract(&p).await;
    let check = site_check(42, 0);
    p.publish(&check).await.unwrap();

    let got = t.read_all("site-monitor", 1, sample.len() * 2 + 1);
    assert_eq!(got.len(), sample.len() * 2 + 1);
    for (m, e) in got.iter().zip(sample.iter().chain(sample.iter())) {
        assert_eq!(header(m, HEADER_EVENT_ID).unwrap(), e.id.to_string());
        assert_eq!(header(m, HEADER_EVENT_KIND).unwrap(), e.kind);
        assert_eq!(m.key().unwrap(), e.subject.as_bytes(), "no site_id: keyed by subject");
        let back: Event = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert_eq!(&back, e, "other kinds carry the whole event");
    }
    let last = got.last().unwrap();
    assert_eq!(last.key().unwrap(), br#"{"site_id": 42}"#);
    let value: Value = serde_json::from_slice(last.payload().unwrap()).unwrap();
    assert_eq!(value, check.payload, "site.check carries the payload (original field names)");
}

#[tokio::test]
async fn batch_reports_a_prefix_and_errors_are_classified_against_a_real_broker() {
    let t = Tansu::start().await;
    t.create_topic("site-monitor", 3).await;
    let p = publisher(&t, 20.0);
    let events: Vec<Event> = (0..40).map(|i| site_check(i64::from(i % 7), i)).collect();
    let outcome = p.publish_batch(&events).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.delivered, 40);
    let got = t.read_all("site-monitor", 3, 40);
    assert_eq!(ids(&got).len(), 40);

    // An unknown topic (tansu does not auto-create): transient, the relay will retry.
    let mut cfg = KafkaPublisherConfig::new(t.brokers());
    cfg.topic = "no-such-topic".into();
    cfg.message_timeout_secs = 2.0;
    let missing = KafkaPublisher::new(cfg).unwrap();
    let err = missing.publish(&events[0]).await.unwrap_err();
    assert_eq!(err.retry, Retry::Backoff, "{err}");

    // Too large: rejected (dead-lettered), and the batch stops there with the prefix before it.
    let mut cfg = KafkaPublisherConfig::new(t.brokers());
    cfg.connection.properties.insert("message.max.bytes".into(), "2000".into());
    let small = KafkaPublisher::new(cfg).unwrap();
    let mut big = site_check(1, 1000);
    big.payload["comments"] = json!("x".repeat(5000));
    let batch = vec![events[0].clone(), events[1].clone(), big, events[2].clone()];
    let outcome = small.publish_batch(&batch).await;
    assert_eq!(outcome.delivered, 2);
    let err = outcome.error.expect("the large event fails");
    assert_eq!(err.retry, Retry::Never, "{err}");
}

/// The broker is unreachable for a while (every connection to it cut and refused, as when it is
/// stopped; it keeps its data, so nothing needs recreating) while the site checker keeps
/// appending: the backlog shows in the outbox, nothing is dead-lettered, and after it comes back
/// every event is on the topic exactly once.
// Multi-threaded: the proxy's tasks must keep forwarding while `read_all` blocks a thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_survives_a_kafka_outage_and_delivers_every_event_once() {
    let (t, proxy) = Tansu::start_behind_proxy().await;
    t.create_topic("site-monitor", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let p = Arc::new(publisher(&t, 3.0));
    let relay = OutboxRelay::new(store.clone(), p.clone()).with_config(fast_relay());
    let sink = relay.sink().to_string();

    let before: Vec<Event> = (0..30).map(|i| site_check(1, i)).collect();
    store.append_events(&before).await.unwrap();
    drain_fully(&relay, store.as_ref()).await;
    let first = ids(&t.read_all("site-monitor", 1, before.len()));
    assert_eq!(first.len(), before.len());
    assert!(first.values().all(|&n| n == 1));

    // Outage: the broker is unreachable while the site checker keeps appending.
    proxy.cut();
    let mut during = Vec::new();
    let mut last_backlog = 0;
    for round in 0..4u32 {
        let batch: Vec<Event> = (0..10).map(|i| site_check(2, 100 + round * 10 + i)).collect();
        store.append_events(&batch).await.unwrap();
        during.extend(batch);
        let pass = relay.run_once().await.unwrap();
        assert_eq!(pass.delivered, 0, "nothing can be delivered while the broker is unreachable");
        let b = backlog(store.as_ref(), &sink).await;
        assert!(b > last_backlog, "backlog grows during the outage: {b} after {last_backlog}");
        last_backlog = b;
    }
    assert_eq!(last_backlog, during.len() as u64);
    let status = store.outbox_status().await.unwrap();
    let s = status.iter().find(|s| s.sink == sink).unwrap();
    assert!(s.last_error.is_some(), "the failure is visible in outbox_status");
    assert_eq!(s.dead, 0, "transient failures are not dead-lettered");

    // Back: the backlog drains, and every event is on the topic once.
    proxy.restore();
    drain_fully(&relay, store.as_ref()).await;
    let all = ids(&t.read_all("site-monitor", 1, before.len() + during.len()));
    for e in before.iter().chain(&during) {
        assert_eq!(all.get(&e.id.to_string()), Some(&1), "event {} delivered exactly once", e.id);
    }
    assert_eq!(all.len(), before.len() + during.len());
    let s = store.outbox_status().await.unwrap().into_iter().find(|s| s.sink == sink).unwrap();
    assert_eq!((s.backlog, s.delivered, s.dead), (0, (before.len() + during.len()) as u64, 0));
}

async fn consumer_for(t: &Tansu, schema: &str) -> KafkaConsumer {
    let mut cfg = KafkaConsumerConfig::new(t.brokers(), database_url());
    cfg.schema = schema.into();
    KafkaConsumer::connect(cfg).await.unwrap_or_else(|e| panic!("consumer: {e} (is PostgreSQL up? see DATABASE_URL)"))
}

fn test_schema() -> String {
    format!("maestro_test_{}", uuid::Uuid::new_v4().simple())
}

/// Run `consumer` until `until` says its stats are enough (hang guard: 90 s).
async fn consume_until(consumer: &KafkaConsumer, until: impl Fn(&ConsumerStats) -> bool) -> ConsumerStats {
    // The consumer returns its stats only at shutdown, so run in short slices.
    let mut total = ConsumerStats::default();
    for _ in 0..90 {
        let s = consumer.run(tokio::time::sleep(Duration::from_secs(1))).await.unwrap();
        total.stored += s.stored;
        total.duplicates += s.duplicates;
        total.dead_lettered += s.dead_lettered;
        if until(&total) {
            return total;
        }
    }
    panic!("the consumer did not get there within 90 s: {total:?}");
}

#[derive(Debug, PartialEq)]
struct DbRow {
    site_id: i32,
    status_code: Option<i32>,
    response_time: Option<f64>,
    record_date: NaiveDateTime,
    has_regexp: Option<bool>,
    comments: Option<String>,
}

async fn rows(pool: &sqlx::PgPool, schema: &str) -> Vec<DbRow> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT site_id, status_code, response_time, record_date, has_regexp, comments, inserted_date \
         FROM \"{schema}\".site_monitor ORDER BY site_id, record_date"
    )))
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| DbRow {
        site_id: r.get(0),
        status_code: r.get(1),
        response_time: r.get(2),
        record_date: r.get(3),
        has_regexp: r.get(4),
        comments: r.get(5),
    })
    .collect()
}

fn expected_row(e: &Event) -> DbRow {
    let p = &e.payload;
    DbRow {
        site_id: p["site_id"].as_i64().unwrap() as i32,
        status_code: p["status_code"].as_i64().map(|n| n as i32),
        response_time: p["response_time"].as_f64(),
        record_date: NaiveDateTime::parse_from_str(p["modified"].as_str().unwrap(), "%Y-%m-%d %H:%M:%S%.f").unwrap(),
        has_regexp: p["has_regexp"].as_bool(),
        comments: p["comments"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
    }
}

async fn drop_schema(pool: &sqlx::PgPool, schema: &str) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(pool).await;
}

#[tokio::test]
async fn end_to_end_outbox_to_kafka_to_postgres_rows_equal_the_events() {
    let t = Tansu::start().await;
    t.create_topic("site-monitor", 2).await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let relay = OutboxRelay::new(store.clone(), Arc::new(publisher(&t, 20.0))).with_config(fast_relay());
    let events: Vec<Event> = (0..25).map(|i| site_check(i64::from(i % 4) + 1, i)).collect();
    store.append_events(&events).await.unwrap();
    drain_fully(&relay, store.as_ref()).await;

    let schema = test_schema();
    let consumer = consumer_for(&t, &schema).await;
    let stats = consume_until(&consumer, |s| s.stored >= events.len() as u64).await;
    assert_eq!(stats, ConsumerStats { stored: events.len() as u64, duplicates: 0, dead_lettered: 0 });
    let mut want: Vec<DbRow> = events.iter().map(expected_row).collect();
    want.sort_by_key(|r| (r.site_id, r.record_date));
    assert_eq!(rows(consumer.pool(), &schema).await, want);
    let nulls: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{schema}\".site_monitor WHERE comments IS NULL AND status_code IS NOT NULL"
    )))
    .fetch_one(consumer.pool())
    .await
    .unwrap();
    assert_eq!(nulls, 20, "\"\" comments became NULL");
    drop_schema(consumer.pool(), &schema).await;
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_and_consumption_continues() {
    let t = Tansu::start().await;
    t.create_topic("site-monitor", 1).await;
    let good1 = site_check(5, 0);
    let good2 = site_check(5, 1);
    let p = publisher(&t, 20.0);
    p.publish(&good1).await.unwrap();
    // Raw bad messages next to the good ones.
    let raw: rdkafka::producer::FutureProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", t.brokers()).create().unwrap();
    let send = |key: &'static [u8], value: &'static [u8]| {
        let raw = &raw;
        async move {
            raw.send(
                rdkafka::producer::FutureRecord::to("site-monitor").key(key).payload(value),
                Duration::from_secs(20),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        }
    };
    send(br#"{"site_id": 5}"#, b"this is not json").await;
    send(br#"{"user": "Rahul"}"#, br#"{"type": "testing", "area": "kafka producer"}"#).await;
    send(br#"{"site_id": 5}"#, br#"{"status_code": "two hundred", "modified": "2021-05-20 10:00:00"}"#).await;
    p.publish(&good2).await.unwrap();

    let schema = test_schema();
    let consumer = consumer_for(&t, &schema).await;
    let stats = consume_until(&consumer, |s| s.stored + s.dead_lettered >= 5).await;
    assert_eq!(stats, ConsumerStats { stored: 2, duplicates: 0, dead_lettered: 3 });
    assert_eq!(rows(consumer.pool(), &schema).await, vec![expected_row(&good1), expected_row(&good2)]);
    let dead = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT topic, kafka_partition, kafka_offset, key, value, reason FROM \"{schema}\".site_monitor_dead_letters ORDER BY kafka_offset"
    )))
    .fetch_all(consumer.pool())
    .await
    .unwrap();
    assert_eq!(dead.len(), 3);
    let reasons: Vec<String> = dead.iter().map(|r| r.get(5)).collect();
    assert!(reasons[0].starts_with("value is not JSON"), "{reasons:?}");
    assert_eq!(reasons[1], "key has no site_id");
    assert!(reasons[2].starts_with("status_code is not an integer"), "{reasons:?}");
    let offsets: Vec<i64> = dead.iter().map(|r| r.get(2)).collect();
    assert_eq!(offsets, [1, 2, 3]);
    assert_eq!(dead[0].get::<String, _>(0), "site-monitor");
    assert_eq!(dead[0].get::<Vec<u8>, _>(4), b"this is not json");
    assert_eq!(dead[1].get::<Vec<u8>, _>(3), br#"{"user": "Rahul"}"#);
    drop_schema(consumer.pool(), &schema).await;
}

/// The consumer's storage against the real PostgreSQL, without a broker (the Kafka client
/// connects lazily, so nothing needs to listen on its bootstrap address).
#[tokio::test]
async fn consumer_storage_is_idempotent_and_dead_letters_against_postgres() {
    use super::consumer::{Outcome, Record};
    let schema = test_schema();
    let mut cfg = KafkaConsumerConfig::new("127.0.0.1:1", database_url());
    cfg.schema = schema.clone();
    let consumer = KafkaConsumer::connect(cfg.clone())
        .await
        .unwrap_or_else(|e| panic!("consumer: {e} (is PostgreSQL up? see DATABASE_URL)"));
    drop(KafkaConsumer::connect(cfg).await.expect("the DDL can be applied again"));

    let e = site_check(3, 4); // a failed check: NULL status/time/regexp, a comment
    let key = super::format::message_key(&e);
    let value = super::format::message_value(&e);
    let rec = Record { topic: "site-monitor", partition: 0, offset: 10, key: Some(&key), value: Some(&value) };
    assert_eq!(consumer.store(rec).await.unwrap(), Outcome::Stored);
    let again = Record { offset: 11, ..rec };
    assert_eq!(consumer.store(again).await.unwrap(), Outcome::Duplicate, "a redelivered message adds no row");
    assert_eq!(rows(consumer.pool(), &schema).await, vec![expected_row(&e)]);

    let bad = Record { offset: 12, value: Some(b"{\"modified\": 5}"), ..rec };
    assert_eq!(consumer.store(bad).await.unwrap(), Outcome::DeadLettered);
    assert_eq!(consumer.store(bad).await.unwrap(), Outcome::DeadLettered);
    let dead = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT kafka_offset, reason, value FROM \"{schema}\".site_monitor_dead_letters"
    )))
    .fetch_all(consumer.pool())
    .await
    .unwrap();
    assert_eq!(dead.len(), 1, "the same poison message is recorded once");
    assert_eq!(dead[0].get::<i64, _>(0), 12);
    assert_eq!(dead[0].get::<String, _>(1), "modified is not a string: 5");
    assert_eq!(dead[0].get::<Vec<u8>, _>(2), b"{\"modified\": 5}");
    drop_schema(consumer.pool(), &schema).await;
}
