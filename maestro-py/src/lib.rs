//! Python bindings for maestro: the `maestro._maestro` extension module of the `maestro` wheel.
//!
//! A translation layer only — every capability lives in the Rust crates; this crate converts
//! arguments and results to plain Python values (dict, list, str, int, float, bool, None,
//! timezone-aware datetime), maps errors onto one exception hierarchy, and releases the GIL
//! around every call that does I/O or computation.
//!
//! - [`engine::Engine`]: one database (SQLite or PostgreSQL) and one tokio runtime: runs, file
//!   imports, resources and history (lazy iterators), runs and outbox status, graphs, the TiX
//!   processor, site checks ([`sites`]).
//! - [`graph::Graph`]: SVG, GraphML and JSON of a drawn graph.
//! - [`tix::analyse_tix_batch`]: analyse one directory of TiX report files.
//! - [`errors`]: `MaestroError` and `ConfigError`, `ProviderError`, `StorageError`,
//!   `PublishError`.
//!
//! Build the wheel with `maturin build --release` in `maestro-py/` (feature `extension-module`
//! is set by `pyproject.toml`; without it the crate links libpython, so `cargo build
//! --workspace` and `cargo test --workspace` work). Tests are in `maestro-py/tests/` (pytest).

pub mod convert;
pub mod engine;
pub mod errors;
pub mod graph;
pub mod sites;
pub mod tix;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The checksum maestro stores for a raw provider item (SHA-256 of canonical JSON minus
/// `volatile` keys, salted with the translator `version`), as 64 hex characters.
#[pyfunction]
#[pyo3(signature = (raw_json, volatile = Vec::new(), version = "1"))]
fn checksum(raw_json: &str, volatile: Vec<String>, version: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(raw_json)
        .map_err(|e| PyValueError::new_err(format!("raw_json is not valid JSON: {e}")))?;
    let vol: Vec<&str> = volatile.iter().map(String::as_str).collect();
    Ok(maestro_core::checksum::checksum_of(&value, &vol, version).to_hex())
}

/// The `maestro._maestro` extension module.
#[pymodule]
fn _maestro(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(checksum, m)?)?;
    m.add_function(wrap_pyfunction!(tix::analyse_tix_batch_fn, m)?)?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::PageIter>()?;
    m.add_class::<graph::Graph>()?;
    errors::register(m)?;
    Ok(())
}
