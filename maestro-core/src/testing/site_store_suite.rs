//! The [`SiteStore`] suite every backend runs: site CRUD with tenant scoping, the atomic and
//! idempotent result + event write, listings by window and page, the latest result per site,
//! and a lossless round trip of every result field.
//!
//! ```text
//! maestro_core::site_store_suite!(my_store_factory());
//! ```
//! expands to one `#[tokio::test]` per case, each with a fresh store from the factory expression
//! (an `async` expression giving an `Arc<S>` where `S: SiteStore + OutboxStore + 'static`).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::model::{Kind, ResourceKey};
use crate::monitor::*;
use crate::repository::{OutboxCursor, OutboxStore, PageRequest};

/// Generate one `#[tokio::test]` per site store suite case, each with a fresh store from `$make`.
#[macro_export]
macro_rules! site_store_suite {
    ($make:expr) => {
        $crate::site_store_suite!(@cases $make;
            sites_crud_is_tenant_scoped,
            explicit_ids_and_duplicates,
            list_sites_pages_and_filters_enabled,
            record_writes_results_and_events_together,
            record_is_idempotent_on_site_and_time,
            list_checks_by_site_window_and_page,
            latest_check_per_site,
            result_fields_round_trip,
            list_checks_newest_first_pages,
            check_stats_count_and_keep_the_newest,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::testing::site_store_suite::$case(store).await;
            }
        )*
    };
}

/// What a suite store must be.
pub trait SuiteStore: SiteStore + OutboxStore + 'static {}
impl<T: SiteStore + OutboxStore + 'static> SuiteStore for T {}

const T: &str = "tenant-a";

fn t0() -> DateTime<Utc> {
    "2026-03-01T10:00:00.123456Z".parse().expect("valid time")
}

fn site(url: &str) -> Site {
    Site::new(T, url)
}

fn result(site_id: i64, at: DateTime<Utc>, ok: bool) -> CheckResult {
    let mut s = site("https://example.test/");
    s.id = site_id;
    let mut r = CheckResult::new(&s, at);
    r.success = ok;
    if ok {
        r.status_code = Some(200);
        r.response_time_ms = Some(12.25);
    } else {
        r.error = Some("connection refused".into());
    }
    r
}

async fn record(store: &impl SuiteStore, results: &[CheckResult]) -> RecordOutcome {
    let events: Vec<_> = results.iter().map(check_event).collect();
    store.record_checks(results, &events).await.expect("record")
}

async fn all_checks(store: &impl SuiteStore, limit: u32) -> Vec<CheckResult> {
    let q = CheckQuery { tenant: T.into(), ..Default::default() };
    store.list_checks(&q, &PageRequest::first(limit)).await.expect("list checks").items
}

async fn site_events(store: &impl SuiteStore) -> Vec<crate::event::Event> {
    let evs = store.events_after(OutboxCursor::default(), 10_000).await.expect("events");
    evs.into_iter().map(|e| e.event).filter(|e| e.kind == SITE_CHECK).collect()
}

/// Create, get, update, delete; another tenant sees and changes nothing.
pub async fn sites_crud_is_tenant_scoped<S: SuiteStore>(store: Arc<S>) {
    let mut s = site("https://a.test/health");
    s.regexp = Some("ok".into());
    s.conditions = vec!["[STATUS] == 200".into()];
    s.headers.insert("Accept".into(), "application/json".into());
    let created = store.create_site(&s).await.expect("create");
    assert!(created.id > 0, "an id is assigned");
    assert_eq!(Site { id: created.id, ..s.clone() }, created);
    assert_eq!(store.get_site(T, created.id).await.expect("get"), Some(created.clone()));
    assert_eq!(store.get_site("other", created.id).await.expect("get"), None, "reads are tenant-scoped");

    let mut changed = created.clone();
    changed.url = "https://a.test/v2".into();
    changed.enabled = false;
    changed.timeout_ms = 1500;
    assert!(store.update_site(&changed).await.expect("update"));
    assert_eq!(store.get_site(T, created.id).await.expect("get"), Some(changed.clone()));
    let foreign = Site { tenant: "other".into(), ..changed.clone() };
    assert!(!store.update_site(&foreign).await.expect("update"), "another tenant cannot update");
    assert!(!store.delete_site("other", created.id).await.expect("delete"), "another tenant cannot delete");
    assert!(store.delete_site(T, created.id).await.expect("delete"));
    assert!(!store.delete_site(T, created.id).await.expect("delete"), "second delete finds nothing");
    assert_eq!(store.get_site(T, created.id).await.expect("get"), None);
    let missing = Site { id: 9999, ..changed };
    assert!(!store.update_site(&missing).await.expect("update"));
}

