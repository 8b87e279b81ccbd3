//! The TiX processor against a real PostgreSQL (address in `DATABASE_URL`; each test gets a
//! private schema). Without `DATABASE_URL` the test fails, saying how to start one.

#![cfg(feature = "tix")]

mod tix_support;

use std::collections::HashSet;
use std::sync::Arc;

use maestro_core::{OutboxRelay, OutboxStore};
use maestro_providers::tix::{InstallationStatus, TIX_RESULT, TixConfig, TixProcessor};
use maestro_store::PostgresStore;
use tix_support::*;

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: this test needs PostgreSQL. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and set \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (bash .ci/run does both)"
        )
    })
}

async fn fresh() -> Arc<PostgresStore> {
    let schema = format!("maestro_tix_test_{}", uuid::Uuid::new_v4().simple());
    Arc::new(PostgresStore::open_in_schema(&database_url(), Some(&schema)).await.unwrap_or_else(|e| {
        panic!(
            "cannot open PostgreSQL at DATABASE_URL ({e}); start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outbox_records_once_leases_exclude_and_the_api_gets_each_result_once() {
    let f = Fixture::installation_23_17916();
    let store = fresh().await;

    // A worker records everything and dies before deleting; two workers then race.
    let mut keep = TixConfig::new(f.reports());
    keep.dispose_files = false;
    let first = TixProcessor::new(keep).unwrap().process_all(&*store).await.unwrap();
    assert_eq!(first.results(), 52);
    let a = TixProcessor::new(TixConfig::new(f.reports())).unwrap().with_owner("worker-a");
    let b = TixProcessor::new(TixConfig::new(f.reports())).unwrap().with_owner("worker-b");
    let (ra, rb) = tokio::join!(a.process_all(&*store), b.process_all(&*store));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    for r in [&ra, &rb] {
        assert!(!matches!(r.installations[0].status, InstallationStatus::Failed { .. }), "{r:?}");
    }
    assert_eq!(ra.results() + rb.results(), 52, "one of them handled the installation");
    assert_eq!(f.json_files("23", "17916").len(), 10);

    let events = outbox(&*store).await;
    let results = of_kind(&events, TIX_RESULT);
    assert_eq!(results.len(), 52, "duplicate ids ignored by the PostgreSQL outbox too");
    let rows = read_tsv("expected/loop_23_17916.tsv");
    for (e, row) in results.iter().zip(rows.iter().filter(|r| r["first_file"] != "END")) {
        let up: f64 = row["up_usage"].parse().unwrap();
        assert_eq!(e.payload["raw"]["up_usage"].as_f64().unwrap().to_bits(), up.to_bits());
    }

    let (port, api) = start_api().await;
    let relay = OutboxRelay::new(store.clone(), publisher(port)).with_config(fast_relay());
    let pass = relay.drain().await.unwrap();
    assert_eq!(pass.delivered as usize, events.len());
    {
        let g = api.lock().unwrap();
        assert_eq!(g.received.len(), 52);
        let keys: HashSet<_> = g.received.iter().map(|r| r.idempotency_key.clone().unwrap()).collect();
        assert_eq!(keys.len(), 52);
        assert!(g.received.iter().all(|r| r.authorization.as_deref() == Some(BASIC)));
    }
    let status = store.outbox_status().await.unwrap();
    assert!(status.iter().all(|s| s.backlog == 0 && s.dead == 0), "{status:?}");
}
