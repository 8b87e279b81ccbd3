//! Batch-selection rules on generated installations (60 records per file, files 60 s apart),
//! including the cases of the condenser fork's `TestAbstractInstallationMeasurements` that
//! apply to the reference algorithm.

use std::path::Path;

use base64::Engine as _;
use maestro_tix::{DropReason, Installation, ObservationCount, Record, SelectionConfig};

/// Writes `files` report files starting at `start` (Unix s), 60 records each, one per second.
fn write_files(dir: &Path, start: i64, files: i64, from: &str, long_every: Option<i64>) {
    for f in 0..files {
        let t0 = start + f * 60;
        let msg: Vec<u8> = (0..60)
            .flat_map(|i| {
                let t1 = (t0 + i) % 86_400 * 1_000_000_000;
                let long = long_every.is_some_and(|k| i % k == 0);
                // Deterministic pseudo-random jitter (distinct values, no zero-width bins).
                let j = |salt: i64| ((t0 + i) * 2_654_435_761 + salt).rem_euclid(1_000_003);
                Record {
                    day_timestamp: t0 + i,
                    t1,
                    t2: t1 + 4_000_000 + j(1) * 3,
                    t3: t1 + 4_100_000 + j(1) * 3,
                    t4: t1 + 9_000_000 + j(1) * 3 + j(7) * 5,
                    type_identifier: if long { b'L' } else { b'S' },
                    packet_size: if long { 4448 } else { 32 },
                }
                .to_bytes()
            })
            .collect();
        let json = serde_json::json!({
            "from": from, "to": "tix.example.net:4500", "type": "LONG",
            "initialTimestamp": 0, "receptionTimestamp": 0, "sentTimestamp": 0, "finalTimestamp": 0,
            "publicKey": "", "message": base64::engine::general_purpose::STANDARD.encode(msg),
            "signature": "", "userId": 1, "installationId": 2
        });
        std::fs::write(dir.join(format!("tix-report-{t0}.json")), json.to_string()).unwrap();
    }
}

#[test]
fn empty_installation_has_no_batch() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Installation::open(dir.path()).unwrap();
    let end = inst.select_batches(&SelectionConfig::default()).finish();
    assert!(end.dropped.is_empty() && end.remaining.is_empty());
}

#[test]
fn sixteen_files_wait_for_more_data() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), 1_000_000, 16, "1.2.3.4:4500", None);
    let inst = Installation::open(dir.path()).unwrap();
    assert_eq!(inst.select_batches(&SelectionConfig::default()).count(), 0);
    let end = inst.select_batches(&SelectionConfig::default()).finish();
    assert!(end.dropped.is_empty());
    assert_eq!(end.remaining.len(), 16, "nothing deleted");
}

#[test]
fn nineteen_files_then_a_far_one_give_one_batch_of_nineteen() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), 1_000_000, 19, "1.2.3.4:4500", None);
    write_files(dir.path(), 1_100_000, 1, "1.2.3.4:4500", None);
    let inst = Installation::open(dir.path()).unwrap();
    let mut it = inst.select_batches(&SelectionConfig::default());
    let s = it.next().expect("a batch");
    assert_eq!((s.batch.files.len(), s.observation_count), (19, 1140));
    assert_eq!(s.consumed.len(), 9);
    assert!(s.dropped.is_empty());
    let analysed = maestro_tix::analyse(&s.batch).expect("analysable");
    assert_eq!(analysed.timestamp, 1_000_000 + 18 * 60 + 59);
    assert!(it.next().is_none());
    let end = it.finish();
    assert_eq!(end.remaining.len(), 11, "20 files until the result, 11 after");
}

