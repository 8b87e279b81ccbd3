//! Unit tests, and tests against the real NATS JetStream server (`MAESTRO_NATS_URL`), reached
//! directly or through a loopback proxy the test cuts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use maestro_core::testing::{assert_publisher_contract, sample_events};
use maestro_core::{ConfigErrors, Event, OutboxRelay, OutboxStore, RelayConfig};
use serde_json::json;

use super::*;
use crate::util::tcp_proxy::TcpProxy;

fn nats_url() -> String {
    std::env::var("MAESTRO_NATS_URL").unwrap_or_else(|_| {
        panic!(
            "MAESTRO_NATS_URL is not set: these tests need NATS with JetStream. Start it with \
             `nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &` and set \
             MAESTRO_NATS_URL=nats://127.0.0.1:4222 (scripts/services.sh does both)"
        )
    })
}

/// A config on a private stream and subject space.
fn private(url: String) -> NatsConfig {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut cfg = NatsConfig::new(url);
    cfg.stream = format!("MAESTRO_TEST_{id}");
    cfg.subject = format!("maestro_test_{id}.{{kind}}");
    cfg.stream_subjects = vec![format!("maestro_test_{id}.>")];
    cfg
}

/// (Nats-Msg-Id, subject, event) of every message in the stream, in order; deletes the stream.
async fn read_stream(cfg: &NatsConfig) -> Vec<(String, String, Event)> {
    let client = async_nats::connect(nats_url())
        .await
        .unwrap_or_else(|e| panic!("NATS unreachable at MAESTRO_NATS_URL ({e}); start nats-server -js"));
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream(&cfg.stream).await.unwrap();
    let n = stream.info().await.unwrap().state.messages;
    let mut out = Vec::new();
    for seq in 1..=n {
        let m = stream.get_raw_message(seq).await.unwrap();
        let id = m.headers.get(async_nats::header::NATS_MESSAGE_ID).unwrap().to_string();
        out.push((id, m.subject.to_string(), serde_json::from_slice(&m.payload).unwrap()));
    }
    js.delete_stream(&cfg.stream).await.unwrap();
    out
}

#[test]
fn config_parses_validates_and_redacts() {
    let v = json!({"type": "nats", "url": "nats://u:pw-secret@127.0.0.1:4222", "token": "tok-secret"});
    let mut errors = ConfigErrors::new();
    let cfg: NatsConfig = crate::util::parse_config(&v, "p", &mut errors).unwrap();
    assert!(cfg.validate("p", &mut errors), "{errors}");
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("pw-secret") && !dbg.contains("tok-secret"), "{dbg}");
    let mut e = sample_events("acme").remove(0);
    assert_eq!(cfg.subject_for(&e), "maestro.events.resource.created");
    e.kind = "odd kind>".into();
    assert_eq!(cfg.subject_for(&e), "maestro.events.odd_kind_");
    let bad = json!({"type": "nats", "url": "http://x", "stream": "a.b", "subject": "x.{nope}", "timeout_secs": 0});
    let mut errors = ConfigErrors::new();
    assert!(crate::build_publisher("t", &bad, "p", &mut errors).is_none());
    let paths: Vec<&str> = errors.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["p.url", "p.stream", "p.subject", "p.timeout_secs"]);
}

#[tokio::test]
async fn passes_the_publisher_contract_and_jetstream_dedups_by_event_id() {
    let cfg = private(nats_url());
    let p = NatsPublisher::new(cfg.clone());
    let events = assert_publisher_contract(&p).await;
    let got = read_stream(&cfg).await;
    // The contract publishes each event twice; Nats-Msg-Id makes the second a no-op.
    assert_eq!(got.len(), events.len(), "redeliveries are deduplicated by JetStream");
    for ((id, subject, body), e) in got.iter().zip(&events) {
        assert_eq!(id, &e.id.to_string());
        assert_eq!(subject, &cfg.subject_for(e));
        assert_eq!(body, e);
    }
}

#[tokio::test]
async fn relay_survives_a_nats_outage_through_a_cut_proxy() {
    let url = nats_url();
    let upstream = url.trim_start_matches("nats://").rsplit('@').next().unwrap().to_string();
    let proxy = TcpProxy::start(upstream).await;
    let mut cfg = private(format!("nats://{}", proxy.addr()));
    cfg.timeout_secs = 2.0;
    let p = Arc::new(NatsPublisher::new(cfg.clone()));
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
    let make = |n: usize| -> Vec<Event> {
        (0..n)
            .map(|_| {
                let mut e = sample_events("acme").remove(2);
                e.id = uuid::Uuid::now_v7();
                e
            })
            .collect()
    };
    let backlog = async |store: &maestro_store::SqliteStore| {
        store.outbox_status().await.unwrap().into_iter().find(|s| s.sink == sink).map_or(0, |s| s.backlog)
    };

    let mut all = make(10);
    store.append_events(&all).await.unwrap();
    relay.drain().await.unwrap();
    assert_eq!(backlog(&store).await, 0);

    proxy.cut();
    let mut last = 0;
    for _ in 0..3 {
        let batch = make(5);
        store.append_events(&batch).await.unwrap();
        all.extend(batch);
        tokio::time::sleep(Duration::from_millis(120)).await;
        let pass = relay.run_once().await.unwrap();
        assert_eq!(pass.delivered, 0, "nothing gets through the cut proxy");
        let b = backlog(&store).await;
        assert!(b > last, "backlog grows during the outage ({b} after {last})");
        last = b;
    }
    assert_eq!(last, 15);

    proxy.restore();
    for _ in 0..600 {
        relay.run_once().await.unwrap();
        if backlog(&store).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(backlog(&store).await, 0, "the backlog drained after the outage");
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (id, ..) in read_stream(&cfg).await {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), all.len());
    for e in &all {
        assert_eq!(counts.get(&e.id.to_string()), Some(&1), "event {} stored once", e.id);
    }
}
