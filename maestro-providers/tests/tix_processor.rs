//! The TiX processor end to end with real components: a SQLite file (`SqliteStore`) in a
//! temporary folder, the raw installations of `maestro-tix/tests/data/installations/`, the
//! outbox relay and the `tix_api` publisher posting to a loopback axum server.
//!
//! Faults of issue 10: the API down for a while, a worker killed after recording but before
//! deleting, a poison batch, and two processors on the same installation.

#![cfg(feature = "tix")]

mod tix_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use maestro_core::repository::*;
use maestro_core::{Event, LeaseStore, OutboxRelay, OutboxStore, StorageError};
use maestro_providers::tix::{
    InstallationStatus, TIX_DROPPED, TIX_QUARANTINED, TIX_RESULT, TixConfig, TixProcessor, result_event_id,
};
use maestro_store::SqliteStore;
use serde_json::Value;
use tix_support::*;

async fn sqlite(f: &Fixture) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&f.sqlite_url()).await.expect("sqlite"))
}

fn processor(f: &Fixture) -> TixProcessor {
    TixProcessor::new(TixConfig::new(f.reports())).expect("processor")
}

/// A relay from `store` to the loopback API on `port`.
fn relay(store: &Arc<SqliteStore>, port: u16) -> OutboxRelay {
    OutboxRelay::new(store.clone(), publisher(port)).with_config(fast_relay())
}

/// Drain the outbox to the API; returns the events delivered.
async fn deliver(relay: &OutboxRelay) -> u64 {
    let mut delivered = 0;
    for _ in 0..10_000 {
        let pass = relay.run_once().await.expect("relay pass");
        delivered += pass.delivered;
        if pass.idle {
            return delivered;
        }
    }
    panic!("the relay never drained the outbox");
}

/// The 52 results of `expected/loop_23_17916.tsv`, checked field by field against the outbox.
fn check_results_match_reference(results: &[&Event]) {
    let rows = read_tsv("expected/loop_23_17916.tsv");
    let rows: Vec<_> = rows.iter().filter(|r| r["first_file"] != "END").collect();
    assert_eq!(results.len(), rows.len());
    assert_eq!(results.len(), 52);
    for (e, row) in results.iter().zip(&rows) {
        let it = &row["iteration"];
        let p = &e.payload;
        assert_eq!(p["user"], "23");
        assert_eq!(p["installation"], "17916");
        let key = p["key"].as_str().unwrap();
        assert!(key.starts_with("tix:23:17916:"), "{key}");
        assert_eq!(e.id, result_event_id(key), "event id = uuid v5 of the idempotency key");
        let f = |v: &Value| v.as_f64().unwrap();
        let up: f64 = row["up_usage"].parse().unwrap();
        let down: f64 = row["down_usage"].parse().unwrap();
        assert_eq!(f(&p["raw"]["up_usage"]).to_bits(), up.to_bits(), "iteration {it} up");
        assert_eq!(f(&p["raw"]["down_usage"]).to_bits(), down.to_bits(), "iteration {it} down");
        let body = &p["body"];
        assert_eq!(f(&body["upUsage"]), up.clamp(0.0, 1.0), "iteration {it}: the body is clamped");
        assert_eq!(f(&body["downUsage"]), down.clamp(0.0, 1.0), "iteration {it}");
        assert_eq!(body["timestamp"].to_string(), row["max_day_ts"], "iteration {it}");
        assert_eq!(body["ip"], Value::from(row["ip"].as_str()), "iteration {it}");
        assert_eq!(body["version"], "1.0.0");
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "timestamp",
                "version",
                "upUsage",
                "upQuality",
                "downUsage",
                "downQuality",
                "hurstUpRs",
                "hurstUpWavelet",
                "hurstDownRs",
                "hurstDownWavelet",
                "ip"
            ]
        );
        assert_eq!(p["batch"]["files"].to_string(), row["n_files"], "iteration {it}");
        assert_eq!(p["batch"]["first_file"], Value::from(row["first_file"].as_str()), "iteration {it}");
        assert_eq!(p["batch"]["last_file"], Value::from(row["last_file"].as_str()), "iteration {it}");
        assert_eq!(p["batch"]["short_observations"].to_string(), row["n_S_obs"], "iteration {it}");
        assert!(p.get("localisation").is_none(), "pass-through by default: the API resolves the IP");
    }
}

