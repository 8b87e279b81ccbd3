//! Acceptance: the select → analyse → delete loop over raw installation directories.
//!
//! * `23/17916` (`installations/batch-test-2.tar.gz`) against `expected/loop_23_17916.tsv`: every
//!   iteration's files, counts, IP, dropped files and bit-exact usages, and the end state.
//! * `41` (`installations/test-reports.tar.gz`), the SPEC's acceptance set: 6 results with 17 and
//!   15 files dropped by gaps, then a batch that the reference crashed on (zero-width bin) and
//!   which is now a typed error that does not block the loop.

mod common;

use maestro_tix::{AnalysisConfig, Disposal, DropReason, Installation, SelectionConfig, TixError};

fn name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn loop_23_17916_matches_reference() {
    let rows = common::read_tsv("expected/loop_23_17916.tsv");
    let tmp = common::extract("installations/batch-test-2.tar.gz");
    let dir = tmp.path().join("23").join("17916");
    let inst = Installation::open(&dir).expect("open");
    assert_eq!(inst.reports().len(), 494);
    assert!(inst.rejected().is_empty());

    let mut batches = inst.select_batches(&SelectionConfig::default());
    let mut n = 0;
    for row in rows.iter().filter(|r| r["first_file"] != "END") {
        assert_eq!(row["stable_over_7_hash_seeds"], "yes");
        let sel = batches.next().unwrap_or_else(|| panic!("iteration {} missing", row["iteration"]));
        let it = row["iteration"].as_str();
        assert_eq!(sel.index.to_string(), it);
        let b = &sel.batch;
        assert_eq!(name(&b.files[0]), row["first_file"], "iteration {it}");
        assert_eq!(name(b.files.last().unwrap()), row["last_file"], "iteration {it}");
        assert_eq!(b.files.len().to_string(), row["n_files"], "iteration {it}");
        assert_eq!(b.unique_short_count().to_string(), row["n_S_obs"], "iteration {it}");
        assert_eq!(b.host().to_string(), row["ip"], "iteration {it}");
        assert_eq!(sel.dropped.len().to_string(), row["files_dropped_by_selection"], "iteration {it}");
        assert!(sel.dropped.iter().all(|d| matches!(d.reason, DropReason::Gap { seconds } if seconds > 300)));
        assert_eq!(sel.consumed.len(), b.files.len() / 2);
        assert_eq!(sel.consumed[..], b.files[..b.files.len() / 2]);
        assert!(sel.observation_count >= 1084);
        let r = maestro_tix::analyse(b).unwrap_or_else(|e| panic!("iteration {it}: {e}"));
        assert_eq!(r.upstream.usage.to_bits(), common::py_float(&row["up_usage"]).to_bits(), "iteration {it} up");
        assert_eq!(r.downstream.usage.to_bits(), common::py_float(&row["down_usage"]).to_bits(), "iteration {it} down");
        assert_eq!(r.timestamp.to_string(), row["max_day_ts"], "iteration {it}");
        n += 1;
    }
    assert_eq!(n, 52);
    assert!(batches.next().is_none(), "no 53rd batch");
    let end = batches.finish();
    let end_row = rows.iter().find(|r| r["first_file"] == "END").expect("END row");
    assert_eq!(end_row["last_file"], format!("dropped_by_selection={}", end.dropped.len()));
    assert_eq!(end_row["n_files"], format!("remaining={}", end.remaining.len()));
    assert_eq!(end.remaining.len(), 10);
}

