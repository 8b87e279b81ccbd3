//! `maestro.Engine`: one store and one tokio runtime; every method releases the GIL while the
//! engine works.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use maestro_core::monitor::{DEFAULT_INTERVAL_SECS, DEFAULT_TIMEOUT_MS, Site};
use maestro_core::repository::{Change, DeadLetter, HistoryQuery, PageOf, PageRequest, ResourceFilter};
use maestro_core::{Kind, NoObserver, OutboxRelay, Pipeline, Repository, Resource, RunJob, RunReport, RunStatus};
use maestro_core::{OutboxStore, StorageError as CoreStorageError};
use maestro_providers::http_check::validate_site;
use maestro_providers::tix::{TixConfig, TixProcessor};
use maestro_server::config::{ConfigError as ServerConfigError, RunConfig};
use maestro_store::AnyStore;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::convert::{
    change_to_py, datetime_from_py, dead_letter_to_py, from_py, key_from_py, resource_to_py, run_report_to_py,
    ser_to_py, sink_status_to_py,
};
use crate::errors;
use crate::graph::Graph;
use crate::sites;

/// What a lazy page iterator reads.
enum Query {
    Resources(ResourceFilter),
    AsOf(ResourceFilter, DateTime<Utc>),
    History(HistoryQuery),
    Runs(String),
    DeadLetters(Option<String>),
}

/// One row of a page.
enum Row {
    Resource(Box<Resource>),
    Change(Box<Change>),
    Run(Box<RunReport>),
    Dead(Box<DeadLetter>),
}

async fn fetch(store: &dyn AnyStore, query: &Query, page: &PageRequest) -> Result<PageOf<Row>, CoreStorageError> {
    fn wrap<T>(p: PageOf<T>, f: fn(T) -> Row) -> PageOf<Row> {
        PageOf { items: p.items.into_iter().map(f).collect(), next: p.next }
    }
    Ok(match query {
        Query::Resources(f) => wrap(store.list_resources(f, page).await?, |r| Row::Resource(Box::new(r))),
        Query::AsOf(f, at) => wrap(store.inventory_as_of(f, *at, page).await?, |r| Row::Resource(Box::new(r))),
        Query::History(q) => wrap(store.history(q, page).await?, |c| Row::Change(Box::new(c))),
        Query::Runs(tenant) => wrap(store.list_runs(tenant, page).await?, |r| Row::Run(Box::new(r))),
        Query::DeadLetters(sink) => wrap(store.dead_letters(sink.as_deref(), page).await?, |d| Row::Dead(Box::new(d))),
    })
}

/// An iterator over a large result that reads one page at a time (releasing the GIL while it
/// reads). Rows are plain `dict`s.
#[pyclass(module = "maestro._maestro")]
pub struct PageIter {
    rt: Arc<Runtime>,
    store: Arc<dyn AnyStore>,
    query: Query,
    page: PageRequest,
    buffer: VecDeque<Row>,
    done: bool,
}

impl PageIter {
    fn new(engine: &Engine, query: Query, page_size: u32) -> PyResult<Self> {
        if page_size == 0 || page_size > 10_000 {
            return Err(PyValueError::new_err(format!("page_size must be 1..=10000, got {page_size}")));
        }
        Ok(Self {
            rt: engine.rt.clone(),
            store: engine.store.clone(),
            query,
            page: PageRequest::first(page_size),
            buffer: VecDeque::new(),
            done: false,
        })
    }
}

#[pymethods]
impl PageIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(mut slf: PyRefMut<'py, Self>, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let this = &mut *slf;
        while this.buffer.is_empty() && !this.done {
            let (rt, store, query, page) = (&this.rt, &this.store, &this.query, &this.page);
            let got = py.detach(|| rt.block_on(fetch(&**store, query, page))).map_err(errors::storage)?;
            match got.next {
                Some(n) => this.page.after = Some(n),
                None => this.done = true,
            }
            this.buffer.extend(got.items);
        }
        match this.buffer.pop_front() {
            None => Ok(None),
            Some(Row::Resource(r)) => resource_to_py(py, &r).map(Some),
            Some(Row::Change(c)) => change_to_py(py, &c).map(Some),
            Some(Row::Run(r)) => run_report_to_py(py, &r).map(Some),
            Some(Row::Dead(d)) => dead_letter_to_py(py, &d).map(Some),
        }
    }
}