/// The API saw every result exactly once, with Basic auth, the key and the recorded body.
fn check_received_once(api: &Api, results: &[&Event]) {
    let g = api.lock().unwrap();
    assert_eq!(g.received.len(), results.len(), "one POST per result");
    let by_key: HashMap<&str, &Received> =
        g.received.iter().map(|r| (r.idempotency_key.as_deref().expect("Idempotency-Key"), r)).collect();
    assert_eq!(by_key.len(), results.len(), "each idempotency key exactly once");
    for e in results {
        let r = by_key[e.payload["key"].as_str().unwrap()];
        assert_eq!((r.user.as_str(), r.installation.as_str()), ("23", "17916"));
        assert_eq!(r.authorization.as_deref(), Some(BASIC));
        assert_eq!(r.body, e.payload["body"], "the original JSON body");
    }
}

#[tokio::test]
async fn end_to_end_23_17916_matches_the_reference_and_delivers_each_result_once() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    let report = processor(&f).process_all(&*store).await.expect("process");
    assert_eq!(report.installations.len(), 1);
    let inst = &report.installations[0];
    assert_eq!(inst.status, InstallationStatus::Processed);
    assert_eq!(inst.results.len(), 52);
    assert!(inst.quarantined.is_empty());
    assert_eq!(inst.dropped.len(), 14, "14 files dropped by the gap at iteration 7, reported");
    assert_eq!(inst.remaining_files, 10);
    assert_eq!(f.json_files("23", "17916").len(), 10, "consumed and dropped files are deleted");

    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);
    check_results_match_reference(&results);
    let dropped: usize =
        of_kind(&events, TIX_DROPPED).iter().map(|e| e.payload["files"].as_array().unwrap().len()).sum();
    assert_eq!(dropped, 14, "dropped files are recorded too");

    let (port, api) = start_api().await;
    let relay = relay(&store, port);
    let delivered = deliver(&relay).await;
    assert_eq!(delivered as usize, events.len(), "non-result events count as delivered (skipped)");
    check_received_once(&api, &results);

    // A second run finds nothing new and posts nothing.
    let again = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!(again.results(), 0);
    assert_eq!(outbox(&*store).await.len(), events.len());
    assert_eq!(deliver(&relay).await, 0);
    assert_eq!(api.lock().unwrap().received.len(), 52);
}

#[tokio::test]
async fn api_down_then_up_loses_nothing_and_posts_each_key_once() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    processor(&f).process_all(&*store).await.unwrap();
    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);

    // Phase 1: nothing listens on the port (connection refused).
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let relay = OutboxRelay::new(store.clone(), publisher(port)).with_config(fast_relay());
    for _ in 0..5 {
        let pass = relay.run_once().await.unwrap();
        assert_eq!(pass.delivered, 0);
    }
    assert!(pass_failed(&relay).await, "the head event keeps failing while the API is down");
    let status = store.outbox_status().await.unwrap();
    let sink = status.iter().find(|s| s.sink == relay.sink()).unwrap();
    assert_eq!(sink.dead, 0, "nothing dead-lettered: connection errors are transient");
    assert!(sink.last_error.as_deref().unwrap_or("").contains("connection failed"), "{sink:?}");

    // Phase 2: the API is up but answers 503 (then 502, 429) for a while.
    let api: Api = Arc::default();
    api.lock().unwrap().fail_next = [
        [axum::http::StatusCode::SERVICE_UNAVAILABLE; 6].as_slice(),
        &[axum::http::StatusCode::BAD_GATEWAY, axum::http::StatusCode::TOO_MANY_REQUESTS],
    ]
    .concat();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("rebind the port");
    serve_on(listener, api.clone());
    let mut delivered = 0;
    for _ in 0..1000 {
        let pass = relay.run_once().await.unwrap();
        delivered += pass.delivered;
        if pass.idle {
            break;
        }
    }
    assert_eq!(delivered as usize, events.len());
    assert_eq!(api.lock().unwrap().refused, 8);
    check_received_once(&api, &results);
    let status = store.outbox_status().await.unwrap();
    let sink = status.iter().find(|s| s.sink == relay.sink()).unwrap();
    assert_eq!((sink.backlog, sink.dead), (0, 0));
}

