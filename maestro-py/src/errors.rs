//! One exception hierarchy: `MaestroError` and a subclass per kind of failure, each raised with
//! the Rust error's own message.

use maestro_core::ConfigErrors;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;

create_exception!(maestro, MaestroError, PyException, "Base class of every error raised by maestro.");
create_exception!(
    maestro,
    ConfigError,
    MaestroError,
    "A configuration is invalid. `problems` lists every `(field path, message)` pair."
);
create_exception!(
    maestro,
    ProviderError,
    MaestroError,
    "A provider (or an input file) failed: the source could not be read or a run failed."
);
create_exception!(maestro, StorageError, MaestroError, "The database failed or the request to it was invalid.");
create_exception!(maestro, PublishError, MaestroError, "Delivering events to a sink failed.");

/// `ConfigError` carrying every problem of `errors` as `problems`.
pub fn config_errors(py: Python<'_>, errors: &ConfigErrors, context: Option<&str>) -> PyErr {
    let message = match context {
        Some(c) => format!("{c}: {errors}"),
        None => errors.to_string(),
    };
    let err = ConfigError::new_err(message.trim_end().to_string());
    if let Ok(problems) = PyList::new(py, errors.problems.iter().map(|(p, m)| (p.as_str(), m.as_str()))) {
        // Setting an attribute on a fresh exception object cannot fail in practice.
        let _ = err.value(py).setattr("problems", problems);
    }
    err
}

/// A `ConfigError` with a single problem at `path`.
pub fn config_error(py: Python<'_>, path: &str, message: impl Into<String>) -> PyErr {
    let mut errors = ConfigErrors::new();
    errors.push(path, message);
    config_errors(py, &errors, None)
}

/// `StorageError` from the store's error.
pub fn storage(e: maestro_core::StorageError) -> PyErr {
    StorageError::new_err(e.to_string())
}

/// `PublishError` from a publisher's error.
pub fn publish(e: maestro_core::PublishError) -> PyErr {
    PublishError::new_err(e.to_string())
}

/// Map a top-level maestro error to its exception class.
pub fn core(py: Python<'_>, e: maestro_core::Error) -> PyErr {
    match e {
        maestro_core::Error::Storage(s) => storage(s),
        maestro_core::Error::Publish(p) => publish(p),
        maestro_core::Error::Config(c) => config_errors(py, &c, None),
        other => ProviderError::new_err(other.to_string()),
    }
}

/// Map the TiX processor's error.
pub fn tix_process(py: Python<'_>, e: maestro_providers::tix::TixProcessError) -> PyErr {
    match e {
        maestro_providers::tix::TixProcessError::Config(c) => config_errors(py, &c, Some("tix config")),
        other => ProviderError::new_err(other.to_string()),
    }
}

/// Map a TiX analysis error (unreadable report file, degenerate batch).
pub fn tix(e: maestro_tix::TixError) -> PyErr {
    ProviderError::new_err(e.to_string())
}

/// Register the exception classes in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MaestroError", py.get_type::<MaestroError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("ProviderError", py.get_type::<ProviderError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    m.add("PublishError", py.get_type::<PublishError>())?;
    Ok(())
}
