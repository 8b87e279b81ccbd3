//! Unit tests, and tests against the real RabbitMQ (`MAESTRO_BROKER_URL`), reached directly or
//! through a loopback proxy the test cuts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lapin::options::{
    BasicGetOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use maestro_core::testing::{assert_publisher_contract, sample_events};
use maestro_core::{ConfigErrors, Event, OutboxRelay, OutboxStore, RelayConfig};
use serde_json::json;

use super::*;
use crate::util::tcp_proxy::TcpProxy;

fn broker_url() -> String {
    std::env::var("MAESTRO_BROKER_URL").unwrap_or_else(|_| {
        panic!(
            "MAESTRO_BROKER_URL is not set: these tests need RabbitMQ. Start it with \
             `RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached` and set \
             MAESTRO_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/%2f (scripts/services.sh does both)"
        )
    })
}

async fn admin() -> (Connection, Channel) {
    let conn = Connection::connect(&broker_url(), ConnectionProperties::default()).await.unwrap_or_else(|e| {
        panic!("RabbitMQ unreachable at MAESTRO_BROKER_URL ({e}); start it with rabbitmq-server -detached")
    });
    let ch = conn.create_channel().await.unwrap();
    (conn, ch)
}

/// A unique exchange with a queue bound to every routing key.
async fn fixture(ch: &Channel) -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (exchange, queue) = (format!("maestro.test.{id}"), format!("maestro.test.{id}.q"));
    ch.exchange_declare(
        exchange.as_str().into(),
        lapin::ExchangeKind::Topic,
        lapin::options::ExchangeDeclareOptions { durable: true, ..Default::default() },
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.queue_declare(queue.as_str().into(), QueueDeclareOptions::default(), FieldTable::default()).await.unwrap();
    ch.queue_bind(
        queue.as_str().into(),
        exchange.as_str().into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    (exchange, queue)
}

async fn cleanup(ch: &Channel, exchange: &str, queue: &str) {
    let _ = ch.queue_delete(queue.into(), QueueDeleteOptions::default()).await;
    let _ = ch.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()).await;
}

/// Every message in `queue`: (message id, routing key, type, persistent, body).
async fn drain_queue(ch: &Channel, queue: &str) -> Vec<(String, String, String, bool, Event)> {
    let mut out = Vec::new();
    while let Some(m) = ch.basic_get(queue.into(), BasicGetOptions { no_ack: true }).await.unwrap() {
        let p = &m.delivery.properties;
        out.push((
            p.message_id().as_ref().unwrap().as_str().to_string(),
            m.delivery.routing_key.as_str().to_string(),
            p.kind().as_ref().unwrap().as_str().to_string(),
            *p.delivery_mode() == Some(2),
            serde_json::from_slice(&m.delivery.data).unwrap(),
        ));
    }
    out
}

#[test]
fn config_parses_validates_and_redacts() {
    let v = json!({"type": "amqp", "url": "amqp://guest:s3cret@127.0.0.1:5672/%2f", "routing_key": "{tenant}.{kind}"});
    let mut errors = ConfigErrors::new();
    let cfg: AmqpConfig = crate::util::parse_config(&v, "p", &mut errors).unwrap();
    assert!(cfg.validate("p", &mut errors), "{errors}");
    assert!(!format!("{cfg:?}").contains("s3cret"));
    let e = sample_events("acme").remove(0);
    assert_eq!(cfg.routing_key_for(&e), "acme.resource.created");
    assert_eq!(cfg.sink_name(), "amqp:maestro.events");
    let bad = json!({"type": "amqp", "url": "http://x", "exchange": "", "routing_key": "{nope}", "timeout_secs": -1});
    let mut errors = ConfigErrors::new();
    assert!(crate::build_publisher("t", &bad, "p", &mut errors).is_none());
    let paths: Vec<&str> = errors.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["p.url", "p.exchange", "p.routing_key", "p.timeout_secs"]);
}