async fn pass_failed(relay: &OutboxRelay) -> bool {
    relay.run_once().await.unwrap().failed
}

#[tokio::test]
async fn worker_killed_after_recording_before_deleting_yields_no_duplicate() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    let (port, api) = start_api().await;
    let relay = relay(&store, port);

    // The worker records every batch and "dies" before deleting any file.
    let mut cfg = TixConfig::new(f.reports());
    cfg.dispose_files = false;
    let first = TixProcessor::new(cfg).unwrap().process_all(&*store).await.unwrap();
    assert_eq!(first.results(), 52);
    assert_eq!(f.json_files("23", "17916").len(), 494, "nothing deleted");
    // The results were even posted before the restart.
    deliver(&relay).await;
    assert_eq!(api.lock().unwrap().received.len(), 52);

    // The restarted worker selects the same batches: same keys, same event ids, no new event.
    let before = outbox(&*store).await.len();
    let second = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!(second.results(), 52);
    assert_eq!(second.installations[0].results, first.installations[0].results, "same idempotency keys");
    assert_eq!(outbox(&*store).await.len(), before, "the outbox ignored every duplicate id");
    assert_eq!(f.json_files("23", "17916").len(), 10);
    assert_eq!(deliver(&relay).await, 0);
    let events = outbox(&*store).await;
    check_received_once(&api, &of_kind(&events, TIX_RESULT));
}

/// A store that commits the N-th append and then reports a failure, as if the process had been
/// killed right after the commit (before the batch's files were deleted); and whose lease
/// renewals fail after `leases_left` calls, as if another worker had taken the lease over.
struct KilledAfterAppend {
    inner: Arc<SqliteStore>,
    appends_left: std::sync::atomic::AtomicUsize,
    leases_left: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl OutboxStore for KilledAfterAppend {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        self.inner.append_events(events).await?;
        let left = self.appends_left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if left == 1 { Err(StorageError::Invalid("killed after the commit".into())) } else { Ok(()) }
    }
    async fn claim_sink(&self, s: &str, o: &str, n: DateTime<Utc>, u: DateTime<Utc>) -> StoreResult<SinkState> {
        self.inner.claim_sink(s, o, n, u).await
    }
    async fn release_sink(&self, s: &str, o: &str) -> StoreResult<()> {
        self.inner.release_sink(s, o).await
    }
    async fn events_after(&self, c: OutboxCursor, l: u32) -> StoreResult<Vec<StoredEvent>> {
        self.inner.events_after(c, l).await
    }
    async fn advance(&self, s: &str, o: &str, to: OutboxCursor, d: u64) -> StoreResult<()> {
        self.inner.advance(s, o, to, d).await
    }
    async fn record_failure(&self, s: &str, o: &str, a: u32, n: DateTime<Utc>, e: &str) -> StoreResult<()> {
        self.inner.record_failure(s, o, a, n, e).await
    }
    async fn dead_letter(
        &self,
        s: &str,
        o: &str,
        e: &StoredEvent,
        a: u32,
        m: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner.dead_letter(s, o, e, a, m, at).await
    }
    async fn dead_letters(&self, s: Option<&str>, p: &PageRequest) -> StoreResult<PageOf<DeadLetter>> {
        self.inner.dead_letters(s, p).await
    }
    async fn request_replay(&self, id: i64) -> StoreResult<()> {
        self.inner.request_replay(id).await
    }
    async fn pending_replays(&self, s: &str, l: u32) -> StoreResult<Vec<DeadLetter>> {
        self.inner.pending_replays(s, l).await
    }
    async fn finish_replay(&self, id: i64, r: Result<(), String>, at: DateTime<Utc>) -> StoreResult<()> {
        self.inner.finish_replay(id, r, at).await
    }
    async fn outbox_status(&self) -> StoreResult<Vec<SinkStatus>> {
        self.inner.outbox_status().await
    }
}

