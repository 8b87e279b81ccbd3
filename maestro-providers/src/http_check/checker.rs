//! The checker: many sites, bounded concurrency, batched atomic writes; inventory targets, the
//! dependency view and the scheduler job.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use maestro_core::monitor::{
    AffectedResource, CheckResult, ConditionResult, ENDPOINT_ATTRIBUTES, Site, SiteStore, check_event,
    is_endpoint_kind, truncate_micros,
};
use maestro_core::scheduler::{JobContext, JobError, JobHandler};
use maestro_core::{ConfigErrors, Kind, PageRequest, Repository, ResourceFilter, ResourceKey};
use serde::Deserialize;

use super::client::HttpClient;
use super::conditions::Observation;
use super::config::CheckerConfig;
use super::{CheckError, CompiledSite, validate_site};

/// Job kind of [`SiteCheckJob`].
pub const SITE_CHECK_JOB: &str = "site.check";

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Sites checked.
    pub checked: u64,
    /// Checks that failed.
    pub failed: u64,
    /// Results newly stored.
    pub stored: u64,
    /// Results already stored (nothing written).
    pub duplicates: u64,
    /// Every result, in completion order (one per site checked).
    pub results: Vec<CheckResult>,
}

/// Checks sites: at most `concurrency` requests in flight, each bounded by its site's timeout,
/// results written `batch_size` at a time with their events.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn maestro_core::monitor::SiteStore>) -> Result<(), maestro_providers::http_check::CheckError> {
/// use maestro_providers::http_check::{Checker, CheckerConfig, validate_site};
/// let site = validate_site(&maestro_core::monitor::Site { id: 1, ..maestro_core::monitor::Site::new("acme", "https://example.com") })?;
/// let checker = Checker::new(CheckerConfig::default())?;
/// let summary = checker.run(vec![site], &*store, None).await?;
/// println!("{} checked, {} failed", summary.checked, summary.failed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Checker {
    client: HttpClient,
    config: CheckerConfig,
}

