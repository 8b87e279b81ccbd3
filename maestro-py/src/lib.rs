//! Python bindings for maestro (module `maestro._maestro`). A thin translation layer: no logic
//! of its own. This first version exposes the version and the change-detection checksum; the
//! engine API grows here as the Python issue is worked on.

use pyo3::prelude::*;

/// The checksum maestro stores for a raw provider item (SHA-256 of canonical JSON minus
/// `volatile` keys, salted with the translator `version`), as 64 hex characters.
#[pyfunction]
#[pyo3(signature = (raw_json, volatile = Vec::new(), version = "1"))]
fn checksum(raw_json: &str, volatile: Vec<String>, version: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(raw_json)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("raw_json is not valid JSON: {e}")))?;
    let vol: Vec<&str> = volatile.iter().map(String::as_str).collect();
    Ok(maestro_core::checksum::checksum_of(&value, &vol, version).to_hex())
}

/// The `maestro._maestro` extension module.
#[pymodule]
fn _maestro(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(checksum, m)?)?;
    Ok(())
}