/// Explicit ids (the original's `sites.id`) are kept; reusing one fails; fresh ids never collide.
pub async fn explicit_ids_and_duplicates<S: SuiteStore>(store: Arc<S>) {
    let a = store.create_site(&Site { id: 42, ..site("https://a.test/") }).await.expect("create 42");
    assert_eq!(a.id, 42);
    let err = store.create_site(&Site { id: 42, ..site("https://b.test/") }).await.expect_err("duplicate id");
    assert!(err.to_string().contains("42"), "{err}");
    let b = store.create_site(&site("https://c.test/")).await.expect("create");
    assert!(b.id != 42 && b.id > 0, "fresh id {} must not collide", b.id);
}

/// Pages by id with a cursor; `enabled_only` skips disabled sites; other tenants are invisible.
pub async fn list_sites_pages_and_filters_enabled<S: SuiteStore>(store: Arc<S>) {
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut s = site(&format!("https://s{i}.test/"));
        s.enabled = i % 3 != 0;
        ids.push(store.create_site(&s).await.expect("create").id);
    }
    store.create_site(&Site::new("other", "https://x.test/")).await.expect("create other");
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let p = store.list_sites(T, false, &page).await.expect("list");
        assert!(p.items.len() <= 3);
        seen.extend(p.items.iter().map(|s| s.id));
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every site of the tenant once, by id");
    let enabled = store.list_sites(T, true, &PageRequest::first(100)).await.expect("list");
    let want: Vec<i64> = ids.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, id)| *id).collect();
    assert_eq!(enabled.items.iter().map(|s| s.id).collect::<Vec<_>>(), want);
    assert!(enabled.next.is_none());
}

/// Results and their events are both present after one call.
pub async fn record_writes_results_and_events_together<S: SuiteStore>(store: Arc<S>) {
    let rs = vec![result(1, t0(), true), result(2, t0(), false)];
    let out = record(&*store, &rs).await;
    assert_eq!(out, RecordOutcome { stored: 2, duplicates: 0 });
    let stored = all_checks(&*store, 10).await;
    assert_eq!(stored, rs);
    let events = site_events(&*store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].payload["site_id"], 1);
    assert_eq!(events[0].subject, "site:1");
    assert_eq!(events[1].payload["comments"], "Request Exception: connection refused");
    assert_eq!(events[1].payload["status_code"], serde_json::Value::Null);
    assert_eq!(events[0].id, check_event_id(T, 1, t0()));
}

/// Recording the same results again writes nothing and appends no event; a mixed batch stores
/// only the new ones.
pub async fn record_is_idempotent_on_site_and_time<S: SuiteStore>(store: Arc<S>) {
    let first = vec![result(1, t0(), true), result(2, t0(), true)];
    record(&*store, &first).await;
    let again = record(&*store, &first).await;
    assert_eq!(again, RecordOutcome { stored: 0, duplicates: 2 });
    assert_eq!(site_events(&*store).await.len(), 2, "no event appended by a repeat");
    let mixed = vec![result(1, t0(), false), result(1, t0() + Duration::seconds(60), true)];
    let out = record(&*store, &mixed).await;
    assert_eq!(out, RecordOutcome { stored: 1, duplicates: 1 });
    let all = all_checks(&*store, 10).await;
    assert_eq!(all.len(), 3);
    assert!(all[0].success, "the first stored result of (1, t0) is kept, not overwritten");
    assert_eq!(site_events(&*store).await.len(), 3);
}

