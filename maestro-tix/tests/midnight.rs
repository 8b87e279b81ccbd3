//! Midnight wrap of the nanos-of-day clocks (weakness 7): `AnalysisConfig::unwrap_midnight`.

mod common;

use maestro_tix::analysis::unwrap_midnight;
use maestro_tix::{AnalysisConfig, AnalysisResult, Installation, Record, analyse_records};

const DAY: i64 = 86_400_000_000_000;

fn outputs(r: &AnalysisResult) -> (i64, maestro_tix::DirectionResult, maestro_tix::DirectionResult) {
    (r.timestamp, r.upstream, r.downstream)
}

fn batch_records(archive: &str, dir: &str) -> Vec<Record> {
    let tmp = common::extract(&format!("batches/{archive}.tar.gz"));
    let d = common::batch_dirs(tmp.path()).into_iter().find(|d| d.ends_with(dir)).expect("dir");
    Installation::open(&d).unwrap().as_single_batch().unwrap().records
}

#[test]
fn synthetic_wraps_are_undone_exactly() {
    let records = batch_records("batch-test-reports-2b", "1510458308");
    let reference = analyse_records(&records, &AnalysisConfig::default()).unwrap();
    let mut ts: Vec<i64> = records.iter().map(|r| r.day_timestamp).collect();
    ts.sort();
    let (server_midnight, client_midnight) = (ts[ts.len() / 3], ts[2 * ts.len() / 3]);
    let wrapped: Vec<Record> = records
        .iter()
        .map(|r| {
            let mut w = *r;
            if r.day_timestamp >= server_midnight {
                w.t2 -= DAY;
                w.t3 -= DAY;
            }
            if r.day_timestamp >= client_midnight {
                w.t1 -= DAY;
                w.t4 -= DAY;
            }
            w
        })
        .collect();
    let mut copy = wrapped.clone();
    assert!(unwrap_midnight(&mut copy) > 0);
    let mut sorted_copy = copy.clone();
    sorted_copy.sort();
    let mut sorted_orig = records.clone();
    sorted_orig.sort();
    assert_eq!(sorted_copy, sorted_orig, "every timestamp restored exactly");

    let fixed = analyse_records(&wrapped, &AnalysisConfig::recommended()).unwrap();
    assert_eq!(outputs(&fixed), outputs(&reference));
    assert!(fixed.diagnostics.unwrapped_records > 0);
    // Without the fix the wrapped batch gives a different answer (or none).
    let naive = analyse_records(&wrapped, &AnalysisConfig::default());
    assert!(naive.map_or(true, |n| outputs(&n) != outputs(&reference)));
    // On data without a wrap the option changes nothing.
    let same = analyse_records(&records, &AnalysisConfig::recommended()).unwrap();
    assert_eq!(outputs(&same), outputs(&reference));
    assert_eq!(same.diagnostics.unwrapped_records, 0);
}

#[test]
fn real_server_midnight_batch() {
    // 1505086813 crosses the server's midnight: t2 - t1 jumps by a day inside the batch. The
    // reference (and the default config) report 1.238 / 1.159; unwrapped, the usages are the
    // ones the neighbouring batches suggest.
    let records = batch_records("batch-test-report-1b", "1505086813");
    let reference = analyse_records(&records, &AnalysisConfig::default()).unwrap();
    assert_eq!(reference.upstream.usage, 1.2382198952879582);
    let fixed = analyse_records(&records, &AnalysisConfig::recommended()).unwrap();
    println!("reference {:?}\nunwrapped {:?}", outputs(&reference), outputs(&fixed));
    assert!(fixed.diagnostics.unwrapped_records > 0);
    assert_ne!(outputs(&fixed), outputs(&reference));
    // The previous batch (1505086261, no wrap) measured 0.8284 / 0.6123 on the same schedule step.
    assert!((fixed.upstream.usage - 0.8284).abs() < 0.1, "{}", fixed.upstream.usage);
    assert!((fixed.downstream.usage - 0.6123).abs() < 0.1, "{}", fixed.downstream.usage);
    assert!(fixed.upstream.usage <= 1.0 && fixed.downstream.usage <= 1.0);
}