/// The maestro engine bound to one database (`sqlite:///path.db`, `sqlite://relative.db`,
/// `sqlite::memory:` or `postgres://…`). Migrations run when it opens.
#[pyclass(module = "maestro._maestro", frozen)]
pub struct Engine {
    rt: Arc<Runtime>,
    store: Arc<dyn AnyStore>,
    url: String,
    tenant: String,
}

// `add_site`'s defaults (literals, so that `__text_signature__` and the stubs show them) are
// the Rust ones.
const _: () = assert!(DEFAULT_INTERVAL_SECS == 600 && DEFAULT_TIMEOUT_MS == 10_000);

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

fn path_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PathBuf> {
    obj.extract::<PathBuf>().map_err(|_| PyTypeError::new_err(format!("{what}: expected a str or os.PathLike path")))
}

impl Engine {
    fn tenant_or_default(&self, tenant: Option<String>) -> String {
        tenant.unwrap_or_else(|| self.tenant.clone())
    }

    fn block<T: Send, F: std::future::Future<Output = T> + Send>(&self, py: Python<'_>, fut: F) -> T {
        let rt = &self.rt;
        py.detach(|| rt.block_on(fut))
    }

    /// Run every source of a loaded config on this engine's store, then deliver the outbox to
    /// its publishers once.
    async fn run_loaded(
        store: Arc<dyn AnyStore>,
        cfg: RunConfig,
    ) -> Result<(Vec<RunReport>, Value), maestro_core::Error> {
        let mut reports = Vec::new();
        for source in &cfg.sources {
            let repo: Arc<dyn Repository> = store.clone();
            let job = RunJob {
                tenant: &cfg.tenant,
                connection: &source.connection,
                provider: source.provider.as_ref(),
                translator: source.translator.as_ref(),
            };
            reports.push(Pipeline::new(repo).with_config(cfg.pipeline.clone()).run_and_record(job, &NoObserver).await?);
        }
        let mut deliveries = Vec::new();
        for p in &cfg.publishers {
            let outbox: Arc<dyn OutboxStore> = store.clone();
            let relay = OutboxRelay::new(outbox, p.clone()).with_config(cfg.relay.clone());
            let pass = relay.drain().await?;
            relay.release().await?;
            let backlog =
                store.outbox_status().await?.into_iter().find(|s| s.sink == p.name()).map_or(0, |s| s.backlog);
            deliveries.push(json!({
                "sink": p.name(),
                "delivered": pass.delivered,
                "replayed": pass.replayed,
                "dead_lettered": pass.dead_lettered,
                "failing": pass.failed || pass.backing_off,
                "backlog": backlog,
            }));
        }
        Ok((reports, Value::Array(deliveries)))
    }

    fn load_config(&self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<RunConfig> {
        let (value, origin) = if config.is_instance_of::<PyDict>() {
            (from_py(config, "")?, None)
        } else {
            // The same steps as `RunConfig::load`, keeping the parsed value to see whether
            // the file names a database.
            let path = path_arg(config, "config")?;
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| {
                errors::ConfigError::new_err(ServerConfigError::Read { path: shown.clone(), source }.to_string())
            })?;
            let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
                errors::ConfigError::new_err(
                    ServerConfigError::Syntax { path: shown.clone(), message: e.to_string() }.to_string(),
                )
            })?;
            (value, Some(format!("config `{shown}`")))
        };
        let explicit_db = value.get("database").is_some();
        let cfg = RunConfig::from_value(&value).map_err(|e| errors::config_errors(py, &e, origin.as_deref()))?;
        self.check_database(py, &cfg.database, explicit_db, origin.as_deref())?;
        Ok(cfg)
    }

    /// A config may name this engine's database, or none; never another one.
    fn check_database(&self, py: Python<'_>, database: &str, explicit: bool, origin: Option<&str>) -> PyResult<()> {
        if explicit && database != self.url {
            let path = origin.map_or_else(|| "database".to_string(), |o| format!("{o}: database"));
            return Err(errors::config_error(
                py,
                &path,
                format!(
                    "this Engine is bound to {}; remove `database` from the config or open an Engine on that database",
                    redact(&self.url)
                ),
            ));
        }
        Ok(())
    }

    fn failed_run(py: Python<'_>, reports: &[RunReport], result: Bound<'_, PyAny>) -> PyErr {
        let failed: Vec<String> = reports
            .iter()
            .filter(|r| r.status == RunStatus::Failed)
            .map(|r| {
                let why = r.error.clone().or_else(|| r.scopes.iter().find_map(|s| s.error.clone())).unwrap_or_default();
                format!("run {} ({} / {}) failed: {why}", r.run_id, r.provider, r.connection)
            })
            .collect();
        let err = errors::ProviderError::new_err(failed.join("; "));
        let _ = err.value(py).setattr("result", result);
        err
    }
}

