//! Site checks for `maestro.Engine`: the same steps as `maestro sites add|list` and `maestro
//! check` (validation with `validate_site`, the `Checker`, results and `site.check` events
//! written together by the store). Conversion only: the logic is in `maestro_providers`.

use std::sync::Arc;

use maestro_core::PageRequest;
use maestro_core::monitor::{CheckQuery, CheckResult, Site};
use maestro_providers::http_check::{CheckError, Checker, CheckerConfig, RunSummary, validate_site};
use maestro_store::AnyStore;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::ser_to_py;
use crate::errors;

/// The sites of `tenant` (only the enabled ones with `enabled_only`), by id.
pub async fn all_sites(
    store: &dyn AnyStore,
    tenant: &str,
    enabled_only: bool,
) -> Result<Vec<Site>, maestro_core::StorageError> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_sites(tenant, enabled_only, &page).await?;
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// What `check_sites` did: the checker's summary and the enabled sites that failed validation
/// (not checked, like the CLI's warnings).
pub struct CheckRun {
    /// The checker's summary (results sorted by site id).
    pub summary: RunSummary,
    /// Enabled sites that failed validation: id, URL, problems.
    pub invalid: Vec<(i64, String, maestro_core::ConfigErrors)>,
}

/// Errors of a check run.
pub enum CheckRunError {
    /// Listing the sites failed.
    Storage(maestro_core::StorageError),
    /// The checker could not be built or could not store results.
    Check(CheckError),
}

/// Check every enabled site of `tenant` once and store the results with their events (as
/// `maestro check` does, without a sites file).
pub async fn check_all(
    store: Arc<dyn AnyStore>,
    tenant: String,
    concurrency: usize,
) -> Result<CheckRun, CheckRunError> {
    let checker =
        Checker::new(CheckerConfig { concurrency, ..CheckerConfig::default() }).map_err(CheckRunError::Check)?;
    let mut compiled = Vec::new();
    let mut invalid = Vec::new();
    for s in all_sites(&*store, &tenant, true).await.map_err(CheckRunError::Storage)? {
        match validate_site(&s) {
            Ok(c) => compiled.push(c),
            Err(e) => invalid.push((s.id, s.url.clone(), e)),
        }
    }
    let mut summary = if compiled.is_empty() {
        RunSummary::default()
    } else {
        let inventory: Option<&dyn maestro_core::Repository> = Some(&*store);
        checker.run(compiled, &*store, inventory).await.map_err(CheckRunError::Check)?
    };
    summary.results.sort_by_key(|r| r.site_id);
    Ok(CheckRun { summary, invalid })
}

/// The newest `limit` results of one site (newest first).
pub async fn checks_of(
    store: &dyn AnyStore,
    tenant: String,
    site_id: i64,
    limit: u32,
) -> Result<Vec<CheckResult>, maestro_core::StorageError> {
    let query = CheckQuery { tenant, site_id: Some(site_id), newest_first: true, ..CheckQuery::default() };
    Ok(store.list_checks(&query, &PageRequest::first(limit)).await?.items)
}

/// Map a check run's error onto the exception hierarchy.
pub fn check_error(py: Python<'_>, e: CheckRunError) -> PyErr {
    match e {
        CheckRunError::Storage(s) => errors::storage(s),
        CheckRunError::Check(CheckError::Storage(s)) => errors::storage(s),
        CheckRunError::Check(CheckError::Config(c)) => errors::config_errors(py, &c, None),
        CheckRunError::Check(other) => errors::MaestroError::new_err(other.to_string()),
    }
}

/// A site as a `dict` (the Rust field names: `timeout_ms`, `interval_secs`, …).
pub fn site_to_py<'py>(py: Python<'py>, s: &Site) -> PyResult<Bound<'py, PyDict>> {
    Ok(ser_to_py(py, s)?.cast_into::<PyDict>()?)
}

/// A check result as a `dict` (`checked_at` and `cert_expires_at` as UTC datetimes).
pub fn check_result_to_py<'py>(py: Python<'py>, r: &CheckResult) -> PyResult<Bound<'py, PyDict>> {
    let d = ser_to_py(py, r)?.cast_into::<PyDict>()?;
    d.set_item("checked_at", r.checked_at)?;
    d.set_item("cert_expires_at", r.cert_expires_at)?;
    Ok(d)
}

/// The summary dict of a check run.
pub fn check_run_to_py<'py>(py: Python<'py>, run: &CheckRun) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("checked", run.summary.checked)?;
    out.set_item("failed", run.summary.failed)?;
    out.set_item("stored", run.summary.stored)?;
    out.set_item("duplicates", run.summary.duplicates)?;
    let results = PyList::empty(py);
    for r in &run.summary.results {
        results.append(check_result_to_py(py, r)?)?;
    }
    out.set_item("results", results)?;
    let invalid = PyList::empty(py);
    for (id, url, problems) in &run.invalid {
        let x = PyDict::new(py);
        x.set_item("site_id", id)?;
        x.set_item("url", url)?;
        x.set_item("problems", PyList::new(py, problems.problems.iter().map(|(p, m)| (p.as_str(), m.as_str())))?)?;
        invalid.append(x)?;
    }
    out.set_item("invalid", invalid)?;
    Ok(out)
}
