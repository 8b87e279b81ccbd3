//! The API body (reference field names and order) and the idempotency key.

mod common;

use std::collections::HashSet;

use maestro_tix::{Installation, ReportBody, SelectionConfig, UsagePolicy, analyse, idempotency_key};

#[test]
fn body_has_reference_keys_in_order_and_clamps_usage() {
    let tmp = common::extract("batches/batch-test-report-1b.tar.gz");
    // 1505082345: raw up usage 1.3042328042328042 (> 1) in the reference output.
    let dir = common::batch_dirs(tmp.path()).into_iter().find(|d| d.ends_with("1505082345")).expect("dir");
    let batch = Installation::open(&dir).unwrap().as_single_batch().unwrap();
    let r = analyse(&batch).unwrap();
    assert_eq!(r.upstream.usage, 1.3042328042328042);

    let body = ReportBody::from((&r, &batch));
    let json = body.to_json();
    let keys: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json).unwrap().keys().cloned().collect();
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
    assert!(
        json.starts_with(&format!("{{\"timestamp\":{},\"version\":\"1.0.0\",\"upUsage\":1.0,", r.timestamp)),
        "{json}"
    );
    assert_eq!(body.ip, "181.165.116.94");
    assert_eq!(body.down_usage, r.downstream.usage);
    assert_eq!(body.hurst_down_wavelet, r.downstream.hurst.wavelet);

    let raw = ReportBody::new(&r, "181.165.116.94", UsagePolicy::Raw);
    assert_eq!(raw.up_usage, 1.3042328042328042);
    assert_eq!(ReportBody::from((&r, "x")).ip, "x");
    // The internal result keeps the reference's nested shape.
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["upstream"]["hurst"]["rs"].as_f64(), Some(r.upstream.hurst.rs));
    assert!(v.get("diagnostics").is_none());
}

#[test]
fn idempotency_key_is_stable_and_unique_per_batch() {
    assert_eq!(idempotency_key(23, 17916, 1510458308, 1510459486), "tix:23:17916:1510458308-1510459486");
    let tmp = common::extract("installations/batch-test-2.tar.gz");
    let dir = tmp.path().join("23/17916");
    let keys = |inst: &Installation| -> Vec<String> {
        inst.select_batches(&SelectionConfig::default()).map(|s| s.batch.idempotency_key()).collect()
    };
    let first = keys(&Installation::open(&dir).unwrap());
    let second = keys(&Installation::open(&dir).unwrap());
    assert_eq!(first.len(), 52);
    assert_eq!(first, second, "re-running the same data gives the same keys");
    assert_eq!(first.iter().collect::<HashSet<_>>().len(), 52, "distinct batches, distinct keys");
    assert!(first[0].starts_with("tix:23:17916:1510458308-"), "{}", first[0]);
}