#[async_trait]
impl LeaseStore for KilledAfterAppend {
    async fn try_lease(&self, n: &str, o: &str, now: DateTime<Utc>, u: DateTime<Utc>) -> StoreResult<bool> {
        if self.leases_left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.leases_left.store(0, std::sync::atomic::Ordering::SeqCst);
            return Ok(false);
        }
        self.inner.try_lease(n, o, now, u).await
    }
    async fn release_lease(&self, n: &str, o: &str) -> StoreResult<()> {
        self.inner.release_lease(n, o).await
    }
    async fn lease_holder(&self, n: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        self.inner.lease_holder(n, now).await
    }
}

#[tokio::test]
async fn worker_killed_in_the_middle_of_an_installation_resumes_without_duplicates() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    let (port, api) = start_api().await;
    let relay = relay(&store, port);
    let dying = KilledAfterAppend { inner: store.clone(), appends_left: 20.into(), leases_left: usize::MAX.into() };
    let report = processor(&f).process_all(&dying).await.unwrap();
    let inst = &report.installations[0];
    assert!(matches!(inst.status, InstallationStatus::Failed { .. }), "{:?}", inst.status);
    let recorded = of_kind(&outbox(&*store).await, TIX_RESULT).len();
    assert!(recorded >= 19, "the 20th append was committed before the 'kill': {recorded}");
    assert!(f.json_files("23", "17916").len() > 10, "the killed batch's files are still there");
    // The dead worker's lease was released (or would expire); posting happens meanwhile.
    deliver(&relay).await;

    let report = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!(report.installations[0].status, InstallationStatus::Processed);
    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);
    check_results_match_reference(&results);
    deliver(&relay).await;
    check_received_once(&api, &results);
    assert_eq!(f.json_files("23", "17916").len(), 10);
}

