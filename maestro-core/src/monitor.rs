//! Site monitoring (HTTP checks): the model, the `site.check` event and the [`SiteStore`] trait.
//!
//! The checker itself (HTTP client, condition parser, concurrency) lives in
//! `maestro-providers` (feature `http_check`); the SQL stores implement [`SiteStore`] in
//! `maestro-store`. This module stays free of HTTP and database code.
//!
//! A check result and its outbox event are written together ([`SiteStore::record_checks`]), so
//! a broker outage never loses a check: the relay delivers the event later. Results are keyed by
//! `(site_id, checked_at)`; recording the same result again writes nothing and appends no event.
//!
//! # Example
//! ```
//! use maestro_core::monitor::{CheckResult, Site, check_event};
//! let site = Site::new("acme", "https://example.com/health");
//! let site = Site { id: 7, ..site };
//! let at = "2026-01-02T03:04:05.123456Z".parse().unwrap();
//! let mut result = CheckResult::new(&site, at);
//! result.status_code = Some(200);
//! result.response_time_ms = Some(12.5);
//! result.success = true;
//! let event = check_event(&result);
//! assert_eq!(event.kind, "site.check");
//! assert_eq!(event.subject, "site:7");
//! assert_eq!(event.payload["response_time"], 0.0125);
//! assert_eq!(event.payload["created"], "2026-01-02 03:04:05.123456");
//! assert_eq!(event.payload["comments"], "");
//! assert_eq!(check_event(&result).id, event.id, "ids are deterministic");
//! ```

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::event::Event;
use crate::model::{Kind, ResourceKey};
use crate::repository::{PageOf, PageRequest, StoreResult};

/// Event kind of a check result.
pub const SITE_CHECK: &str = "site.check";

/// Default check interval: the original ran every 10 minutes.
pub const DEFAULT_INTERVAL_SECS: u64 = 600;
/// Default total timeout of one check (connect + headers + body).
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

fn default_tenant() -> String {
    "default".into()
}
fn default_interval() -> u64 {
    DEFAULT_INTERVAL_SECS
}
fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_method() -> String {
    "GET".into()
}
fn yes() -> bool {
    true
}

/// A monitored site (a row of `sites`). `id`, `url` and `regexp` are the original's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Id (`0` in a [`SiteStore::create_site`] call means "assign one").
    #[serde(default)]
    pub id: i64,
    /// Owning tenant.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// The URL to request (`http` or `https`).
    pub url: String,
    /// A regular expression searched in the body; the result is `has_regexp`.
    #[serde(default)]
    pub regexp: Option<String>,
    /// Seconds between two checks.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Total time limit of one check in milliseconds (connect + headers + body).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// HTTP method.
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Follow redirects (at most 10).
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    /// Gatus-style conditions (`[STATUS] == 200`…). With none, a check succeeds when a response
    /// arrives with a status below 400 and the regexp (if any) matches.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Disabled sites are not checked.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The inventory resource this endpoint belongs to (for the dependency view).
    #[serde(default)]
    pub resource: Option<ResourceKey>,
}

impl Site {
    /// A site with defaults: GET, every 10 minutes, 10 s timeout, redirects followed, enabled.
    pub fn new(tenant: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            id: 0,
            tenant: tenant.into(),
            url: url.into(),
            regexp: None,
            interval_secs: DEFAULT_INTERVAL_SECS,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            method: default_method(),
            headers: BTreeMap::new(),
            follow_redirects: true,
            conditions: Vec::new(),
            enabled: true,
            resource: None,
        }
    }
}

/// The outcome of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionResult {
    /// The condition as written.
    pub condition: String,
    /// Whether it held.
    pub success: bool,
}

/// A resource affected by a failing endpoint (see [`SiteStore`] docs and `docs/monitoring.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedResource {
    /// Its key.
    pub key: ResourceKey,
    /// Its name.
    pub name: String,
}

/// One check of one site (a row of `site_checks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The site.
    pub site_id: i64,
    /// Its tenant.
    pub tenant: String,
    /// The URL requested.
    pub url: String,
    /// When the check started (UTC, microsecond precision). With `site_id`, the idempotency key.
    pub checked_at: DateTime<Utc>,
    /// The final status code, if a response arrived.
    pub status_code: Option<u16>,
    /// Time to response headers, in milliseconds (the original's `response_time` in seconds × 1000).
    pub response_time_ms: Option<f64>,
    /// Whether the regexp matched the body (`None` without a regexp or without a response).
    pub has_regexp: Option<bool>,
    /// The leaf certificate's `notAfter` (https only).
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// Why no usable response arrived (connection, timeout, TLS, expired certificate…).
    pub error: Option<String>,
    /// Every condition and whether it held.
    pub conditions: Vec<ConditionResult>,
    /// The body was longer than the cap; only its first bytes were read and matched.
    pub body_truncated: bool,
    /// Overall verdict.
    pub success: bool,
    /// Resources whose relations point to the site's resource (filled for failing checks).
    pub affected: Vec<AffectedResource>,
}

impl CheckResult {
    /// An empty (unsuccessful) result of `site` at `at` (truncated to microseconds).
    pub fn new(site: &Site, at: DateTime<Utc>) -> Self {
        Self {
            site_id: site.id,
            tenant: site.tenant.clone(),
            url: site.url.clone(),
            checked_at: truncate_micros(at),
            status_code: None,
            response_time_ms: None,
            has_regexp: None,
            cert_expires_at: None,
            error: None,
            conditions: Vec::new(),
            body_truncated: false,
            success: false,
            affected: Vec::new(),
        }
    }
}

/// `t` without its sub-microsecond part (what the stores keep).
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

const NS: Uuid = Uuid::from_u128(0x6d61_6573_7472_6f2d_7369_7465_7300_0001);

