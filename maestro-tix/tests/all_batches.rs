//! Acceptance: the full analysis over all 340 archived batches (10 archives). Every batch gives
//! either a sane result or a typed error — never a panic — the counts are the ones observed and
//! pinned here, and the output does not depend on the order the records arrive in.

mod common;

use std::collections::BTreeMap;

use maestro_tix::{AnalysisConfig, Installation, ReportBody, SelectionConfig, analyse, analyse_records};

/// Batches per archive (SPEC §3.2).
const BATCHES: [(&str, usize); 10] = [
    ("batch-test-report-1b", 15),
    ("batch-test-reports-2b", 52),
    ("batch-test-reports-3b", 21),
    ("batch-test-reports-4b", 22),
    ("batch-test-reports-5b", 25),
    ("batch-test-reports-6b", 27),
    ("batch-test-reports-7", 62),
    ("batch-test-reports-8", 33),
    ("batch-test-reports-9", 27),
    ("batch-test-reports-10", 56),
];

fn check_sane(r: &maestro_tix::AnalysisResult, ctx: &str) {
    for (dir, d) in [("up", &r.upstream), ("down", &r.downstream)] {
        assert!(d.usage.is_finite() && d.usage >= 0.0, "{ctx} {dir} usage {}", d.usage);
        assert!((0.0..=1.0).contains(&d.quality), "{ctx} {dir} quality {}", d.quality);
        assert!(d.hurst.rs.is_finite() && d.hurst.wavelet.is_finite(), "{ctx} {dir} hurst {:?}", d.hurst);
        assert!((0.0..=1.0).contains(&d.usage_clamped()));
    }
    let diag = &r.diagnostics;
    assert_eq!(r.timestamp, diag.last_timestamp, "{ctx}: timestamp is the newest record");
    assert!(diag.last_timestamp - diag.first_timestamp >= 600, "{ctx}");
    assert!(diag.n_meaningful <= diag.n_short && diag.n_short <= diag.n_records, "{ctx}");
    assert!(diag.hurst_len <= diag.n_meaningful && diag.hurst_len * 2 > diag.n_meaningful, "{ctx}");
}

#[test]
fn all_340_batches_give_a_result_or_a_typed_error() {
    let mut per_archive: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut loop_outcomes = (0usize, 0usize, 0usize); // (batches, ok, err) of the selection loop per dir
    let mut over_one = 0;
    let mut unwrapped = Vec::new();
    let mut total = 0;
    for (archive, expected) in BATCHES {
        let tmp = common::extract(&format!("batches/{archive}.tar.gz"));
        let dirs = common::batch_dirs(tmp.path());
        assert_eq!(dirs.len(), expected, "{archive}: batch directories");
        for dir in dirs {
            let ctx = format!("{archive}/{}", dir.file_name().unwrap().to_string_lossy());
            let inst = Installation::open(&dir).expect("open");
            assert!(inst.rejected().is_empty(), "{ctx}: {:?}", inst.rejected());
            let batch = inst.as_single_batch().expect("batch");
            total += 1;
            let entry = per_archive.entry(archive).or_default();
            match analyse(&batch) {
                Ok(r) => {
                    entry.0 += 1;
                    check_sane(&r, &ctx);
                    if r.upstream.usage > 1.0 || r.downstream.usage > 1.0 {
                        over_one += 1;
                    }
                    // Same result whatever order the records come in (fixed total order).
                    let mut reversed = batch.records.clone();
                    reversed.reverse();
                    let again = analyse_records(&reversed, &AnalysisConfig::default()).expect("same data");
                    assert_eq!(again, r, "{ctx}: order-dependent result");
                    let body = serde_json::to_value(ReportBody::from((&r, &batch))).expect("body");
                    assert_eq!(body.as_object().expect("object").len(), 11, "{ctx}");
                    assert!(body["upUsage"].as_f64().unwrap() <= 1.0);
                }
                Err(e) => {
                    entry.1 += 1;
                    assert!(e.is_analysis_error(), "{ctx}: {e}");
                    *errors.entry(e.kind().to_owned()).or_default() += 1;
                }
            }
            // The recommended configuration (midnight unwrapping) also analyses every batch.
            let recommended = maestro_tix::analyse_with(&batch, &AnalysisConfig::recommended())
                .unwrap_or_else(|e| panic!("{ctx}: recommended config: {e}"));
            check_sane(&recommended, &ctx);
            if recommended.diagnostics.unwrapped_records > 0 {
                unwrapped.push(ctx.clone());
            }
            // The selection loop over the same directory (parse + select + analyse).
            let n_loop = inst.select_batches(&SelectionConfig::default()).count();
            if n_loop != 1 {
                let end = inst.select_batches(&SelectionConfig::default()).finish();
                println!(
                    "{ctx}: selection loop gives {n_loop} batches, dropped {:?}",
                    end.dropped.iter().map(|d| &d.reason).collect::<Vec<_>>()
                );
            }
            for it in inst.iterations(&SelectionConfig::default(), &AnalysisConfig::default()) {
                loop_outcomes.0 += 1;
                match it.result {
                    Ok(r) => {
                        loop_outcomes.1 += 1;
                        check_sane(&r, &ctx);
                    }
                    Err(e) => {
                        loop_outcomes.2 += 1;
                        assert!(e.is_analysis_error(), "{ctx}: {e}");
                    }
                }
            }
        }
    }
    println!("per archive (ok, err): {per_archive:?}");
    println!("errors: {errors:?}; usage > 1 in {over_one} results; loop (batches, ok, err): {loop_outcomes:?}");
    assert_eq!(total, 340);
    let ok: usize = per_archive.values().map(|v| v.0).sum();
    assert_eq!(ok + errors.values().sum::<usize>(), 340);
    // Observed and pinned (deterministic).
    assert_eq!(ok, OBSERVED_OK, "{per_archive:?} {errors:?}");
    assert_eq!(loop_outcomes, OBSERVED_LOOP);
    assert_eq!(over_one, OBSERVED_OVER_ONE);
    println!("batches crossing a midnight: {unwrapped:?}");
    assert_eq!(unwrapped, OBSERVED_MIDNIGHT);
}

/// Batches whose clocks cross a midnight (server side in 1b, client side in archive 10; the last
/// two of archive 10 are the directories that mix files 8.5 h apart).
const OBSERVED_MIDNIGHT: [&str; 5] = [
    "batch-test-report-1b/1505086813",
    "batch-test-report-1b/1505087493",
    "batch-test-reports-10/1513306741",
    "batch-test-reports-10/1513336003",
    "batch-test-reports-10/1513336552",
];

/// Every archived batch is analysable (the ms-resolution failures are in installation `41`).
const OBSERVED_OK: usize = 340;
/// The selection loop over each batch directory: 338 batches, all analysable. Two directories
/// yield none: their files split at a gap longer than 300 s into parts below 1084 records.
const OBSERVED_LOOP: (usize, usize, usize) = (338, 338, 0);
/// Results with a raw usage above 1 (bin 0's mid-point below zero; clamped in the API body).
const OBSERVED_OVER_ONE: usize = 35;