#[tokio::test]
async fn poison_batches_and_corrupt_files_are_quarantined_and_processing_continues() {
    let f = Fixture::installation_23_41();
    let dir = f.reports().join("23").join("41");
    std::fs::write(dir.join("tix-report-1502700000.json"), b"{\"from\": \"1.2.3.4:5\", truncated").unwrap();
    // What maestro-tix's own dry run expects (on a second copy).
    let g = Fixture::installation_23_41();
    let dry = maestro_tix::Installation::open(g.reports().join("23").join("41")).unwrap();
    let dry = dry.run(&Default::default(), &Default::default(), maestro_tix::Disposal::DryRun).expect("dry run");
    let ok = dry.iterations.iter().filter(|i| i.result.is_ok()).count();
    let failed: Vec<_> = dry.iterations.iter().filter_map(|i| i.result.as_ref().err()).collect();
    assert_eq!(ok, 6);
    assert!(!failed.is_empty());

    let store = sqlite(&f).await;
    let report = processor(&f).process_all(&*store).await.unwrap();
    let inst = &report.installations[0];
    assert_eq!(inst.status, InstallationStatus::Processed, "a poison batch does not stop the installation");
    assert_eq!(inst.results.len(), 6);
    assert_eq!(inst.quarantined.len(), failed.len(), "every failed batch");
    assert_eq!(inst.unreadable_pending, 1, "the corrupt file is new: it may still be being written");
    let first_poison = &inst.quarantined[0];
    assert_eq!(first_poison.error_kind, "zero_width_bin", "{first_poison:?}");
    assert!(first_poison.reason.contains("zero-width bin"), "{}", first_poison.reason);
    assert_eq!(first_poison.key.as_deref(), Some(dry.iterations[6].selection.batch.idempotency_key().as_str()));

    let events = outbox(&*store).await;
    let q = of_kind(&events, TIX_QUARANTINED);
    assert_eq!(q.len(), failed.len());
    assert!(q.iter().all(|e| !e.payload["reason"].as_str().unwrap().is_empty()));
    assert_eq!(q[0].payload["error_kind"], "zero_width_bin");
    // Results after the first poison batch exist: processing went on past it.
    assert_eq!(of_kind(&events, TIX_RESULT).len(), 6);
    let qdir = dir.join("quarantine");
    let moved: usize = inst.quarantined.iter().map(|q| q.files.len()).sum();
    assert_eq!(json_files(&qdir).len(), moved, "quarantined files are moved aside, not deleted");
    let dropped = inst.dropped.len();
    assert_eq!(
        dropped,
        dry.iterations.iter().map(|i| i.selection.dropped.len()).sum::<usize>() + dry.end.dropped.len()
    );
    assert_eq!(
        f.json_files("23", "41").len(),
        dry.end.remaining.len() + 1,
        "only the files waiting for more data (and the young corrupt file) are left"
    );

    // Once old enough, the corrupt file is quarantined with its reason.
    let mut cfg = TixConfig::new(f.reports());
    cfg.quarantine_grace_secs = 0;
    let report = TixProcessor::new(cfg).unwrap().process_all(&*store).await.unwrap();
    let inst = &report.installations[0];
    assert_eq!((inst.results.len(), inst.quarantined.len(), inst.unreadable_pending), (0, 1, 0));
    let corrupt = &inst.quarantined[0];
    assert_eq!((corrupt.key.as_deref(), corrupt.error_kind.as_str()), (None, "json"));
    assert_eq!(corrupt.files, vec!["tix-report-1502700000.json".to_string()]);
    assert!(json_files(&qdir).contains(&"tix-report-1502700000.json".to_string()));
    let events = outbox(&*store).await;
    assert_eq!(of_kind(&events, TIX_QUARANTINED).len(), failed.len() + 1);

    // The API only gets the 6 results; quarantine events are skipped by the publisher.
    let (port, api) = start_api().await;
    deliver(&relay(&store, port)).await;
    assert_eq!(api.lock().unwrap().received.len(), 6);

    // Nothing is stuck: the next run records nothing new.
    let again = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!((again.results(), again.quarantined()), (0, 0));
    assert_eq!(outbox(&*store).await.len(), events.len());
}

#[tokio::test]
async fn a_held_lease_makes_another_worker_skip_the_installation() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    let now = Utc::now();
    let lease = TixProcessor::lease_name("23", "17916");
    assert!(store.try_lease(&lease, "worker-a", now, now + chrono::Duration::seconds(300)).await.unwrap());
    let b = processor(&f).with_owner("worker-b");
    let report = b.process_all(&*store).await.unwrap();
    assert_eq!(report.installations[0].status, InstallationStatus::Skipped { holder: Some("worker-a".into()) });
    assert_eq!(report.skipped(), 1);
    assert!(outbox(&*store).await.is_empty());
    assert_eq!(f.json_files("23", "17916").len(), 494, "nothing touched");
    store.release_lease(&lease, "worker-a").await.unwrap();
    let report = b.process_all(&*store).await.unwrap();
    assert_eq!(report.results(), 52);
    assert!(store.lease_holder(&lease, Utc::now()).await.unwrap().is_none(), "released after the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_processors_never_process_one_installation_twice() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    let a = processor(&f).with_owner("worker-a");
    let b = processor(&f).with_owner("worker-b");
    let (ra, rb) = tokio::join!(a.process_all(&*store), b.process_all(&*store));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let (ia, ib) = (&ra.installations[0], &rb.installations[0]);
    println!("a: {:?} ({} results), b: {:?} ({} results)", ia.status, ia.results.len(), ib.status, ib.results.len());
    assert!(!matches!(ia.status, InstallationStatus::Failed { .. }), "{ia:?}");
    assert!(!matches!(ib.status, InstallationStatus::Failed { .. }), "{ib:?}");
    // Either one skipped while the other held the lease, or the second came after the first
    // had finished and found nothing: in both cases every batch was handled once.
    assert_eq!(ra.results() + rb.results(), 52, "a: {:?} b: {:?}", ia.status, ib.status);
    let keys: HashSet<&String> = ia.results.iter().chain(&ib.results).collect();
    assert_eq!(keys.len(), 52);
    assert_eq!(of_kind(&outbox(&*store).await, TIX_RESULT).len(), 52);
    assert_eq!(f.json_files("23", "17916").len(), 10);
}