impl Checker {
    /// A checker with `config`.
    ///
    /// # Errors
    /// An invalid configuration (zero concurrency or batch size, bad extra root certificate).
    pub fn new(config: CheckerConfig) -> Result<Self, CheckError> {
        let mut errors = ConfigErrors::new();
        if config.concurrency == 0 {
            errors.push("concurrency", "must be at least 1");
        }
        if config.batch_size == 0 {
            errors.push("batch_size", "must be at least 1");
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        Ok(Self { client: HttpClient::new(&config)?, config })
    }

    /// Check one site now. Never fails: problems are in the result.
    pub async fn check(&self, site: &CompiledSite) -> CheckResult {
        let now = truncate_micros(Utc::now());
        let timeout = site.timeout().min(std::time::Duration::from_millis(self.config.max_timeout_ms));
        let probe =
            self.client.probe(&site.method, &site.site.url, &site.headers, site.site.follow_redirects, timeout).await;
        let mut r = CheckResult::new(&site.site, now);
        r.status_code = probe.status;
        r.response_time_ms = probe.response_time_ms;
        r.cert_expires_at = probe.cert_expires_at;
        r.body_truncated = probe.body_truncated;
        r.error = probe.error.clone();
        if probe.status.is_some() {
            r.has_regexp = site.regex.as_ref().map(|re| re.is_match(&String::from_utf8_lossy(&probe.body)));
        }
        let obs = Observation {
            status: probe.status,
            response_time_ms: probe.response_time_ms,
            body: &probe.body,
            cert_expires_at: probe.cert_expires_at,
            now: Some(now),
        };
        r.conditions = site
            .conditions
            .iter()
            .map(|c| ConditionResult { condition: c.text.clone(), success: c.evaluate(&obs) })
            .collect();
        r.success = r.error.is_none()
            && if site.conditions.is_empty() {
                probe.status.is_some_and(|s| s < 400) && r.has_regexp != Some(false)
            } else {
                r.conditions.iter().all(|c| c.success)
            };
        r
    }

    /// Check `sites` and store the results (with their events) in batches. With `inventory`,
    /// failing results of sites linked to a resource list the resources that depend on it.
    ///
    /// # Errors
    /// A store failure (results of the batch being written are not stored; earlier batches
    /// are).
    pub async fn run(
        &self,
        sites: Vec<CompiledSite>,
        store: &dyn SiteStore,
        inventory: Option<&dyn Repository>,
    ) -> Result<RunSummary, CheckError> {
        // Checks and writes overlap: the checks go on while a full batch is written (both
        // halves run in this task; a bounded channel of two batches joins them).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<CheckResult>>(2);
        let batch_size = self.config.batch_size;
        let check_all = async move {
            let mut dependents: HashMap<String, Dependents> = HashMap::new();
            let mut stream = futures::stream::iter(sites)
                .map(|s| async move { (self.check(&s).await, s.site.resource) })
                .buffer_unordered(self.config.concurrency);
            let mut batch = Vec::with_capacity(batch_size);
            while let Some((mut result, resource)) = stream.next().await {
                if let (false, Some(key), Some(repo)) = (result.success, resource, inventory) {
                    if !dependents.contains_key(&key.tenant) {
                        dependents.insert(key.tenant.clone(), Dependents::load(repo, &key.tenant).await?);
                    }
                    result.affected = dependents[&key.tenant].of(&key);
                }
                batch.push(result);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if tx.send(full).await.is_err() {
                        return Ok(()); // the writer failed; its error is returned
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch).await;
            }
            Ok::<(), CheckError>(())
        };
        let write_all = async {
            let mut summary = RunSummary::default();
            while let Some(mut batch) = rx.recv().await {
                self.flush(store, &mut batch, &mut summary).await?;
            }
            Ok::<RunSummary, CheckError>(summary)
        };
        let (checked, written) = futures::join!(check_all, write_all);
        let summary = written?;
        checked?;
        Ok(summary)
    }

    async fn flush(
        &self,
        store: &dyn SiteStore,
        batch: &mut Vec<CheckResult>,
        summary: &mut RunSummary,
    ) -> Result<(), CheckError> {
        if batch.is_empty() {
            return Ok(());
        }
        let events: Vec<_> = batch.iter().map(check_event).collect();
        let out = store.record_checks(batch, &events).await?;
        summary.stored += out.stored;
        summary.duplicates += out.duplicates;
        summary.checked += batch.len() as u64;
        summary.failed += batch.iter().filter(|r| !r.success).count() as u64;
        tracing::debug!(stored = out.stored, duplicates = out.duplicates, "recorded site checks");
        summary.results.append(batch);
        Ok(())
    }
}

/// Who points at what, for one tenant: `(connection, kind, native_id)` → resources whose
/// relations name it.
struct Dependents(HashMap<(String, Kind, String), Vec<AffectedResource>>);

impl Dependents {
    async fn load(repo: &dyn Repository, tenant: &str) -> Result<Self, CheckError> {
        let mut map: HashMap<(String, Kind, String), Vec<AffectedResource>> = HashMap::new();
        let filter = ResourceFilter::tenant(tenant).active(true);
        let mut page = PageRequest::first(1000);
        loop {
            let p = repo.list_resources(&filter, &page).await?;
            for r in p.items {
                for rel in &r.doc.relations {
                    let target = (r.key.connection.clone(), rel.kind.clone(), rel.native_id.clone());
                    let list = map.entry(target).or_default();
                    if !list.iter().any(|a| a.key == r.key) {
                        list.push(AffectedResource { key: r.key.clone(), name: r.doc.name.clone() });
                    }
                }
            }
            match p.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        Ok(Self(map))
    }

    fn of(&self, key: &ResourceKey) -> Vec<AffectedResource> {
        self.0.get(&(key.connection.clone(), key.kind.clone(), key.native_id.clone())).cloned().unwrap_or_default()
    }
}

/// The resources whose relations point to `target` (same tenant and connection): the
/// applications affected when `target`'s endpoint fails. One level deep.
///
/// # Errors
/// A store failure.
pub async fn affected_by(repo: &dyn Repository, target: &ResourceKey) -> Result<Vec<AffectedResource>, CheckError> {
    Ok(Dependents::load(repo, &target.tenant).await?.of(target))
}

/// Sites derived from the inventory: active resources of an endpoint kind (`application`,
/// `load_balancer`) with a `url`, `endpoint` or `dns_name` attribute (a bare host becomes
/// `https://host/`). Ids are derived from the resource key (stable, in `2^62..2^63`, away from
/// hand-made ids), so re-importing updates the same rows. Invalid ones are skipped with a
/// warning.
///
/// # Errors
/// A store failure.
pub async fn inventory_sites(repo: &dyn Repository, tenant: &str) -> Result<Vec<Site>, CheckError> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    let filter = ResourceFilter::tenant(tenant).active(true);
    loop {
        let p = repo.list_resources(&filter, &page).await?;
        for r in p.items.into_iter().filter(|r| is_endpoint_kind(&r.key.kind)) {
            let Some(endpoint) =
                ENDPOINT_ATTRIBUTES.iter().find_map(|a| r.doc.attributes.get(*a).and_then(|v| v.as_str()))
            else {
                continue;
            };
            let url = if endpoint.contains("://") { endpoint.to_string() } else { format!("https://{endpoint}/") };
            let id = inventory_site_id(&r.key);
            let site = Site { id, resource: Some(r.key.clone()), ..Site::new(tenant, url) };
            match validate_site(&site) {
                Ok(_) => out.push(site),
                Err(e) => tracing::warn!(resource = %r.key, "inventory endpoint skipped: {e}"),
            }
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

fn inventory_site_id(key: &ResourceKey) -> i64 {
    let ns = uuid::Uuid::from_u128(0x6d61_6573_7472_6f2d_696e_7673_6974_6501);
    let (hi, _) = uuid::Uuid::new_v5(&ns, key.to_string().as_bytes()).as_u64_pair();
    ((hi & 0x3fff_ffff_ffff_ffff) | 0x4000_0000_0000_0000) as i64
}

/// The sites due at `now`: never checked, or last checked at least `interval_secs` ago (with a
/// 1 % slack so a scheduler firing on the interval does not skip every other slot).
pub fn due_sites(sites: Vec<Site>, latest: &BTreeMap<i64, DateTime<Utc>>, now: DateTime<Utc>) -> Vec<Site> {
    sites
        .into_iter()
        .filter(|s| match latest.get(&s.id) {
            None => true,
            Some(last) => {
                let elapsed_ms = (now - *last).num_milliseconds();
                elapsed_ms >= (s.interval_secs as i64 * 1000) * 99 / 100
            }
        })
        .collect()
}

/// Arguments of a `site.check` job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobArgs {
    tenant: String,
    #[serde(default)]
    site_ids: Option<Vec<i64>>,
}

/// The scheduler job `site.check` with args `{tenant, site_ids?}`: checks the tenant's enabled
/// sites that are due (per-site `interval_secs`), or exactly `site_ids` when given (due or
/// not). A redelivered job checks again (results are new checks at a new time).
#[derive(Clone)]
pub struct SiteCheckJob {
    store: Arc<dyn SiteStore>,
    inventory: Option<Arc<dyn Repository>>,
    checker: Arc<Checker>,
}

impl std::fmt::Debug for SiteCheckJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteCheckJob").finish_non_exhaustive()
    }
}

impl SiteCheckJob {
    /// A job over `store`, with the dependency view when `inventory` is given.
    pub fn new(store: Arc<dyn SiteStore>, inventory: Option<Arc<dyn Repository>>, checker: Arc<Checker>) -> Self {
        Self { store, inventory, checker }
    }