/// The deterministic event id of a check: UUID v5 over (tenant, site id, check time in µs).
pub fn check_event_id(tenant: &str, site_id: i64, checked_at: DateTime<Utc>) -> Uuid {
    let name = format!("{SITE_CHECK}\u{0}{tenant}\u{0}{site_id}\u{0}{}", checked_at.timestamp_micros());
    Uuid::new_v5(&NS, name.as_bytes())
}

/// The `site.check` event of a result. The payload carries the original service's Kafka value
/// (`site_id, status_code, response_time` in seconds, `has_regexp, created, modified,
/// comments`) plus `url, response_time_ms, cert_expires_at, conditions, success, error,
/// body_truncated, affected, checked_at` (RFC 3339).
pub fn check_event(result: &CheckResult) -> Event {
    let stamp = result.checked_at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let comments = match &result.error {
        Some(e) => format!("Request Exception: {e}"),
        None => String::new(),
    };
    Event {
        id: check_event_id(&result.tenant, result.site_id, result.checked_at),
        kind: SITE_CHECK.into(),
        tenant: result.tenant.clone(),
        subject: format!("site:{}", result.site_id),
        run_id: None,
        occurred_at: result.checked_at,
        payload: json!({
            "site_id": result.site_id,
            "status_code": result.status_code,
            "response_time": result.response_time_ms.map(|ms| ms / 1000.0),
            "has_regexp": result.has_regexp,
            "created": stamp,
            "modified": stamp,
            "comments": comments,
            "url": result.url,
            "response_time_ms": result.response_time_ms,
            "cert_expires_at": result.cert_expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            "conditions": result.conditions,
            "success": result.success,
            "error": result.error,
            "body_truncated": result.body_truncated,
            "affected": result.affected.iter().map(|a| json!({"key": a.key.to_string(), "name": a.name})).collect::<Vec<_>>(),
            "checked_at": result.checked_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        }),
    }
}

/// Which check results to read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckQuery {
    /// Tenant (required).
    pub tenant: String,
    /// Only this site.
    pub site_id: Option<i64>,
    /// Only checks at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only checks strictly before this time.
    pub until: Option<DateTime<Utc>>,
    /// Newest first (most recently recorded first) instead of oldest first.
    #[serde(default)]
    pub newest_first: bool,
}

/// Totals of one site's stored results and its newest result ([`SiteStore::check_stats`], for
/// metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteCheckStats {
    /// The site's tenant.
    pub tenant: String,
    /// The site.
    pub site_id: i64,
    /// Stored results that succeeded.
    pub successes: u64,
    /// Stored results that failed.
    pub failures: u64,
    /// The newest result (by `checked_at`).
    pub last: CheckResult,
}

/// What [`SiteStore::record_checks`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    /// New results stored (with their events).
    pub stored: u64,
    /// Results already stored (same site and check time): nothing written for them.
    pub duplicates: u64,
}

/// Where sites and check results live. Implemented by `SqliteStore`, `PostgresStore` and the
/// test kit's `MemoryRepository`; all pass [`site_store_suite!`](crate::site_store_suite).
///
/// Validation (URL, regexp, conditions) happens before these calls, in the checker crate
/// (`maestro_providers::http_check::validate_site`); stores only store.
///
/// # Contract
/// - Every read and update is tenant-scoped.
/// - `create_site` with `id == 0` assigns a fresh id; with an id that exists it fails with
///   [`StorageError::Invalid`](crate::StorageError::Invalid).
/// - `record_checks` MUST store the results and append `events` in one transaction, and MUST
///   be idempotent on `(site_id, checked_at)`: a result already stored is skipped and its event
///   (same deterministic id) is not appended again.
/// - Listings page with a cursor and never cap silently.
#[async_trait]
pub trait SiteStore: Send + Sync {
    /// Store a new site; returns it with its id.
    async fn create_site(&self, site: &Site) -> StoreResult<Site>;
    /// Replace a site's fields (matched by tenant and id). Returns whether it existed.
    async fn update_site(&self, site: &Site) -> StoreResult<bool>;
    /// One site.
    async fn get_site(&self, tenant: &str, id: i64) -> StoreResult<Option<Site>>;
    /// A page of a tenant's sites (`enabled_only` skips disabled ones), by id.
    async fn list_sites(&self, tenant: &str, enabled_only: bool, page: &PageRequest) -> StoreResult<PageOf<Site>>;
    /// Delete a site (its past results stay). Returns whether it existed.
    async fn delete_site(&self, tenant: &str, id: i64) -> StoreResult<bool>;
    /// Store results and their events (normally [`check_event`] of each) in one transaction.
    async fn record_checks(&self, results: &[CheckResult], events: &[Event]) -> StoreResult<RecordOutcome>;
    /// A page of results, oldest first (newest first with [`CheckQuery::newest_first`]).
    async fn list_checks(&self, query: &CheckQuery, page: &PageRequest) -> StoreResult<PageOf<CheckResult>>;
    /// The newest result of each of a tenant's sites, by site id.
    async fn latest_checks(&self, tenant: &str) -> StoreResult<Vec<CheckResult>>;
    /// For every tenant's sites that exist and have results: success and failure counts and the
    /// newest result, by tenant and site id (results of deleted sites are left out).
    async fn check_stats(&self) -> StoreResult<Vec<SiteCheckStats>>;
}

/// Attribute names that give an inventory resource's endpoint, in order of preference.
pub const ENDPOINT_ATTRIBUTES: &[&str] = &["url", "endpoint", "dns_name"];

/// Resource kinds whose endpoints can become check targets.
pub fn is_endpoint_kind(kind: &Kind) -> bool {
    matches!(kind.as_str(), "application" | "load_balancer" | "loadbalancer" | "lb")
}
