//! Shared helpers of the acceptance tests: test data lives in `tests/data/` (copied from the
//! reference material) and archives are extracted into a temporary directory.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// `tests/data` of this crate.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data")
}

/// Extracts `tests/data/<rel>` (gzip-compressed or plain tar, whatever the name says) into a
/// fresh temporary directory.
pub fn extract(rel: &str) -> tempfile::TempDir {
    let path = data_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let dir = tempfile::tempdir().expect("tempdir");
    let reader: Box<dyn Read> =
        if bytes.starts_with(&[0x1f, 0x8b]) { Box::new(GzDecoder::new(&bytes[..])) } else { Box::new(&bytes[..]) };
    tar::Archive::new(reader).unpack(dir.path()).unwrap_or_else(|e| panic!("cannot extract {}: {e}", path.display()));
    dir
}

/// The ten batch archives of `tests/data/batches`, by stem (`batch-test-reports-2b`).
pub const BATCH_ARCHIVES: [&str; 10] = [
    "batch-test-report-1b",
    "batch-test-reports-2b",
    "batch-test-reports-3b",
    "batch-test-reports-4b",
    "batch-test-reports-5b",
    "batch-test-reports-6b",
    "batch-test-reports-7",
    "batch-test-reports-8",
    "batch-test-reports-9",
    "batch-test-reports-10",
];

/// Batch directories below `root`: directories named by a Unix second that hold report files.
pub fn batch_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut has_json = false;
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let p = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                has_json = true;
            }
        }
        let numeric = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if has_json && numeric && dir != root {
            out.push(dir);
        }
    }
    out.sort();
    out
}

/// Rows of a TSV file with a header line, as `header -> value` maps in file order.
pub fn read_tsv(rel: &str) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(data_dir().join(rel)).expect("tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| header.iter().map(|h| h.to_string()).zip(l.split('\t').map(str::to_owned)).collect())
        .collect()
}

/// Parses a Python `repr` float (shortest round-trip form) into the same `f64`.
pub fn py_float(s: &str) -> f64 {
    s.parse().unwrap_or_else(|e| panic!("bad float {s:?}: {e}"))
}