#[tokio::test]
async fn the_same_files_in_two_folders_are_two_installations() {
    let f = Fixture::installation_23_17916();
    let copy = f.reports().join("24").join("17916");
    std::fs::create_dir_all(&copy).unwrap();
    for name in f.json_files("23", "17916") {
        std::fs::copy(f.reports().join("23").join("17916").join(&name), copy.join(&name)).unwrap();
    }
    let store = sqlite(&f).await;
    let report = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!(report.results(), 104);
    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);
    assert_eq!(results.len(), 104, "keys follow the folder (the installation posted to), not the ids inside the files");
    assert_eq!(results.iter().filter(|e| e.payload["user"] == "24").count(), 52);
    assert!(
        results
            .iter()
            .filter(|e| e.payload["user"] == "24")
            .all(|e| e.payload["key"].as_str().unwrap().starts_with("tix:24:17916:"))
    );
}

#[tokio::test]
async fn an_as_table_adds_the_localisation_and_keeps_the_body() {
    let f = Fixture::installation_23_17916();
    let mut cfg = TixConfig::new(f.reports());
    cfg.as_lookup = Some(maestro_providers::tix::AsLookupConfig {
        pfx2as: data_dir().join("as").join("pfx2as-sample.txt"),
        names: Some(data_dir().join("as").join("as-names-sample.txt")),
    });
    let store = sqlite(&f).await;
    TixProcessor::new(cfg).unwrap().process_all(&*store).await.unwrap();
    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);
    assert_eq!(results.len(), 52);
    for e in &results {
        let l = &e.payload["localisation"];
        assert_eq!(l["kind"], "as", "{l}");
        assert_eq!(l["asn"], 10318);
        assert_eq!(l["name"], "Cablevision S.A.");
        assert_eq!(l["prefix"], "190.16.0.0/12");
        assert_eq!(e.payload["body"]["ip"], "190.17.134.135", "the body still carries the IP");
    }
}

#[tokio::test]
async fn a_worker_that_loses_its_lease_stops_and_the_next_run_completes_without_duplicates() {
    let f = Fixture::installation_23_17916();
    let store = sqlite(&f).await;
    // Lease taken, renewed after the analysis, then for 10 batches; the next renewal fails.
    let losing = KilledAfterAppend { inner: store.clone(), appends_left: usize::MAX.into(), leases_left: 12.into() };
    let report = processor(&f).process_all(&losing).await.unwrap();
    let inst = &report.installations[0];
    assert!(
        matches!(&inst.status, InstallationStatus::Failed { error } if error.contains("lease was lost")),
        "{:?}",
        inst.status
    );
    assert_eq!(inst.results.len(), 10, "it stops before touching the next batch");
    store.release_lease(&TixProcessor::lease_name("23", "17916"), report.owner.as_str()).await.unwrap();
    let report = processor(&f).process_all(&*store).await.unwrap();
    assert_eq!(report.installations[0].status, InstallationStatus::Processed);
    assert_eq!(report.results(), 42);
    check_results_match_reference(&of_kind(&outbox(&*store).await, TIX_RESULT));
}