#[test]
fn gap_drops_the_files_before_it_when_they_are_too_few() {
    // The Java fork deletes 16 files as soon as one far file arrives; the reference algorithm
    // only looks for gaps once more than 1084 observations are pending.
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), 1_000_000, 16, "1.2.3.4:4500", None);
    write_files(dir.path(), 1_100_000, 1, "1.2.3.4:4500", None);
    let inst = Installation::open(dir.path()).unwrap();
    let end = inst.select_batches(&SelectionConfig::default()).finish();
    assert!(end.dropped.is_empty());
    assert_eq!(end.remaining.len(), 17);

    write_files(dir.path(), 1_100_060, 2, "1.2.3.4:4500", None);
    let inst = Installation::open(dir.path()).unwrap();
    let end = inst.select_batches(&SelectionConfig::default()).finish();
    assert_eq!(end.dropped.len(), 16);
    let gap = 1_100_000 - (1_000_000 + 15 * 60);
    assert!(end.dropped.iter().all(|d| d.reason == DropReason::Gap { seconds: gap } && d.records == 60));
    assert_eq!(end.remaining.len(), 3);
}

#[test]
fn gap_inside_an_otherwise_full_batch_keeps_the_part_before_it() {
    // 19 files, a 10-minute hole, 19 more: the first batch stops before the hole.
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), 1_000_000, 18, "1.2.3.4:4500", None);
    write_files(dir.path(), 1_000_000 + 18 * 60 + 600, 19, "1.2.3.4:4500", None);
    let inst = Installation::open(dir.path()).unwrap();
    let sels: Vec<_> = inst.select_batches(&SelectionConfig::default()).collect();
    // 18 files = 1080 < 1084: the first 18 cannot form a batch and are dropped at the gap.
    assert_eq!(sels.len(), 1);
    assert_eq!(sels[0].dropped.len(), 18);
    assert_eq!(sels[0].batch.files.len(), 19);
}

#[test]
fn unique_short_counting_ignores_long_records() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), 1_000_000, 20, "1.2.3.4:4500", Some(6)); // 10 of 60 records are LONG
    let inst = Installation::open(dir.path()).unwrap();
    let all = inst.select_batches(&SelectionConfig::default()).next().expect("reference count");
    assert_eq!((all.batch.files.len(), all.observation_count), (19, 1140));
    let cfg = SelectionConfig { count: ObservationCount::UniqueShort, ..SelectionConfig::default() };
    assert_eq!(inst.select_batches(&cfg).count(), 0, "20 × 50 short records < 1084");
    let cfg =
        SelectionConfig { min_observations: 900, count: ObservationCount::UniqueShort, ..SelectionConfig::default() };
    let s = inst.select_batches(&cfg).next().expect("configurable threshold");
    assert_eq!((s.batch.files.len(), s.observation_count, s.batch.unique_short_count()), (18, 900, 900));
}

#[test]
fn config_deserialises_with_defaults_and_rejects_unknown_fields() {
    let c: SelectionConfig = serde_json::from_str(r#"{"max_gap_seconds": 120}"#).unwrap();
    assert_eq!((c.min_observations, c.max_gap_seconds, c.count), (1084, 120, ObservationCount::AllRecords));
    assert!(serde_json::from_str::<SelectionConfig>(r#"{"gap": 1}"#).is_err());
    let a: maestro_tix::AnalysisConfig = serde_json::from_str(r#"{"unwrap_midnight": true}"#).unwrap();
    assert_eq!(a, maestro_tix::AnalysisConfig::recommended());
    assert!(SelectionConfig::default().validate().is_ok());
    assert!(maestro_tix::AnalysisConfig::default().validate().is_ok());
    let bad = maestro_tix::AnalysisConfig { alpha: f64::NAN, quality_min_records: 1, ..Default::default() };
    let err = bad.validate().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("analysis.alpha") && text.contains("analysis.quality_min_records"),
        "all problems at once: {text}"
    );
    let bad = SelectionConfig { min_observations: 0, max_gap_seconds: -1, ..Default::default() };
    assert!(matches!(bad.validate(), Err(maestro_tix::TixError::InvalidConfig { problems }) if problems.len() == 2));
}