#[pymethods]
impl Engine {
    /// Open the database (running migrations) and start the engine's runtime.
    #[new]
    #[pyo3(signature = (database_url, tenant = "default", worker_threads = 2))]
    fn new(py: Python<'_>, database_url: String, tenant: &str, worker_threads: usize) -> PyResult<Self> {
        if tenant.trim().is_empty() {
            return Err(errors::config_error(py, "tenant", "must be a non-empty string"));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .thread_name("maestro")
            .enable_all()
            .build()
            .map_err(|e| errors::MaestroError::new_err(format!("cannot start the engine's runtime: {e}")))?;
        let store = py.detach(|| rt.block_on(maestro_store::open(&database_url))).map_err(errors::storage)?;
        Ok(Self { rt: Arc::new(rt), store, url: database_url, tenant: tenant.to_string() })
    }

    fn __repr__(&self) -> String {
        format!("Engine(database_url={:?}, tenant={:?})", redact(&self.url), self.tenant).replace('"', "'")
    }

    /// The database URL (password redacted).
    #[getter]
    fn database_url(&self) -> String {
        redact(&self.url)
    }

    /// The tenant used when a method's `tenant` is omitted.
    #[getter]
    fn tenant(&self) -> String {
        self.tenant.clone()
    }

    /// Run a `maestro run` configuration (a dict, or the path of a YAML/JSON file): every source
    /// through the pipeline, then the outbox to every publisher once.
    #[pyo3(signature = (config, check = true))]
    fn run<'py>(&self, py: Python<'py>, config: &Bound<'py, PyAny>, check: bool) -> PyResult<Bound<'py, PyDict>> {
        let cfg = self.load_config(py, config)?;
        let store = self.store.clone();
        let (reports, deliveries) = self.block(py, Self::run_loaded(store, cfg)).map_err(|e| errors::core(py, e))?;
        let out = PyDict::new(py);
        let runs = PyList::empty(py);
        for r in &reports {
            runs.append(run_report_to_py(py, r)?)?;
        }
        out.set_item("runs", runs)?;
        out.set_item("deliveries", crate::convert::to_py(py, &deliveries)?)?;
        if check && reports.iter().any(|r| r.status == RunStatus::Failed) {
            return Err(Self::failed_run(py, &reports, out.into_any()));
        }
        Ok(out)
    }

    /// Import one inventory file (`.json`, `.yaml`, `.yml`) with the `file` provider; returns
    /// the run report. A run that fails (unreadable or malformed file) raises `ProviderError`
    /// (with the report as `.result`) unless `check=False`.
    #[pyo3(signature = (path, tenant = None, connection = "files", entity = None, check = true))]
    fn import_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        tenant: Option<String>,
        connection: &str,
        entity: Option<String>,
        check: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let path = path_arg(path, "path")?;
        let Some(path) = path.to_str() else {
            return Err(PyValueError::new_err(format!("path `{}` is not valid UTF-8", path.display())));
        };
        let mut source = json!({"type": "file", "connection": connection, "paths": [path]});
        if let Some(e) = entity {
            source["entity"] = json!(e);
        }
        let tenant = self.tenant_or_default(tenant);
        let cfg = RunConfig::from_value(&json!({"tenant": tenant, "database": self.url, "sources": [source]}))
            .map_err(|e| errors::config_errors(py, &e, None))?;
        let (reports, _) =
            self.block(py, Self::run_loaded(self.store.clone(), cfg)).map_err(|e| errors::core(py, e))?;
        let report = reports.into_iter().next().ok_or_else(|| errors::MaestroError::new_err("no run was made"))?;
        let out = run_report_to_py(py, &report)?;
        if check && report.status == RunStatus::Failed {
            return Err(Self::failed_run(py, std::slice::from_ref(&report), out.into_any()));
        }
        Ok(out)
    }