#[test]
fn loop_deletes_exactly_what_the_dry_run_reports() {
    let tmp = common::extract("installations/batch-test-2.tar.gz");
    let dir = tmp.path().join("23").join("17916");
    let inst = Installation::open(&dir).expect("open");
    let dry = inst.run(&SelectionConfig::default(), &AnalysisConfig::default(), Disposal::DryRun).expect("dry");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 494, "a dry run deletes nothing");
    let wet = inst.run(&SelectionConfig::default(), &AnalysisConfig::default(), Disposal::Delete).expect("wet");
    assert_eq!(dry.iterations.len(), wet.iterations.len());
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| name(&e.path()))
        .collect();
    left.sort();
    let mut remaining: Vec<String> = dry.end.remaining.iter().map(|p| name(p)).collect();
    remaining.sort();
    assert_eq!(left, remaining);
    let consumed: usize = dry.iterations.iter().map(|i| i.selection.consumed.len()).sum();
    let dropped: usize =
        dry.iterations.iter().map(|i| i.selection.dropped.len()).sum::<usize>() + dry.end.dropped.len();
    assert_eq!(consumed + dropped + left.len(), 494, "every file is consumed, dropped or left");
    assert_eq!(dropped, 14);
    // A second run over what is left finds no batch.
    let again = Installation::open(&dir).expect("reopen");
    assert_eq!(again.select_batches(&SelectionConfig::default()).count(), 0);
}

#[test]
fn loop_installation_41_is_not_blocked_by_a_degenerate_batch() {
    let tmp = common::extract("installations/test-reports.tar.gz");
    let inst = Installation::open(tmp.path().join("41")).expect("open");
    assert_eq!(inst.reports().len(), 325);
    let report = inst.run(&SelectionConfig::default(), &AnalysisConfig::default(), Disposal::DryRun).expect("run");
    let summary: Vec<String> = report
        .iterations
        .iter()
        .map(|it| {
            let s = &it.selection;
            let outcome = match &it.result {
                Ok(r) => format!("ok up={:.4} down={:.4}", r.upstream.usage, r.downstream.usage),
                Err(e) => format!("err {}", e.kind()),
            };
            format!("{} files={} dropped={} {outcome}", s.index, s.batch.files.len(), s.dropped.len())
        })
        .collect();
    println!("{}", summary.join("\n"));
    // The reference: results for iterations 0..=5, gap drops of 17 and 15 files, then a
    // ZeroDivisionError at iteration 6 that blocked the installation for good.
    let first_six_ok = report.iterations.iter().take(6).all(|i| i.result.is_ok());
    assert!(first_six_ok, "{summary:?}");
    let drops: Vec<usize> =
        report.iterations.iter().take(7).map(|i| i.selection.dropped.len()).filter(|&d| d > 0).collect();
    assert_eq!(drops, vec![17, 15], "{summary:?}");
    let it6 = report.iterations.get(6).expect("iteration 6 exists");
    assert!(matches!(it6.result, Err(TixError::ZeroWidthBin { .. })), "iteration 6: {:?}", it6.result);
    // Iteration 5 is the reference's hash-seed-dependent tie case (down-usage 0.5855…0.6335 over
    // 7 seeds, up 0.9172 or 0.9210): here one fixed tie choice, close to that spread.
    let r5 = report.iterations[5].result.as_ref().expect("iteration 5");
    assert!((0.90..0.95).contains(&r5.upstream.usage), "{}", r5.upstream.usage);
    assert!((0.55..0.70).contains(&r5.downstream.usage), "{}", r5.downstream.usage);
    let again = maestro_tix::analyse(&report.iterations[5].selection.batch).unwrap();
    assert_eq!(again.downstream.usage.to_bits(), r5.downstream.usage.to_bits(), "stable");
    // Beyond the reference: the loop goes on. Counts observed with these ms-resolution clocks
    // (stable: the order is fixed): 28 batches, only the first 6 analysable.
    let ok = report.iterations.iter().filter(|i| i.result.is_ok()).count();
    assert_eq!((report.iterations.len(), ok), (28, 6), "{summary:?}");
    let files: usize =
        report.iterations.iter().map(|i| i.selection.consumed.len() + i.selection.dropped.len()).sum::<usize>()
            + report.end.dropped.len()
            + report.end.remaining.len();
    assert_eq!(files, 325, "every file is accounted for");
}
