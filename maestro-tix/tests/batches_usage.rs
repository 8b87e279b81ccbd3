//! Acceptance: `expected/batches_usage.tsv` — usage of the 135 batches of archives 1b–5b
//! reproduced bit for bit, with the observation counts and the newest timestamp.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use maestro_tix::{Installation, analyse};

#[test]
fn batches_usage_bit_exact() {
    let rows = common::read_tsv("expected/batches_usage.tsv");
    assert_eq!(rows.len(), 135, "expected table has 135 batches");
    let mut extracted = HashMap::new();
    let mut dirs: HashMap<(String, String), PathBuf> = HashMap::new();
    for row in &rows {
        let archive = row["archive"].clone();
        if !extracted.contains_key(&archive) {
            let tmp = common::extract(&format!("batches/{archive}.tar.gz"));
            for d in common::batch_dirs(tmp.path()) {
                let name = d.file_name().unwrap().to_string_lossy().into_owned();
                dirs.insert((archive.clone(), name), d);
            }
            extracted.insert(archive.clone(), tmp);
        }
    }
    let mut mismatches = Vec::new();
    for row in &rows {
        let key = (row["archive"].clone(), row["batch_dir"].clone());
        let dir = dirs.get(&key).unwrap_or_else(|| panic!("batch dir {key:?} missing from the archive"));
        let inst = Installation::open(dir).expect("open");
        assert!(inst.rejected().is_empty(), "{key:?}: rejected files {:?}", inst.rejected());
        let batch = inst.as_single_batch().expect("non-empty batch");
        let result = analyse(&batch).unwrap_or_else(|e| panic!("{key:?}: analysis failed: {e}"));
        let d = &result.diagnostics;
        let up = common::py_float(&row["up_usage"]);
        let down = common::py_float(&row["down_usage"]);
        let got = (
            batch.files.len().to_string(),
            d.n_short.to_string(),
            d.n_meaningful.to_string(),
            result.timestamp.to_string(),
            result.upstream.usage.to_bits(),
            result.downstream.usage.to_bits(),
        );
        let want = (
            row["n_report_files"].clone(),
            row["n_S_obs"].clone(),
            row["n_meaningful"].clone(),
            row["max_day_ts"].clone(),
            up.to_bits(),
            down.to_bits(),
        );
        if got != want {
            mismatches.push(format!(
                "{key:?}: got files={} S={} M={} ts={} up={:?} down={:?}; want {:?} up={up:?} down={down:?}",
                got.0,
                got.1,
                got.2,
                got.3,
                result.upstream.usage,
                result.downstream.usage,
                (&want.0, &want.1, &want.2, &want.3)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{} of 135 batches differ:\n{}", mismatches.len(), mismatches.join("\n"));
}