    /// Resources of a tenant, read lazily one page at a time.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (kind = None, active = None, tenant = None, connection = None, text = None, scope = None, tag = None, page_size = 500))]
    fn resources(
        &self,
        kind: Option<String>,
        active: Option<bool>,
        tenant: Option<String>,
        connection: Option<String>,
        text: Option<String>,
        scope: Option<String>,
        tag: Option<(String, Option<String>)>,
        page_size: u32,
    ) -> PyResult<PageIter> {
        let filter = ResourceFilter {
            tenant: self.tenant_or_default(tenant),
            connection,
            kind: kind.map(Kind::new),
            active,
            tag,
            text,
            scope,
        };
        PageIter::new(self, Query::Resources(filter), page_size)
    }

    /// One resource by key (a dict with tenant/connection/kind/native_id — a resource dict
    /// works — or a `"tenant/connection/kind/native_id"` string), or `None`.
    fn resource<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let key = key_from_py(key)?;
        let store = self.store.clone();
        let found = self.block(py, async move { store.get_resource(&key).await }).map_err(errors::storage)?;
        found.map(|r| resource_to_py(py, &r)).transpose()
    }

    /// The changes of one resource, oldest first, read lazily.
    #[pyo3(signature = (key, since = None, until = None, page_size = 500))]
    fn history(
        &self,
        key: &Bound<'_, PyAny>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        page_size: u32,
    ) -> PyResult<PageIter> {
        let key = key_from_py(key)?;
        let q = HistoryQuery {
            tenant: key.tenant.clone(),
            key: Some(key),
            since: since.map(|s| datetime_from_py(s, "since")).transpose()?,
            until: until.map(|u| datetime_from_py(u, "until")).transpose()?,
        };
        PageIter::new(self, Query::History(q), page_size)
    }

    /// The inventory as it was at `when` (a timezone-aware datetime), read lazily.
    #[pyo3(signature = (tenant, when, kind = None, active = None, page_size = 500))]
    fn inventory_as_of(
        &self,
        tenant: Option<String>,
        when: &Bound<'_, PyAny>,
        kind: Option<String>,
        active: Option<bool>,
        page_size: u32,
    ) -> PyResult<PageIter> {
        let at = datetime_from_py(when, "when")?;
        let filter = ResourceFilter {
            kind: kind.map(Kind::new),
            active,
            ..ResourceFilter::tenant(self.tenant_or_default(tenant))
        };
        PageIter::new(self, Query::AsOf(filter, at), page_size)
    }

    /// Merge user-owned fields into a resource (`None` removes a field); syncs never touch them.
    fn set_user_fields(&self, py: Python<'_>, key: &Bound<'_, PyAny>, fields: &Bound<'_, PyDict>) -> PyResult<()> {
        let key = key_from_py(key)?;
        let Value::Object(map) = from_py(fields.as_any(), "fields")? else {
            return Err(PyTypeError::new_err("fields: expected a dict"));
        };
        let store = self.store.clone();
        self.block(py, async move { store.set_user_fields(&key, map).await }).map_err(errors::storage)
    }

    /// Run reports of a tenant, newest first, read lazily.
    #[pyo3(signature = (tenant = None, page_size = 100))]
    fn runs(&self, tenant: Option<String>, page_size: u32) -> PyResult<PageIter> {
        PageIter::new(self, Query::Runs(self.tenant_or_default(tenant)), page_size)
    }

    /// One run report by id, or `None`.
    fn run_report<'py>(&self, py: Python<'py>, run_id: &str) -> PyResult<Option<Bound<'py, PyDict>>> {
        let id = uuid::Uuid::parse_str(run_id)
            .map_err(|e| PyValueError::new_err(format!("run_id `{run_id}` is not a UUID: {e}")))?;
        let store = self.store.clone();
        let found = self.block(py, async move { store.get_run(id).await }).map_err(errors::storage)?;
        found.map(|r| run_report_to_py(py, &r)).transpose()
    }

    /// Backlog, delivered and dead counts per sink.
    fn outbox_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let store = self.store.clone();
        let status = self.block(py, async move { store.outbox_status().await }).map_err(errors::storage)?;
        let out = PyList::empty(py);
        for s in &status {
            out.append(sink_status_to_py(py, s)?)?;
        }
        Ok(out)
    }

    /// Dead letters (of one sink, or of all), oldest first, read lazily.
    #[pyo3(signature = (sink = None, page_size = 500))]
    fn dead_letters(&self, sink: Option<String>, page_size: u32) -> PyResult<PageIter> {
        PageIter::new(self, Query::DeadLetters(sink), page_size)
    }

    /// Ask for a dead letter to be delivered again by its sink's next relay pass.
    fn replay_dead_letter(&self, py: Python<'_>, id: i64) -> PyResult<()> {
        let store = self.store.clone();
        self.block(py, async move { store.request_replay(id).await }).map_err(errors::storage)
    }

    /// Build a graph of the tenant's stored inventory: `kind` is `"business"` (applications
    /// and dependencies, from `apps`, `systems` or `clients` entries) or `"infra"`.
    #[pyo3(signature = (tenant = None, apps = Vec::new(), systems = Vec::new(), clients = Vec::new(), kind = "business"))]
    fn graph(
        &self,
        py: Python<'_>,
        tenant: Option<String>,
        apps: Vec<String>,
        systems: Vec<String>,
        clients: Vec<String>,
        kind: &str,
    ) -> PyResult<Graph> {
        let kind: maestro_graph::GraphKind = serde_json::from_value(json!(kind)).map_err(|_| {
            errors::config_error(py, "kind", format!("unknown graph kind `{kind}`; known: business, infra"))
        })?;
        let tenant = self.tenant_or_default(tenant);
        let store = self.store.clone();
        let def = maestro_graph::GraphDefinition {
            id: "py".into(),
            name: "maestro graph".into(),
            kind,
            clients,
            systems,
            apps,
        };
        let rt = &self.rt;
        let built = py.detach(|| {
            let inv = rt
                .block_on(maestro_server::graph::load_inventory(&*store, &tenant))
                .map_err(|e| format!("loading the inventory of tenant `{tenant}`: {e:#}"))?;
            Ok::<_, String>(maestro_graph::build_graph(&inv, &def))
        });
        let job = built.map_err(errors::StorageError::new_err)?;
        Graph::from_job(job)
    }

    /// Run the TiX processor once over every installation below `config["base_path"]`,
    /// recording `tix.result` events in this engine's outbox. `config` uses the fields of the
    /// Rust `TixConfig` (base_path, tenant, selection, analysis, usage, dropped_files, …).
    fn process_tix<'py>(&self, py: Python<'py>, config: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let processor = tix_processor(py, config)?;
        let store = self.store.clone();
        let report = self
            .block(py, async move { processor.process_all(&*store).await })
            .map_err(|e| errors::tix_process(py, e))?;
        ser_to_py(py, &report)
    }

    /// Process one installation `{base_path}/{user}/{installation}` under its lease.
    fn process_tix_installation<'py>(
        &self,
        py: Python<'py>,
        user: String,
        installation: String,
        config: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let processor = tix_processor(py, config)?;
        let store = self.store.clone();
        let report = self.block(py, async move { processor.process_installation(&*store, &user, &installation).await });
        ser_to_py(py, &report)
    }

    /// Analyse one directory of TiX report files (see the module-level `analyse_tix_batch`).
    #[pyo3(signature = (path, selection = true))]
    fn analyse_tix_batch<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        selection: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        crate::tix::analyse_tix_batch(py, path, selection)
    }

    /// Add a site to monitor (validated first, like `maestro sites add`); returns the stored
    /// site with its id. An invalid URL, regexp, condition, method or header raises
    /// `ConfigError` listing every problem (`regexp`, `conditions[1]`, …).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (url, regexp = None, conditions = None, interval_secs = 600, timeout_secs = 10.0, method = "GET", headers = None, tenant = None))]
    fn add_site<'py>(
        &self,
        py: Python<'py>,
        url: String,
        regexp: Option<String>,
        conditions: Option<Vec<String>>,
        interval_secs: u64,
        timeout_secs: f64,
        method: &str,
        headers: Option<BTreeMap<String, String>>,
        tenant: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        if !(timeout_secs.is_finite() && timeout_secs > 0.0 && timeout_secs <= 600.0) {
            return Err(errors::config_error(
                py,
                "timeout_secs",
                format!("must be > 0 and <= 600, got {timeout_secs}"),
            ));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let timeout_ms = ((timeout_secs * 1000.0).round() as u64).max(1);
        let site = Site {
            regexp,
            conditions: conditions.unwrap_or_default(),
            interval_secs,
            timeout_ms,
            method: method.to_string(),
            headers: headers.unwrap_or_default(),
            ..Site::new(self.tenant_or_default(tenant), url)
        };
        if let Err(problems) = validate_site(&site) {
            return Err(errors::config_errors(py, &problems, None));
        }
        let store = self.store.clone();
        let created = self.block(py, async move { store.create_site(&site).await }).map_err(errors::storage)?;
        sites::site_to_py(py, &created)
    }

    /// Every site of a tenant (enabled or not), by id.
    #[pyo3(signature = (tenant = None))]
    fn sites<'py>(&self, py: Python<'py>, tenant: Option<String>) -> PyResult<Bound<'py, PyList>> {
        let tenant = self.tenant_or_default(tenant);
        let store = self.store.clone();
        let found =
            self.block(py, async move { sites::all_sites(&*store, &tenant, false).await }).map_err(errors::storage)?;
        let out = PyList::empty(py);
        for s in &found {
            out.append(sites::site_to_py(py, s)?)?;
        }
        Ok(out)
    }

    /// Check every enabled site of a tenant now (like `maestro check`): results and their
    /// `site.check` outbox events are stored together. Returns `{"checked", "failed", "stored",
    /// "duplicates", "results": [check result…] by site id, "invalid": [sites not checked]}`.
    #[pyo3(signature = (tenant = None, concurrency = 64))]
    fn check_sites<'py>(
        &self,
        py: Python<'py>,
        tenant: Option<String>,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let tenant = self.tenant_or_default(tenant);
        let store = self.store.clone();
        let run =
            self.block(py, sites::check_all(store, tenant, concurrency)).map_err(|e| sites::check_error(py, e))?;
        sites::check_run_to_py(py, &run)
    }

    /// The stored check results of one site, newest first (at most `limit`, 1..=10000).
    #[pyo3(signature = (site_id, tenant = None, limit = 50))]
    fn site_checks<'py>(
        &self,
        py: Python<'py>,
        site_id: i64,
        tenant: Option<String>,
        limit: u32,
    ) -> PyResult<Bound<'py, PyList>> {
        if limit == 0 || limit > 10_000 {
            return Err(PyValueError::new_err(format!("limit must be 1..=10000, got {limit}")));
        }
        let tenant = self.tenant_or_default(tenant);
        let store = self.store.clone();
        let found = self
            .block(py, async move { sites::checks_of(&*store, tenant, site_id, limit).await })
            .map_err(errors::storage)?;
        let out = PyList::empty(py);
        for r in &found {
            out.append(sites::check_result_to_py(py, r)?)?;
        }
        Ok(out)
    }
}

fn tix_processor(py: Python<'_>, config: &Bound<'_, PyDict>) -> PyResult<TixProcessor> {
    let value = from_py(config.as_any(), "")?;
    let mut problems = maestro_core::ConfigErrors::new();
    let parsed: Option<TixConfig> = maestro_providers::util::parse_config(&value, "tix", &mut problems);
    let Some(cfg) = parsed else { return Err(errors::config_errors(py, &problems, None)) };
    TixProcessor::new(cfg).map_err(|e| errors::tix_process(py, e))
}
