//! Run with: cargo run --release -p maestro-tix --example bench_batches
//!
//! Analyses all 340 archived batches of `tests/data/batches/` end to end — parse the report
//! files, run the batch selection over each batch directory, analyse the selected batches and the
//! directory as the archived batch — and prints the total and per-batch times. Extracting the
//! archives (into a temporary directory) is timed separately and not part of the total.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use maestro_tix::{AnalysisConfig, Installation, SelectionConfig, analyse};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const ARCHIVES: [&str; 10] = [
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

fn extract(archive: &Path, into: &Path) -> Result<()> {
    let bytes = std::fs::read(archive)?;
    let reader: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    tar::Archive::new(reader).unpack(into)?;
    Ok(())
}

/// Directories named by a Unix second that hold report files.
fn batch_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut has_json = false;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else if entry.path().extension().is_some_and(|e| e == "json") {
                has_json = true;
            }
        }
        let numeric = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if has_json && numeric && dir != root {
            out.push(dir);
        }
    }
    out.sort();
    Ok(out)
}

fn main() -> Result<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join("batches");
    let tmp = tempfile::tempdir()?;
    let t = Instant::now();
    let mut dirs = Vec::new();
    for a in ARCHIVES {
        let into = tmp.path().join(a);
        extract(&data.join(format!("{a}.tar.gz")), &into)?;
        dirs.extend(batch_dirs(&into)?);
    }
    let extract_time = t.elapsed();

    let (sel_cfg, an_cfg) = (SelectionConfig::default(), AnalysisConfig::default());
    let (mut parse, mut select, mut analysis) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut ok, mut err, mut selected, mut files) = (0, 0, 0, 0);
    let mut per_batch = Vec::with_capacity(dirs.len());
    let total = Instant::now();
    for dir in &dirs {
        let t0 = Instant::now();
        let inst = Installation::open(dir)?;
        files += inst.reports().len();
        let t1 = Instant::now();
        let selections: Vec<_> = inst.select_batches(&sel_cfg).collect();
        let t2 = Instant::now();
        for s in &selections {
            let _ = maestro_tix::analyse_with(&s.batch, &an_cfg);
        }
        selected += selections.len();
        match inst.as_single_batch().map(|b| analyse(&b)) {
            Some(Ok(_)) => ok += 1,
            _ => err += 1,
        }
        let t3 = Instant::now();
        parse += t1 - t0;
        select += t2 - t1;
        analysis += t3 - t2;
        per_batch.push(t3 - t0);
    }
    let total = total.elapsed();
    per_batch.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "batches: {} directories, {files} report files (extraction {:.0} ms, not counted)",
        dirs.len(),
        ms(extract_time)
    );
    println!("archived batches analysed: {ok} ok, {err} errors; selection loop: {selected} batches analysed");
    println!(
        "total: {:.1} ms  (parse {:.1} ms, select {:.1} ms, analyse {:.1} ms)",
        ms(total),
        ms(parse),
        ms(select),
        ms(analysis)
    );
    println!(
        "per batch: mean {:.2} ms, median {:.2} ms, min {:.2} ms, max {:.2} ms",
        ms(total) / dirs.len() as f64,
        ms(per_batch[per_batch.len() / 2]),
        ms(per_batch[0]),
        ms(per_batch[per_batch.len() - 1])
    );
    Ok(())
}
