//! `maestro sites add|list` and `maestro check`: site monitoring from the command line.
//!
//! `maestro check` loads the sites file (if any) into the `sites` table (created or updated by
//! id, after validation), optionally adds the inventory's endpoints (`--inventory`), checks every
//! enabled site of the tenant once, stores results and `site.check` events, prints a table and
//! returns exit code 0 when every check passed, 2 when at least one failed (like a test runner),
//! and 64 for an invalid sites file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use maestro_core::PageRequest;
use maestro_core::monitor::{CheckResult, Site, SiteStore};
use maestro_providers::http_check::{Checker, CheckerConfig, inventory_sites, load_sites_file, validate_site};

/// Exit code when at least one check failed.
pub const EXIT_CHECK_FAILED: i32 = 2;
/// Exit code for an invalid site or sites file.
pub const EXIT_INVALID: i32 = 64;

/// Add one site (validated first). Returns the exit code (0, or [`EXIT_INVALID`] after printing
/// every problem).
///
/// # Errors
/// The database cannot be opened or written (an existing id is reported as such).
pub async fn add_site(database: &str, site: Site, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    if let Err(problems) = validate_site(&site) {
        write!(err, "error: {problems}")?;
        return Ok(EXIT_INVALID);
    }
    let store = maestro_store::open(database).await?;
    let created = store.create_site(&site).await?;
    writeln!(out, "site {} added: {}", created.id, created.url)?;
    Ok(0)
}

/// Print a tenant's sites with their latest result: `id  enabled  every  last  url`.
///
/// # Errors
/// The database cannot be read.
pub async fn list_sites(database: &str, tenant: &str, out: &mut dyn Write) -> Result<()> {
    let store = maestro_store::open(database).await?;
    let latest: std::collections::HashMap<i64, CheckResult> =
        store.latest_checks(tenant).await?.into_iter().map(|r| (r.site_id, r)).collect();
    let mut page = PageRequest::first(1000);
    writeln!(out, "{:>6}  {:<8} {:>6}  {:<22} URL", "ID", "ENABLED", "EVERY", "LAST CHECK")?;
    loop {
        let p = store.list_sites(tenant, false, &page).await?;
        for s in &p.items {
            let last = latest.get(&s.id).map_or_else(
                || "never".to_string(),
                |r| format!("{} {}", if r.success { "ok" } else { "FAIL" }, r.checked_at.format("%m-%d %H:%M:%S")),
            );
            let enabled = if s.enabled { "yes" } else { "no" };
            writeln!(out, "{:>6}  {:<8} {:>5}s  {:<22} {}", s.id, enabled, s.interval_secs, last, s.url)?;
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(()),
        }
    }
}

/// Arguments of `maestro check`.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    /// Database URL.
    pub database: String,
    /// Tenant.
    pub tenant: String,
    /// Sites file to load first.
    pub config: Option<PathBuf>,
    /// Also check the inventory's application / load balancer endpoints.
    pub inventory: bool,
    /// Checks in flight at once.
    pub concurrency: usize,
}

/// Run every enabled site of the tenant once and print a table. Returns the exit code.
///
/// # Errors
/// The database cannot be opened, read or written.
pub async fn check(args: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let store = maestro_store::open(&args.database).await?;
    let mut imported = Vec::new();
    if let Some(path) = &args.config {
        match load_sites_file(path, &args.tenant) {
            Ok(sites) => {
                let missing: Vec<String> = sites
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.id == 0)
                    .map(|(i, _)| format!("sites[{i}].id"))
                    .collect();
                if !missing.is_empty() {
                    writeln!(
                        err,
                        "error: {}: every site in a sites file needs an `id` (so a re-run updates it): {}",
                        path.display(),
                        missing.join(", ")
                    )?;
                    return Ok(EXIT_INVALID);
                }
                imported.extend(sites);
            }
            Err(problems) => {
                write!(err, "error: {problems}")?;
                return Ok(EXIT_INVALID);
            }
        }
    }
    if args.inventory {
        imported.extend(inventory_sites(&*store, &args.tenant).await?);
    }
    for site in &imported {
        upsert(&*store, site).await.with_context(|| format!("storing site {} ({})", site.id, site.url))?;
    }
    let mut sites = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_sites(&args.tenant, true, &page).await?;
        for s in p.items {
            match validate_site(&s) {
                Ok(c) => sites.push(c),
                Err(e) => writeln!(err, "warning: site {} is invalid and not checked: {e}", s.id)?,
            }
        }
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    if sites.is_empty() {
        writeln!(out, "no enabled sites for tenant `{}`", args.tenant)?;
        return Ok(0);
    }
    let checker = Checker::new(CheckerConfig { concurrency: args.concurrency.max(1), ..CheckerConfig::default() })?;
    let inventory: Option<&dyn maestro_core::Repository> = Some(&*store);
    let mut summary = checker.run(sites, &*store, inventory).await?;
    summary.results.sort_by_key(|r| r.site_id);
    writeln!(out, "{:>6}  {:<4}  {:>6}  {:>9}  {:<5}  DETAIL", "SITE", "OK", "STATUS", "TIME ms", "REGEX")?;
    for r in &summary.results {
        let detail = match (
            &r.error,
            r.conditions.iter().filter(|c| !c.success).map(|c| c.condition.as_str()).collect::<Vec<_>>(),
        ) {
            (Some(e), _) => e.clone(),
            (None, failed) if !failed.is_empty() => format!("failed: {}", failed.join("; ")),
            _ => r.url.clone(),
        };
        let affected = if r.affected.is_empty() {
            String::new()
        } else {
            format!(" (affects {})", r.affected.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "))
        };
        writeln!(
            out,
            "{:>6}  {:<4}  {:>6}  {:>9}  {:<5}  {detail}{affected}",
            r.site_id,
            if r.success { "ok" } else { "FAIL" },
            r.status_code.map_or("-".into(), |c| c.to_string()),
            r.response_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
            r.has_regexp.map_or("-", |m| if m { "match" } else { "no" }),
        )?;
    }
    writeln!(out, "{} checked, {} failed, {} stored", summary.checked, summary.failed, summary.stored)?;
    Ok(if summary.failed > 0 { EXIT_CHECK_FAILED } else { 0 })
}

async fn upsert(store: &dyn SiteStore, site: &Site) -> Result<()> {
    if site.id != 0 && store.update_site(site).await? {
        return Ok(());
    }
    store.create_site(site).await?;
    Ok(())
}

/// Build a site from `maestro sites add` arguments.
pub fn site_from_args(
    tenant: String,
    url: String,
    regexp: Option<String>,
    conditions: Vec<String>,
    interval_secs: u64,
    timeout_ms: u64,
) -> Site {
    Site { regexp, conditions, interval_secs, timeout_ms, ..Site::new(tenant, url) }
}