/// Filters by site and half-open time window; pages with a cursor, oldest first.
pub async fn list_checks_by_site_window_and_page<S: SuiteStore>(store: Arc<S>) {
    let mut rs = Vec::new();
    for m in 0..10 {
        rs.push(result(1, t0() + Duration::minutes(m), true));
        rs.push(result(2, t0() + Duration::minutes(m), m % 2 == 0));
    }
    let mut other = result(1, t0(), true);
    other.tenant = "other".into();
    rs.push(other);
    record(&*store, &rs).await;
    let q = CheckQuery {
        tenant: T.into(),
        site_id: Some(2),
        since: Some(t0() + Duration::minutes(2)),
        until: Some(t0() + Duration::minutes(8)),
        newest_first: false,
    };
    let mut got = Vec::new();
    let mut page = PageRequest::first(4);
    loop {
        let p = store.list_checks(&q, &page).await.expect("list");
        assert!(p.items.len() <= 4);
        got.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    let times: Vec<i64> = got.iter().map(|r| (r.checked_at - t0()).num_minutes()).collect();
    assert_eq!(times, vec![2, 3, 4, 5, 6, 7], "since inclusive, until exclusive, oldest first");
    assert!(got.iter().all(|r| r.site_id == 2 && r.tenant == T));
    let all = all_checks(&*store, 100).await;
    assert_eq!(all.len(), 20, "the other tenant's result is not listed");
}

/// The newest result of each site, whatever the insertion order.
pub async fn latest_check_per_site<S: SuiteStore>(store: Arc<S>) {
    let later = result(1, t0() + Duration::minutes(5), false);
    record(&*store, &[later.clone(), result(2, t0(), true)]).await;
    record(&*store, &[result(1, t0(), true)]).await;
    let latest = store.latest_checks(T).await.expect("latest");
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0], later, "site 1's newest result although it was recorded first");
    assert_eq!(latest[1].site_id, 2);
    assert!(store.latest_checks("other").await.expect("latest").is_empty());
}

/// Every field survives storage exactly (float, optional times, conditions, affected list).
pub async fn result_fields_round_trip<S: SuiteStore>(store: Arc<S>) {
    let mut r = result(5, t0(), false);
    r.status_code = Some(503);
    r.response_time_ms = Some(1_234.567_891);
    r.has_regexp = Some(false);
    r.cert_expires_at = Some("2027-01-01T00:00:00Z".parse().expect("time"));
    r.conditions = vec![
        ConditionResult { condition: "[STATUS] == 200".into(), success: false },
        ConditionResult { condition: "[RESPONSE_TIME] < 5000".into(), success: true },
    ];
    r.body_truncated = true;
    r.affected =
        vec![AffectedResource { key: ResourceKey::new(T, "file", Kind::APPLICATION, "shop"), name: "Shop".into() }];
    let mut plain = result(6, t0(), true);
    plain.error = None;
    record(&*store, &[r.clone(), plain.clone()]).await;
    let got = all_checks(&*store, 10).await;
    assert_eq!(got, vec![r, plain]);
}

/// Newest first: every result of the site once, most recently recorded first, across pages;
/// the other site and tenant stay out.
pub async fn list_checks_newest_first_pages<S: SuiteStore>(store: Arc<S>) {
    let mut rs = Vec::new();
    for m in 0..7 {
        rs.push(result(1, t0() + Duration::minutes(m), true));
        rs.push(result(2, t0() + Duration::minutes(m), true));
    }
    let mut other = result(1, t0() + Duration::minutes(30), true);
    other.tenant = "other".into();
    rs.push(other);
    record(&*store, &rs).await;
    let q = CheckQuery { tenant: T.into(), site_id: Some(1), newest_first: true, ..Default::default() };
    let mut got = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let p = store.list_checks(&q, &page).await.expect("list");
        assert!(p.items.len() <= 3);
        got.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    let times: Vec<i64> = got.iter().map(|r| (r.checked_at - t0()).num_minutes()).collect();
    assert_eq!(times, vec![6, 5, 4, 3, 2, 1, 0], "newest first, each once");
    assert!(got.iter().all(|r| r.site_id == 1 && r.tenant == T));
}

/// Counts by outcome and the newest result per existing site; results of deleted sites and of
/// results without a site are left out.
pub async fn check_stats_count_and_keep_the_newest<S: SuiteStore>(store: Arc<S>) {
    let a = store.create_site(&site("https://a.test/")).await.expect("create");
    let b = store.create_site(&site("https://b.test/")).await.expect("create");
    let gone = store.create_site(&site("https://gone.test/")).await.expect("create");
    let newest = result(a.id, t0() + Duration::minutes(5), false);
    record(&*store, &[newest.clone(), result(a.id, t0(), true), result(a.id, t0() + Duration::minutes(1), true)]).await;
    record(&*store, &[result(b.id, t0(), true), result(gone.id, t0(), true), result(9999, t0(), true)]).await;
    assert!(store.delete_site(T, gone.id).await.expect("delete"));
    let stats = store.check_stats().await.expect("stats");
    assert_eq!(stats.len(), 2, "{stats:?}");
    assert_eq!((stats[0].tenant.as_str(), stats[0].site_id), (T, a.id));
    assert_eq!((stats[0].successes, stats[0].failures), (2, 1));
    assert_eq!(stats[0].last, newest, "the newest result although it was recorded first");
    assert_eq!((stats[1].site_id, stats[1].successes, stats[1].failures), (b.id, 1, 0));
    assert!(stats[1].last.success);
}