    /// Run the job's work once.
    ///
    /// # Errors
    /// Bad arguments (permanent) or a store failure (transient).
    pub async fn execute(&self, args: &serde_json::Value) -> Result<RunSummary, JobError> {
        let args: JobArgs = serde_json::from_value(args.clone())
            .map_err(|e| JobError::permanent(format!("bad site.check args: {e}")))?;
        let transient = |e: maestro_core::StorageError| JobError::transient(e.to_string());
        let mut sites = Vec::new();
        match &args.site_ids {
            Some(ids) => {
                for id in ids {
                    match self.store.get_site(&args.tenant, *id).await.map_err(transient)? {
                        Some(s) => sites.push(s),
                        None => return Err(JobError::permanent(format!("no site {id} in tenant `{}`", args.tenant))),
                    }
                }
            }
            None => {
                let mut page = PageRequest::first(1000);
                loop {
                    let p = self.store.list_sites(&args.tenant, true, &page).await.map_err(transient)?;
                    sites.extend(p.items);
                    match p.next {
                        Some(n) => page.after = Some(n),
                        None => break,
                    }
                }
                let latest = self.store.latest_checks(&args.tenant).await.map_err(transient)?;
                let latest: BTreeMap<i64, DateTime<Utc>> =
                    latest.into_iter().map(|r| (r.site_id, r.checked_at)).collect();
                sites = due_sites(sites, &latest, Utc::now());
            }
        }
        let compiled = sites
            .iter()
            .filter_map(|s| match validate_site(s) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(site = s.id, "stored site is invalid, not checked: {e}");
                    None
                }
            })
            .collect();
        self.checker.run(compiled, &*self.store, self.inventory.as_deref()).await.map_err(|e| match e {
            CheckError::Storage(s) => transient(s),
            other => JobError::permanent(other.to_string()),
        })
    }
}

impl JobHandler for SiteCheckJob {
    fn call(
        &self,
        ctx: JobContext,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), JobError>> + Send>> {
        let this = self.clone();
        Box::pin(async move {
            let summary = this.execute(&ctx.job.args).await?;
            tracing::info!(job = %ctx.job.id, checked = summary.checked, failed = summary.failed, "site checks done");
            Ok(())
        })
    }
}