#[tokio::test]
async fn passes_the_publisher_contract_with_confirms_against_rabbitmq() {
    let (_conn, ch) = admin().await;
    let (exchange, queue) = fixture(&ch).await;
    let mut cfg = AmqpConfig::new(broker_url());
    cfg.exchange = exchange.clone();
    let p = AmqpPublisher::new(cfg);
    let events = assert_publisher_contract(&p).await;
    let got = drain_queue(&ch, &queue).await;
    assert_eq!(got.len(), events.len() * 2);
    for ((id, key, kind, persistent, body), e) in got.iter().zip(events.iter().chain(events.iter())) {
        assert_eq!(id, &e.id.to_string(), "message id = event id");
        assert_eq!((key, kind), (&e.kind, &e.kind), "routing key from the kind");
        assert!(persistent);
        assert_eq!(body, e);
    }
    cleanup(&ch, &exchange, &queue).await;
}

#[tokio::test]
async fn relay_survives_a_rabbitmq_outage_through_a_cut_proxy() {
    let (_conn, ch) = admin().await;
    let (exchange, queue) = fixture(&ch).await;
    let url = broker_url();
    let upstream = url.split('@').nth(1).and_then(|r| r.split('/').next()).unwrap_or("127.0.0.1:5672").to_string();
    let proxy = TcpProxy::start(upstream.clone()).await;
    let mut cfg = AmqpConfig::new(url.replace(&upstream, &proxy.addr().to_string()));
    cfg.exchange = exchange.clone();
    cfg.timeout_secs = 3.0;
    let p = Arc::new(AmqpPublisher::new(cfg));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        maestro_store::SqliteStore::open(&format!("sqlite://{}", dir.path().join("o.db").display())).await.unwrap(),
    );
    let mut rc = RelayConfig { batch_size: 20, ..RelayConfig::default() };
    rc.retry.max_attempts = 10_000;
    rc.retry.initial_backoff = Duration::from_millis(20);
    rc.retry.max_backoff = Duration::from_millis(100);
    let relay = OutboxRelay::new(store.clone(), p.clone()).with_config(rc);
    let sink = relay.sink().to_string();
    let make = |n: u32| -> Vec<Event> {
        (0..n)
            .map(|_| sample_events("acme").remove(2))
            .map(|mut e| {
                e.id = uuid::Uuid::now_v7();
                e
            })
            .collect()
    };
    let backlog = |store: Arc<maestro_store::SqliteStore>, sink: String| async move {
        store.outbox_status().await.unwrap().into_iter().find(|s| s.sink == sink).map_or(0, |s| s.backlog)
    };

    let mut all = make(10);
    store.append_events(&all).await.unwrap();
    relay.drain().await.unwrap();
    assert_eq!(backlog(store.clone(), sink.clone()).await, 0);

    proxy.cut();
    let mut last = 0;
    for _ in 0..3 {
        let batch = make(5);
        store.append_events(&batch).await.unwrap();
        all.extend(batch);
        tokio::time::sleep(Duration::from_millis(120)).await; // past the backoff
        let pass = relay.run_once().await.unwrap();
        assert_eq!(pass.delivered, 0, "nothing gets through the cut proxy");
        let b = backlog(store.clone(), sink.clone()).await;
        assert!(b > last, "backlog grows during the outage ({b} after {last})");
        last = b;
    }
    assert_eq!(last, 15);

    proxy.restore();
    for _ in 0..600 {
        relay.run_once().await.unwrap();
        if backlog(store.clone(), sink.clone()).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(backlog(store.clone(), sink.clone()).await, 0, "the backlog drained after the outage");
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (id, ..) in drain_queue(&ch, &queue).await {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), all.len());
    for e in &all {
        assert_eq!(counts.get(&e.id.to_string()), Some(&1), "event {} once", e.id);
    }
    cleanup(&ch, &exchange, &queue).await;
}
