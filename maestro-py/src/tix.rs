//! TiX measurement analysis of one directory of report files (no database needed).

use std::path::PathBuf;

use maestro_tix::{AnalysisConfig, Installation, ReportBody, SelectionConfig, TixError, analyse_with};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

use crate::convert::to_py;
use crate::errors;

fn analysed(batch: &maestro_tix::Batch, config: &AnalysisConfig) -> Value {
    let key = batch.idempotency_key();
    match analyse_with(batch, config) {
        Ok(r) => json!({"key": key, "ok": true, "body": ReportBody::from((&r, batch))}),
        Err(e) => json!({"key": key, "ok": false, "error": e.to_string()}),
    }
}

fn run(dir: &PathBuf, selection: bool) -> Result<Value, TixError> {
    let inst = Installation::open(dir)?;
    let analysis = AnalysisConfig::default();
    let selections: Vec<Value> = if selection {
        inst.select_batches(&SelectionConfig::default()).map(|s| analysed(&s.batch, &analysis)).collect()
    } else {
        Vec::new()
    };
    let batch = inst.as_single_batch().map(|b| analysed(&b, &analysis));
    let rejected: Vec<Value> = inst
        .rejected()
        .iter()
        .map(|r| json!({"file": r.path.display().to_string(), "error": r.error.to_string()}))
        .collect();
    Ok(json!({
        "path": dir.display().to_string(),
        "files": inst.reports().len(),
        "rejected": rejected,
        "batch": batch,
        "selections": selections,
    }))
}

/// Analyse a directory of TiX report files (no database): the whole directory as one batch
/// (`batch`: `{key, ok, body | error}`, `body` being the results-API body), and, when
/// `selection` is true, every batch the reference selection loop picks (`selections`).
/// Files that do not parse are listed in `rejected`. Raises `ProviderError` when the directory
/// cannot be read.
pub fn analyse_tix_batch<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyAny>,
    selection: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let dir: PathBuf = path.extract().map_err(|_| PyTypeError::new_err("path: expected a str or os.PathLike path"))?;
    let value = py.detach(|| run(&dir, selection)).map_err(errors::tix)?;
    Ok(to_py(py, &value)?.cast_into::<PyDict>()?)
}

/// Module-level `analyse_tix_batch(path, selection=True)`.
#[pyfunction(name = "analyse_tix_batch")]
#[pyo3(signature = (path, selection = true))]
pub fn analyse_tix_batch_fn<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyAny>,
    selection: bool,
) -> PyResult<Bound<'py, PyDict>> {
    analyse_tix_batch(py, path, selection)
}
