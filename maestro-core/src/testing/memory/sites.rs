//! [`SiteStore`] for [`MemoryRepository`]: sites and results in the same lock as the outbox, so
//! a record is atomic exactly as in the SQL stores.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;

use super::MemoryRepository;
use crate::error::StorageError;
use crate::event::Event;
use crate::monitor::{CheckQuery, CheckResult, RecordOutcome, Site, SiteCheckStats, SiteStore};
use crate::repository::{PageOf, PageRequest, StoreResult};

#[derive(Debug, Clone, Default)]
pub(super) struct SiteTables {
    sites: BTreeMap<i64, Site>,
    next_id: i64,
    /// Results in insertion order (index + 1 is the page cursor).
    checks: Vec<CheckResult>,
    keys: HashSet<(i64, i64)>,
}

fn cursor(after: &Option<String>) -> StoreResult<usize> {
    match after {
        None => Ok(0),
        Some(c) => c.parse::<usize>().map_err(|_| StorageError::Invalid(format!("bad page cursor `{c}`"))),
    }
}

#[async_trait]
impl SiteStore for MemoryRepository {
    async fn create_site(&self, site: &Site) -> StoreResult<Site> {
        let mut g = self.inner.lock().expect("poisoned");
        let t = &mut g.sites;
        let id =
            if site.id == 0 { t.sites.keys().next_back().copied().unwrap_or(0).max(t.next_id) + 1 } else { site.id };
        if t.sites.contains_key(&id) {
            return Err(StorageError::Invalid(format!("site {id} already exists")));
        }
        t.next_id = t.next_id.max(id);
        let stored = Site { id, ..site.clone() };
        t.sites.insert(id, stored.clone());
        Ok(stored)
    }

    async fn update_site(&self, site: &Site) -> StoreResult<bool> {
        let mut g = self.inner.lock().expect("poisoned");
        match g.sites.sites.get_mut(&site.id) {
            Some(s) if s.tenant == site.tenant => {
                *s = site.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get_site(&self, tenant: &str, id: i64) -> StoreResult<Option<Site>> {
        let g = self.inner.lock().expect("poisoned");
        Ok(g.sites.sites.get(&id).filter(|s| s.tenant == tenant).cloned())
    }

    async fn list_sites(&self, tenant: &str, enabled_only: bool, page: &PageRequest) -> StoreResult<PageOf<Site>> {
        let limit = page.checked_limit()? as usize;
        let after = cursor(&page.after)? as i64;
        let g = self.inner.lock().expect("poisoned");
        let mut items: Vec<Site> = g
            .sites
            .sites
            .range(after + 1..)
            .map(|(_, s)| s)
            .filter(|s| s.tenant == tenant && (!enabled_only || s.enabled))
            .take(limit + 1)
            .cloned()
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|s| s.id.to_string())
        } else {
            None
        };
        Ok(PageOf { items, next })
    }

    async fn delete_site(&self, tenant: &str, id: i64) -> StoreResult<bool> {
        let mut g = self.inner.lock().expect("poisoned");
        if g.sites.sites.get(&id).is_some_and(|s| s.tenant == tenant) {
            g.sites.sites.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn record_checks(&self, results: &[CheckResult], events: &[Event]) -> StoreResult<RecordOutcome> {
        let mut g = self.inner.lock().expect("poisoned");
        let mut out = RecordOutcome::default();
        for r in results {
            if g.sites.keys.insert((r.site_id, r.checked_at.timestamp_micros())) {
                g.sites.checks.push(r.clone());
                out.stored += 1;
            } else {
                out.duplicates += 1;
            }
        }
        for e in events {
            g.push_event(e.clone());
        }
        Ok(out)
    }

    async fn list_checks(&self, query: &CheckQuery, page: &PageRequest) -> StoreResult<PageOf<CheckResult>> {
        let limit = page.checked_limit()? as usize;
        let g = self.inner.lock().expect("poisoned");
        let checks = &g.sites.checks;
        let keep = |c: &CheckResult| {
            c.tenant == query.tenant
                && query.site_id.is_none_or(|s| s == c.site_id)
                && query.since.is_none_or(|t| c.checked_at >= t)
                && query.until.is_none_or(|t| c.checked_at < t)
        };
        // Oldest first: the cursor is the index to resume at. Newest first: the cursor is the
        // index (exclusive) below which to resume.
        let indices: Box<dyn Iterator<Item = usize>> = if query.newest_first {
            let upper = match &page.after {
                None => checks.len(),
                Some(_) => cursor(&page.after)?.min(checks.len()),
            };
            Box::new((0..upper).rev())
        } else {
            Box::new(cursor(&page.after)?..checks.len())
        };
        let mut items = Vec::new();
        let mut next = None;
        for i in indices {
            let c = &checks[i];
            if !keep(c) {
                continue;
            }
            if items.len() == limit {
                next = Some(if query.newest_first { i + 1 } else { i }.to_string());
                break;
            }
            items.push(c.clone());
        }
        Ok(PageOf { items, next })
    }

    async fn latest_checks(&self, tenant: &str) -> StoreResult<Vec<CheckResult>> {
        let g = self.inner.lock().expect("poisoned");
        let mut latest: BTreeMap<i64, &CheckResult> = BTreeMap::new();
        for c in g.sites.checks.iter().filter(|c| c.tenant == tenant) {
            let e = latest.entry(c.site_id).or_insert(c);
            if c.checked_at > e.checked_at {
                *e = c;
            }
        }
        Ok(latest.into_values().cloned().collect())
    }

    async fn check_stats(&self) -> StoreResult<Vec<SiteCheckStats>> {
        let g = self.inner.lock().expect("poisoned");
        let mut stats: BTreeMap<(String, i64), SiteCheckStats> = BTreeMap::new();
        for c in &g.sites.checks {
            if g.sites.sites.get(&c.site_id).is_none_or(|s| s.tenant != c.tenant) {
                continue;
            }
            let e = stats.entry((c.tenant.clone(), c.site_id)).or_insert_with(|| SiteCheckStats {
                tenant: c.tenant.clone(),
                site_id: c.site_id,
                successes: 0,
                failures: 0,
                last: c.clone(),
            });
            if c.success {
                e.successes += 1;
            } else {
                e.failures += 1;
            }
            if c.checked_at > e.last.checked_at {
                e.last = c.clone();
            }
        }
        Ok(stats.into_values().collect())
    }
}
