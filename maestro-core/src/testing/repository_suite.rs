//! The repository test suite every backend runs: the same cases, the same assertions.
//!
//! ```text
//! maestro_core::repository_suite!(my_store_factory());
//! ```
//! expands to one `#[tokio::test]` per case, each with a fresh store from the factory expression
//! (an `async` expression giving an `Arc<S>` where `S: Store + FaultInjection`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{FaultInjection, RecordingPublisher};
use crate::checksum::checksum_of;
use crate::clock::FakeClock;
use crate::event::kinds;
use crate::layers::RetryPolicy;
use crate::model::{Document, Kind, PreparedResource, Relation, ResourceKey, Scope};
use crate::pipeline::{RunReport, RunStats, RunStatus};
use crate::relay::{OutboxRelay, RelayConfig};
use crate::repository::*;
use crate::tracker::{SeenSet, SweepPolicy, Tracker};

/// Generate one `#[tokio::test]` per suite case, each with a fresh store from `$make`.
#[macro_export]
macro_rules! repository_suite {
    ($make:expr) => {
        $crate::repository_suite!(@cases $make;
            created_unchanged_updated_and_history,
            unchanged_items_cost_no_write,
            user_fields_survive_resync,
            sweep_deactivates_only_unseen_in_its_scope,
            reappearing_resource_is_reactivated,
            grace_policy_counts_misses,
            overlapping_runs_do_not_corrupt_each_other,
            superseded_run_changes_nothing,
            empty_complete_scope_deactivates_everything,
            tenants_are_isolated,
            listing_paginates_and_filters_without_caps,
            raw_listing_matches_decoded_listing,
            history_time_window_and_inventory_as_of,
            duplicate_keys_in_a_batch_last_wins,
            interrupted_batch_leaves_store_as_before,
            runs_are_recorded_with_an_event,
            runs_are_listed_newest_first_per_tenant,
            outbox_delivers_in_order_once,
            outbox_keeps_events_while_sink_is_down,
            outbox_dead_letters_and_replays,
            outbox_lease_excludes_a_second_relay,
            leases_have_one_holder_and_expire,
            related_walks_relations_in_the_store,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::testing::repository_suite::$case(store).await;
            }
        )*
    };
}

const T: &str = "tenant-a";
const C: &str = "conn-1";

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).single().expect("valid time")
}

/// A prepared server with `attrs`, checksummed from its own JSON.
pub fn prep(id: &str, name: &str, attrs: Value) -> PreparedResource {
    prep_kind(Kind::SERVER, id, name, attrs)
}

/// A prepared resource of `kind`.
pub fn prep_kind(kind: Kind, id: &str, name: &str, attrs: Value) -> PreparedResource {
    let raw = json!({"id": id, "name": name, "kind": kind, "attrs": attrs});
    let mut doc = Document { name: name.into(), ..Document::default() };
    doc.attributes = attrs.as_object().cloned().unwrap_or_default();
    PreparedResource { kind, native_id: id.into(), doc, checksum: checksum_of(&raw, &[], "test") }
}

async fn upsert<S: Store + ?Sized>(s: &S, scope: &str, at: DateTime<Utc>, items: &[PreparedResource]) -> ChangeSet {
    s.upsert_batch(UpsertBatch { tenant: T, connection: C, scope, run_id: Uuid::now_v7(), at, items })
        .await
        .expect("upsert")
}

async fn complete<S: Store + ?Sized>(
    s: &S,
    task: &str,
    started: DateTime<Utc>,
    at: DateTime<Utc>,
    seen: &[&str],
    policy: SweepPolicy,
) -> SweepOutcome {
    let mut set = SeenSet::new();
    for id in seen {
        set.mark_seen(&Kind::SERVER, id);
    }
    let scope = Scope::new(T, C, task, None);
    s.complete_scope(SweepRequest {
        scope: &scope,
        run_id: Uuid::now_v7(),
        run_started: started,
        at,
        seen: &set,
        policy,
    })
    .await
    .expect("complete_scope")
}

async fn all<S: Store + ?Sized>(s: &S, filter: &ResourceFilter) -> Vec<crate::model::Resource> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(7);
    loop {
        let p = s.list_resources(filter, &page).await.expect("list");
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return out,
        }
    }
}

async fn changes<S: Store + ?Sized>(s: &S, key: Option<ResourceKey>) -> Vec<Change> {
    let q = HistoryQuery { tenant: T.into(), key, since: None, until: None };
    let mut out = Vec::new();
    let mut page = PageRequest::first(5);
    loop {
        let p = s.history(&q, &page).await.expect("history");
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return out,
        }
    }
}

async fn events<S: Store + ?Sized>(s: &S) -> Vec<StoredEvent> {
    s.events_after(OutboxCursor::default(), 100_000).await.expect("events")
}

fn key(id: &str) -> ResourceKey {
    ResourceKey::new(T, C, Kind::SERVER, id)
}

async fn get<S: Store + ?Sized>(s: &S, id: &str) -> crate::model::Resource {
    s.get_resource(&key(id)).await.expect("get").unwrap_or_else(|| panic!("resource {id} missing"))
}

/// Create, re-sync unchanged, update one: counts, diff, history and events.
pub async fn created_unchanged_updated_and_history<S: Store + FaultInjection>(s: Arc<S>) {
    let items = vec![
        prep("i-1", "web-1", json!({"cpu": 2})),
        prep("i-2", "web-2", json!({"cpu": 4})),
        prep("i-3", "db", json!({"cpu": 8, "encrypted": false})),
    ];
    let cs = upsert(&*s, "servers", t(0), &items).await;
    assert_eq!((cs.created, cs.updated, cs.unchanged, cs.reactivated), (3, 0, 0, 0));
    assert!(cs.changes.iter().all(|c| c.op == ChangeOp::Created));
    let cs = upsert(&*s, "servers", t(10), &items).await;
    assert_eq!((cs.created, cs.updated, cs.unchanged), (0, 0, 3));
    assert!(cs.changes.is_empty());
    let mut changed = items.clone();
    changed[1] = prep("i-2", "web-2", json!({"cpu": 4, "state": "stopped"}));
    let cs = upsert(&*s, "servers", t(20), &changed).await;
    assert_eq!((cs.created, cs.updated, cs.unchanged), (0, 1, 2));
    assert_eq!(cs.changes[0].native_id, "i-2");
    assert_eq!(cs.changes[0].diff.len(), 1);
    assert_eq!(cs.changes[0].diff[0].path, "/attributes/state");
    assert_eq!(cs.changes[0].diff[0].new, Some(json!("stopped")));
    let r = get(&*s, "i-2").await;
    assert_eq!(r.doc.attributes["state"], json!("stopped"));
    assert_eq!(r.version, 2);
    assert_eq!(r.first_seen, t(0));
    let r3 = get(&*s, "i-3").await;
    assert_eq!(r3.doc.attributes["encrypted"], json!(false), "falsy values are kept");
    let h = changes(&*s, None).await;
    let ops: Vec<_> = h.iter().map(|c| c.op).collect();
    assert_eq!(ops, vec![ChangeOp::Created, ChangeOp::Created, ChangeOp::Created, ChangeOp::Updated]);
    let ev = events(&*s).await;
    let kinds_seen: Vec<&str> = ev.iter().map(|e| e.event.kind.as_str()).collect();
    assert_eq!(
        kinds_seen,
        vec![kinds::RESOURCE_CREATED, kinds::RESOURCE_CREATED, kinds::RESOURCE_CREATED, kinds::RESOURCE_UPDATED]
    );
    assert!(ev.windows(2).all(|w| w[0].position < w[1].position), "outbox positions increase");
    let ids: std::collections::HashSet<_> = ev.iter().map(|e| e.event.id).collect();
    assert_eq!(ids.len(), ev.len(), "event ids are unique");
    assert_eq!(ev[3].event.payload["diff"][0]["path"], json!("/attributes/state"));
    assert_eq!(ev[0].event.payload["document"]["name"], json!("web-1"));
}

/// Re-syncing identical items writes nothing: no history, no events, no version bump.
pub async fn unchanged_items_cost_no_write<S: Store + FaultInjection>(s: Arc<S>) {
    let items: Vec<_> = (0..50).map(|i| prep(&format!("i-{i}"), "n", json!({"i": i}))).collect();
    upsert(&*s, "servers", t(0), &items).await;
    let before_events = events(&*s).await.len();
    let before_hist = changes(&*s, None).await.len();
    let r_before = get(&*s, "i-7").await;
    for round in 1..4 {
        let cs = upsert(&*s, "servers", t(round * 10), &items).await;
        assert_eq!(cs.unchanged, 50);
    }
    assert_eq!(events(&*s).await.len(), before_events);
    assert_eq!(changes(&*s, None).await.len(), before_hist);
    let r_after = get(&*s, "i-7").await;
    assert_eq!(r_after.version, r_before.version);
    assert_eq!(r_after.updated_at, r_before.updated_at, "no write touched the row");
}

/// User-owned fields survive provider re-syncs (changed or not).
pub async fn user_fields_survive_resync<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("i-1", "web", json!({"cpu": 1}))]).await;
    let mut f = serde_json::Map::new();
    f.insert("owner".into(), json!("team-blue"));
    f.insert("note".into(), json!("keep me"));
    s.set_user_fields(&key("i-1"), f).await.expect("set user fields");
    upsert(&*s, "servers", t(10), &[prep("i-1", "web", json!({"cpu": 2}))]).await;
    let r = get(&*s, "i-1").await;
    assert_eq!(r.doc.attributes["cpu"], json!(2));
    assert_eq!(r.user_fields["owner"], json!("team-blue"));
    let mut rm = serde_json::Map::new();
    rm.insert("note".into(), Value::Null);
    s.set_user_fields(&key("i-1"), rm).await.expect("remove user field");
    let r = get(&*s, "i-1").await;
    assert!(!r.user_fields.contains_key("note"));
    assert!(r.user_fields.contains_key("owner"));
    let missing = s.set_user_fields(&key("nope"), serde_json::Map::new()).await;
    assert!(missing.is_err(), "setting fields of a missing resource is an error");
}

/// A complete scope deactivates exactly its unseen resources, nothing in other scopes.
pub async fn sweep_deactivates_only_unseen_in_its_scope<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers@eu", t(0), &[prep("a", "a", json!({})), prep("b", "b", json!({})), prep("c", "c", json!({}))])
        .await;
    upsert(&*s, "servers@us", t(0), &[prep("x", "x", json!({}))]).await;
    let out = complete(&*s, "servers@eu", t(5), t(6), &["a", "c"], SweepPolicy::default()).await;
    assert_eq!(out.deactivated, 1);
    assert!(!out.superseded);
    let b = get(&*s, "b").await;
    assert!(!b.active);
    assert_eq!(b.missing_since, Some(t(6)));
    assert!(get(&*s, "a").await.active);
    assert!(get(&*s, "x").await.active, "other scopes are untouched");
    let h = changes(&*s, Some(key("b"))).await;
    assert_eq!(h.last().map(|c| c.op), Some(ChangeOp::Deactivated));
    let ev = events(&*s).await;
    let deact: Vec<_> = ev.iter().filter(|e| e.event.kind == kinds::RESOURCE_DEACTIVATED).collect();
    assert_eq!(deact.len(), 1);
    assert_eq!(deact[0].event.payload["key"]["native_id"], json!("b"));
    let inactive = all(&*s, &ResourceFilter::tenant(T).active(false)).await;
    assert_eq!(inactive.len(), 1);
    // Seen resources get last_seen = completion time without a write.
    let a = get(&*s, "a").await;
    assert_eq!(a.last_seen, t(6));
}

/// A deactivated resource seen again is reactivated (with history and event).
pub async fn reappearing_resource_is_reactivated<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("a", "a", json!({})), prep("b", "b", json!({}))]).await;
    complete(&*s, "servers", t(1), t(2), &["a"], SweepPolicy::default()).await;
    assert!(!get(&*s, "b").await.active);
    let cs = upsert(&*s, "servers", t(10), &[prep("a", "a", json!({})), prep("b", "b", json!({}))]).await;
    assert_eq!((cs.reactivated, cs.unchanged), (1, 1));
    let b = get(&*s, "b").await;
    assert!(b.active);
    assert_eq!(b.missing_since, None);
    let ops: Vec<_> = changes(&*s, Some(key("b"))).await.iter().map(|c| c.op).collect();
    assert_eq!(ops, vec![ChangeOp::Created, ChangeOp::Deactivated, ChangeOp::Reactivated]);
    assert!(events(&*s).await.iter().any(|e| e.event.kind == kinds::RESOURCE_REACTIVATED));
}

/// With a grace of 2 runs the first miss only counts; the second deactivates; a sighting resets.
pub async fn grace_policy_counts_misses<S: Store + FaultInjection>(s: Arc<S>) {
    let p = SweepPolicy { deactivate_after_missed_runs: 2 };
    upsert(&*s, "servers", t(0), &[prep("a", "a", json!({})), prep("b", "b", json!({}))]).await;
    let o1 = complete(&*s, "servers", t(1), t(2), &["a"], p).await;
    assert_eq!((o1.missed, o1.deactivated), (1, 0));
    assert!(get(&*s, "b").await.active);
    assert_eq!(get(&*s, "b").await.missed_runs, 1);
    // b comes back: the miss count is cleared (one bookkeeping write, no history).
    let cs = upsert(&*s, "servers", t(10), &[prep("b", "b", json!({}))]).await;
    assert_eq!(cs.unchanged, 1);
    assert_eq!(get(&*s, "b").await.missed_runs, 0);
    let o2 = complete(&*s, "servers", t(11), t(12), &["a"], p).await;
    assert_eq!((o2.missed, o2.deactivated), (1, 0));
    let o3 = complete(&*s, "servers", t(21), t(22), &["a"], p).await;
    assert_eq!((o3.missed, o3.deactivated), (0, 1));
    assert!(!get(&*s, "b").await.active);
}

/// Run A starts, run B starts later and creates `new`; A completes without having seen `new`:
/// `new` stays active. A deactivates `y` that B saw; B completes later and reactivates it.
pub async fn overlapping_runs_do_not_corrupt_each_other<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("x", "x", json!({})), prep("y", "y", json!({}))]).await;
    let a_started = t(10);
    let b_started = t(11);
    // B sees x, y and a new resource.
    upsert(
        &*s,
        "servers",
        t(12),
        &[prep("x", "x", json!({})), prep("y", "y", json!({})), prep("new", "new", json!({}))],
    )
    .await;
    // A saw only x (y was briefly gone for A) and completes first.
    let oa = complete(&*s, "servers", a_started, t(13), &["x"], SweepPolicy::default()).await;
    assert_eq!(oa.deactivated, 1, "A deactivates y (unchanged rows are not written, so A cannot tell B saw it)");
    assert!(get(&*s, "new").await.active, "a row written after A started is left alone");
    // B completes: it saw y, which is now inactive, so it reactivates it.
    let ob = complete(&*s, "servers", b_started, t(14), &["x", "y", "new"], SweepPolicy::default()).await;
    assert_eq!(ob.reactivated, 1);
    assert!(get(&*s, "y").await.active);
    assert!(get(&*s, "x").await.active);
}

/// A run whose scope was already completed by a later-started run changes nothing.
pub async fn superseded_run_changes_nothing<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("x", "x", json!({})), prep("y", "y", json!({}))]).await;
    let newer = complete(&*s, "servers", t(20), t(21), &["x", "y"], SweepPolicy::default()).await;
    assert!(!newer.superseded);
    let older = complete(&*s, "servers", t(10), t(22), &[], SweepPolicy::default()).await;
    assert!(older.superseded);
    assert_eq!(older.deactivated, 0);
    assert!(get(&*s, "x").await.active && get(&*s, "y").await.active);
}

/// A successful empty result deactivates the whole scope.
pub async fn empty_complete_scope_deactivates_everything<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("x", "x", json!({})), prep("y", "y", json!({}))]).await;
    let out = complete(&*s, "servers", t(10), t(11), &[], SweepPolicy::default()).await;
    assert_eq!(out.deactivated, 2);
    assert!(all(&*s, &ResourceFilter::tenant(T).active(true)).await.is_empty());
}

/// The same native id in two tenants is two resources; reads never cross tenants.
pub async fn tenants_are_isolated<S: Store + FaultInjection>(s: Arc<S>) {
    let it = [prep("i-1", "mine", json!({"v": 1}))];
    s.upsert_batch(UpsertBatch {
        tenant: "t1",
        connection: C,
        scope: "servers",
        run_id: Uuid::now_v7(),
        at: t(0),
        items: &it,
    })
    .await
    .expect("t1");
    let other = [prep("i-1", "theirs", json!({"v": 2}))];
    let cs = s
        .upsert_batch(UpsertBatch {
            tenant: "t2",
            connection: C,
            scope: "servers",
            run_id: Uuid::now_v7(),
            at: t(1),
            items: &other,
        })
        .await
        .expect("t2");
    assert_eq!(cs.created, 1, "another tenant's id does not match mine");
    let r1 = s.get_resource(&ResourceKey::new("t1", C, Kind::SERVER, "i-1")).await.expect("get").expect("t1 row");
    assert_eq!(r1.doc.name, "mine");
    let l1 = all(&*s, &ResourceFilter::tenant("t1")).await;
    assert_eq!(l1.len(), 1);
    assert_eq!(l1[0].key.tenant, "t1");
    let h2 = s
        .history(&HistoryQuery { tenant: "t2".into(), ..HistoryQuery::default() }, &PageRequest::first(100))
        .await
        .expect("history");
    assert_eq!(h2.items.len(), 1);
    // A sweep of t2's scope does not touch t1.
    let scope = Scope::new("t2", C, "servers", None);
    s.complete_scope(SweepRequest {
        scope: &scope,
        run_id: Uuid::now_v7(),
        run_started: t(5),
        at: t(6),
        seen: &SeenSet::new(),
        policy: SweepPolicy::default(),
    })
    .await
    .expect("sweep");
    assert!(s.get_resource(&ResourceKey::new("t1", C, Kind::SERVER, "i-1")).await.expect("get").expect("row").active);
}

/// Pages cover everything exactly once; filters combine.
pub async fn listing_paginates_and_filters_without_caps<S: Store + FaultInjection>(s: Arc<S>) {
    let mut items = Vec::new();
    for i in 0..230 {
        let mut p = prep(&format!("i-{i:03}"), &format!("Web-{i}"), json!({"i": i}));
        if i % 3 == 0 {
            p.doc.tags.insert("env".into(), "prod".into());
        }
        items.push(p);
    }
    for i in 0..20 {
        items.push(prep_kind(Kind::VOLUME, &format!("vol-{i}"), &format!("disk-{i}"), json!({})));
    }
    for chunk in items.chunks(100) {
        upsert(&*s, "mixed", t(0), chunk).await;
    }
    let everything = all(&*s, &ResourceFilter::tenant(T)).await;
    assert_eq!(everything.len(), 250, "no silent cap");
    let distinct: std::collections::HashSet<_> = everything.iter().map(|r| r.key.clone()).collect();
    assert_eq!(distinct.len(), 250);
    assert_eq!(all(&*s, &ResourceFilter::tenant(T).kind(Kind::VOLUME)).await.len(), 20);
    let prod = ResourceFilter { tag: Some(("env".into(), Some("prod".into()))), ..ResourceFilter::tenant(T) };
    assert_eq!(all(&*s, &prod).await.len(), 77);
    let any_env = ResourceFilter { tag: Some(("env".into(), None)), ..ResourceFilter::tenant(T) };
    assert_eq!(all(&*s, &any_env).await.len(), 77);
    let text = ResourceFilter { text: Some("web-22".into()), ..ResourceFilter::tenant(T) };
    let names: Vec<String> = all(&*s, &text).await.into_iter().map(|r| r.doc.name).collect();
    assert_eq!(
        names,
        vec![
            "Web-22", "Web-220", "Web-221", "Web-222", "Web-223", "Web-224", "Web-225", "Web-226", "Web-227",
            "Web-228", "Web-229"
        ]
    );
    assert!(s.list_resources(&ResourceFilter::tenant(T), &PageRequest::first(0)).await.is_err(), "limit 0 is rejected");
    let bad = PageRequest { after: Some("not-a-cursor".into()), limit: 10 };
    assert!(s.list_resources(&ResourceFilter::tenant(T), &bad).await.is_err(), "a bad cursor is rejected");
}

/// `list_resources_raw` gives the same page as `list_resources`: same rows, same cursor, and JSON
/// text that parses to the same values (key order included for stores that keep it).
pub async fn raw_listing_matches_decoded_listing<S: Store + FaultInjection>(s: Arc<S>) {
    let mut items = Vec::new();
    for i in 0..11 {
        let attrs = json!({"zeta": i, "alpha": {"b": [1, 2.5, null], "a": "tab\tquote\"é"}, "mid": i % 2 == 0});
        // Control characters (including the raw listing's separators), quotes and backslashes
        // in the name and the id must come back as they went in.
        let mut p = prep(&format!("i-{i:02}/\u{1e}"), &format!("Wéb \"{i}\"\u{1f}\u{1e}\n\\"), attrs);
        p.doc.tags.insert("env".into(), if i % 2 == 0 { "prod" } else { "dev" }.into());
        p.doc.tags.insert("Name".into(), format!("web-{i}"));
        p.doc.relations.push(Relation::new("in_subnet", Kind::new("network"), format!("subnet-{}", i % 3)));
        items.push(p);
    }
    upsert(&*s, "servers", t(0), &items).await;
    let mut f = serde_json::Map::new();
    f.insert("owner".into(), json!("team-blue"));
    s.set_user_fields(&key("i-03/\u{1e}"), f).await.expect("set user fields");
    // i-10 is not seen again: the sweep deactivates it; the others get the sweep's last_seen.
    let seen: Vec<String> = (0..10).map(|i| format!("i-{i:02}/\u{1e}")).collect();
    let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
    complete(&*s, "servers", t(5), t(20), &seen, SweepPolicy::default()).await;

    let prod = ResourceFilter { tag: Some(("env".into(), Some("prod".into()))), ..ResourceFilter::tenant(T) };
    let inactive = ResourceFilter { active: Some(false), ..ResourceFilter::tenant(T) };
    let text = ResourceFilter { text: Some("B \"1".into()), ..ResourceFilter::tenant(T) };
    for filter in [ResourceFilter::tenant(T), prod, inactive, text] {
        let mut page = PageRequest::first(3);
        let mut pages = 0;
        loop {
            let decoded = s.list_resources(&filter, &page).await.expect("list");
            let raw = s.list_resources_raw(&filter, &page).await.expect("list raw");
            assert_eq!(raw.next, decoded.next, "same cursor for {filter:?}");
            assert_eq!(raw.items.len(), decoded.items.len(), "same rows for {filter:?}");
            for (r, d) in raw.items.iter().zip(decoded.items) {
                let want = RawResource::from_resource(d);
                assert_eq!((&r.key, &r.scope, r.active, &r.name), (&want.key, &want.scope, want.active, &want.name));
                assert_eq!(
                    (r.first_seen, r.last_seen, r.missing_since, r.version),
                    (want.first_seen, want.last_seen, want.missing_since, want.version),
                    "{}",
                    r.key
                );
                for (got, want) in [
                    (&r.attributes_json, &want.attributes_json),
                    (&r.relations_json, &want.relations_json),
                    (&r.tags_json, &want.tags_json),
                    (&r.user_fields_json, &want.user_fields_json),
                ] {
                    let got: Value = serde_json::from_str(got).expect("raw part is JSON");
                    let want: Value = serde_json::from_str(want).expect("encoded part is JSON");
                    assert_eq!(got, want, "{}", r.key);
                }
            }
            pages += 1;
            match raw.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        assert!(pages >= 1);
    }
    let owned = s.list_resources_raw(&ResourceFilter::tenant(T), &PageRequest::first(20)).await.expect("list raw");
    assert_eq!(owned.items.len(), 11);
    assert_eq!(owned.items[0].name, "Wéb \"0\"\u{1f}\u{1e}\n\\");
    assert_eq!(owned.items[0].key, key("i-00/\u{1e}"));
    assert_eq!(
        serde_json::from_str::<Value>(&owned.items[3].user_fields_json).expect("json"),
        json!({"owner": "team-blue"})
    );
    assert!(!owned.items[10].active, "the unseen resource is inactive");
    assert!(owned.items[0].last_seen > t(0), "a swept resource's last_seen is the sweep's");
    assert!(
        s.list_resources_raw(&ResourceFilter::tenant(T), &PageRequest::first(0)).await.is_err(),
        "limit 0 is rejected"
    );
    let bad = PageRequest { after: Some("not-a-cursor".into()), limit: 10 };
    assert!(s.list_resources_raw(&ResourceFilter::tenant(T), &bad).await.is_err(), "a bad cursor is rejected");
}

/// History by time window; the inventory as of a past time.
pub async fn history_time_window_and_inventory_as_of<S: Store + FaultInjection>(s: Arc<S>) {
    upsert(&*s, "servers", t(0), &[prep("a", "a", json!({"size": 1})), prep("b", "b", json!({}))]).await;
    upsert(&*s, "servers", t(100), &[prep("a", "a2", json!({"size": 2})), prep("b", "b", json!({}))]).await;
    complete(&*s, "servers", t(150), t(200), &["a"], SweepPolicy::default()).await;
    upsert(&*s, "servers", t(300), &[prep("c", "c", json!({}))]).await;
    let window = HistoryQuery { tenant: T.into(), key: None, since: Some(t(100)), until: Some(t(300)) };
    let h = s.history(&window, &PageRequest::first(100)).await.expect("history").items;
    let ops: Vec<_> = h.iter().map(|c| (c.key.native_id.as_str(), c.op)).collect();
    assert_eq!(ops, vec![("a", ChangeOp::Updated), ("b", ChangeOp::Deactivated)]);
    // As of t(50): a with size 1 and name a, b active, c not yet there.
    let past =
        s.inventory_as_of(&ResourceFilter::tenant(T), t(50), &PageRequest::first(100)).await.expect("as of").items;
    let mut got: Vec<(String, String, bool, Value)> = past
        .iter()
        .map(|r| {
            (
                r.key.native_id.clone(),
                r.doc.name.clone(),
                r.active,
                r.doc.attributes.get("size").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, vec![("a".into(), "a".into(), true, json!(1)), ("b".into(), "b".into(), true, Value::Null)]);
    // As of t(250): b inactive; a renamed.
    let active_then = s
        .inventory_as_of(&ResourceFilter::tenant(T).active(true), t(250), &PageRequest::first(100))
        .await
        .expect("as of")
        .items;
    let names: Vec<_> = active_then.iter().map(|r| r.doc.name.as_str()).collect();
    assert_eq!(names, vec!["a2"]);
}

/// A batch naming the same resource twice keeps the last version.
pub async fn duplicate_keys_in_a_batch_last_wins<S: Store + FaultInjection>(s: Arc<S>) {
    let cs = upsert(&*s, "servers", t(0), &[prep("a", "first", json!({})), prep("a", "second", json!({}))]).await;
    assert_eq!(cs.created, 1);
    assert_eq!(get(&*s, "a").await.doc.name, "second");
}

/// A batch interrupted mid-way leaves no trace; re-running it gives the same store as a clean run.
pub async fn interrupted_batch_leaves_store_as_before<S: Store + FaultInjection>(s: Arc<S>) {
    let base: Vec<_> = (0..10).map(|i| prep(&format!("i-{i}"), "n", json!({"v": 0}))).collect();
    upsert(&*s, "servers", t(0), &base).await;
    let snapshot = |rs: Vec<crate::model::Resource>| {
        rs.into_iter().map(|r| (r.key.native_id, r.doc, r.version, r.active)).collect::<Vec<_>>()
    };
    let before = snapshot(all(&*s, &ResourceFilter::tenant(T)).await);
    let hist_before = changes(&*s, None).await.len();
    let ev_before = events(&*s).await.len();
    let mut next: Vec<_> = (0..10).map(|i| prep(&format!("i-{i}"), "n", json!({"v": 1}))).collect();
    next.extend((10..15).map(|i| prep(&format!("i-{i}"), "n", json!({"v": 1}))));
    s.fail_next_batch_after(7);
    let err = s
        .upsert_batch(UpsertBatch {
            tenant: T,
            connection: C,
            scope: "servers",
            run_id: Uuid::now_v7(),
            at: t(10),
            items: &next,
        })
        .await;
    assert!(err.is_err(), "the injected fault fails the batch");
    assert_eq!(snapshot(all(&*s, &ResourceFilter::tenant(T)).await), before, "nothing of the batch was kept");
    assert_eq!(changes(&*s, None).await.len(), hist_before);
    assert_eq!(events(&*s).await.len(), ev_before);
    let cs = upsert(&*s, "servers", t(10), &next).await;
    assert_eq!((cs.created, cs.updated), (5, 10));
    let after = all(&*s, &ResourceFilter::tenant(T)).await;
    assert_eq!(after.len(), 15);
    assert!(after.iter().all(|r| r.doc.attributes["v"] == json!(1)));
    assert!(after.iter().all(|r| r.version == if r.first_seen == t(0) { 2 } else { 1 }));
    assert_eq!(changes(&*s, None).await.len(), hist_before + 15);
    assert_eq!(events(&*s).await.len(), ev_before + 15);
}

/// A run report round-trips and emits `run.finished`.
pub async fn runs_are_recorded_with_an_event<S: Store + FaultInjection>(s: Arc<S>) {
    let report = RunReport {
        run_id: Uuid::now_v7(),
        tenant: T.into(),
        connection: C.into(),
        provider: "file".into(),
        started_at: t(0),
        finished_at: t(5),
        status: RunStatus::Partial,
        error: None,
        scopes: Vec::new(),
        stats: RunStats { items: 10, ..RunStats::default() },
    };
    s.record_run(&report).await.expect("record");
    let back = s.get_run(report.run_id).await.expect("get").expect("stored");
    assert_eq!(back, report);
    assert!(s.get_run(Uuid::now_v7()).await.expect("get").is_none());
    let ev = events(&*s).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].event.kind, kinds::RUN_FINISHED);
    assert_eq!(ev[0].event.payload["status"], json!("partial"));
}

/// Run reports list newest first, per tenant, in pages that lose nothing.
pub async fn runs_are_listed_newest_first_per_tenant<S: Store + FaultInjection>(s: Arc<S>) {
    let mut ids = Vec::new();
    for (i, tenant) in ["tenant-a", "tenant-a", "tenant-b", "tenant-a", "tenant-a", "tenant-a"].iter().enumerate() {
        let report = RunReport {
            run_id: Uuid::now_v7(),
            tenant: (*tenant).into(),
            connection: C.into(),
            provider: "file".into(),
            started_at: t(i as i64),
            finished_at: t(i as i64 + 1),
            status: RunStatus::Complete,
            error: None,
            scopes: Vec::new(),
            stats: RunStats::default(),
        };
        if *tenant == T {
            ids.push(report.run_id);
        }
        s.record_run(&report).await.expect("record");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = s.list_runs(T, &page).await.expect("list runs");
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|r| r.run_id));
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every run of the tenant, newest first, none of another tenant");
    let other = s.list_runs("tenant-b", &PageRequest::first(10)).await.expect("list runs");
    assert_eq!(other.items.len(), 1);
    assert!(s.list_runs(T, &PageRequest::first(0)).await.is_err(), "a zero limit is refused");
}

fn relay_config() -> RelayConfig {
    RelayConfig {
        batch_size: 7,
        lease_secs: 30,
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
            jitter: 0.0,
        },
        idle_poll_ms: 10,
    }
}

async fn seed_events<S: Store + ?Sized>(s: &S, n: usize) {
    let items: Vec<_> = (0..n).map(|i| prep(&format!("e-{i:03}"), "n", json!({}))).collect();
    upsert(s, "servers", t(0), &items).await;
}

/// The relay delivers every event once, in outbox order.
pub async fn outbox_delivers_in_order_once<S: Store + FaultInjection + 'static>(s: Arc<S>) {
    seed_events(&*s, 20).await;
    let publisher = Arc::new(RecordingPublisher::new("sink-a"));
    let relay = OutboxRelay::new(s.clone(), publisher.clone()).with_config(relay_config());
    let pass = relay.drain().await.expect("drain");
    assert_eq!(pass.delivered, 20);
    assert!(pass.idle);
    let again = relay.drain().await.expect("drain again");
    assert_eq!(again.delivered, 0);
    let got: Vec<_> = publisher.received().iter().map(|e| e.id).collect();
    let want: Vec<_> = events(&*s).await.iter().map(|e| e.event.id).collect();
    assert_eq!(got, want);
    let st = s.outbox_status().await.expect("status");
    let a = st.iter().find(|x| x.sink == "sink-a").expect("sink listed");
    assert_eq!((a.backlog, a.delivered, a.dead), (0, 20, 0));
}

/// While the sink is down nothing is lost and the backlog shows; after recovery each event is
/// delivered exactly once.
pub async fn outbox_keeps_events_while_sink_is_down<S: Store + FaultInjection + 'static>(s: Arc<S>) {
    seed_events(&*s, 12).await;
    let clock = FakeClock::new(t(0));
    let publisher = Arc::new(RecordingPublisher::new("sink-b"));
    let relay =
        OutboxRelay::new(s.clone(), publisher.clone()).with_config(relay_config()).with_clock(Arc::new(clock.clone()));
    publisher.set_down(true);
    let p = relay.run_once().await.expect("pass");
    assert!(p.failed);
    let p = relay.run_once().await.expect("pass");
    assert!(p.backing_off, "the relay waits for its backoff");
    let st = s.outbox_status().await.expect("status");
    let b = st.iter().find(|x| x.sink == "sink-b").expect("sink");
    assert_eq!(b.backlog, 12);
    assert!(b.last_error.as_deref().unwrap_or("").contains("down"));
    clock.advance(chrono::Duration::seconds(11));
    publisher.set_down(false);
    let p = relay.drain().await.expect("drain");
    assert_eq!(p.delivered, 12);
    let ids: std::collections::HashSet<_> = publisher.received().iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 12);
    assert_eq!(publisher.received().len(), 12, "no duplicates");
}

/// A rejected event is dead-lettered at once, one that keeps failing after `max_attempts`;
/// both can be listed and replayed; delivery continues past them.
pub async fn outbox_dead_letters_and_replays<S: Store + FaultInjection + 'static>(s: Arc<S>) {
    seed_events(&*s, 5).await;
    let all_events = events(&*s).await;
    let clock = FakeClock::new(t(0));
    let publisher = Arc::new(RecordingPublisher::new("sink-c"));
    publisher.reject(all_events[1].event.id);
    let relay =
        OutboxRelay::new(s.clone(), publisher.clone()).with_config(relay_config()).with_clock(Arc::new(clock.clone()));
    let p = relay.drain().await.expect("drain");
    assert_eq!(p.dead_lettered, 1);
    let p2 = relay.drain().await.expect("drain");
    assert_eq!(p.delivered + p2.delivered, 4);
    let dl = s.dead_letters(Some("sink-c"), &PageRequest::first(10)).await.expect("dead letters").items;
    assert_eq!(dl.len(), 1);
    assert_eq!(dl[0].event.id, all_events[1].event.id);
    assert!(dl[0].error.contains("rejected"));
    // A transient failure that never ends: dead after 3 attempts.
    seed_events(&*s, 6).await; // e-005 is new: one more created event
    publisher.set_down(true);
    for _ in 0..3 {
        relay.run_once().await.expect("pass");
        clock.advance(chrono::Duration::seconds(100));
    }
    let dl = s.dead_letters(Some("sink-c"), &PageRequest::first(10)).await.expect("dead letters").items;
    assert_eq!(dl.len(), 2, "the always-failing event is dead-lettered after max attempts");
    assert_eq!(dl[1].attempts, 3);
    // Replay both once the sink works again.
    publisher.set_down(false);
    publisher.accept_all();
    for d in &dl {
        s.request_replay(d.id).await.expect("replay");
    }
    let p = relay.run_once().await.expect("pass");
    assert_eq!(p.replayed, 2);
    let received: Vec<_> = publisher.received().iter().map(|e| e.id).collect();
    assert!(received.contains(&all_events[1].event.id));
    let st = s.outbox_status().await.expect("status");
    assert_eq!(st.iter().find(|x| x.sink == "sink-c").expect("sink").dead, 0);
    assert!(s.request_replay(9_999_999).await.is_err());
}

/// A second relay for the same sink is refused while the first holds the lease.
pub async fn outbox_lease_excludes_a_second_relay<S: Store + FaultInjection + 'static>(s: Arc<S>) {
    seed_events(&*s, 3).await;
    let now = Utc::now();
    s.claim_sink("sink-d", "owner-1", now, now + chrono::Duration::seconds(30)).await.expect("first claim");
    let second = s.claim_sink("sink-d", "owner-2", now, now + chrono::Duration::seconds(30)).await;
    assert!(matches!(second, Err(crate::StorageError::LeaseHeld(_))), "got {second:?}");
    let adv = s.advance("sink-d", "owner-2", OutboxCursor { txid: 0, seq: 1 }, 1).await;
    assert!(matches!(adv, Err(crate::StorageError::LeaseHeld(_))));
    // After expiry the second may take over.
    let later = now + chrono::Duration::seconds(31);
    s.claim_sink("sink-d", "owner-2", later, later + chrono::Duration::seconds(30))
        .await
        .expect("takeover after expiry");
}

/// A lease has one holder; others get it only after expiry or release; racing claims give one
/// winner.
pub async fn leases_have_one_holder_and_expire<S: Store + FaultInjection + 'static>(s: Arc<S>) {
    let now = t(0);
    let until = t(30);
    assert!(s.try_lease("beat", "a", now, until).await.expect("lease"));
    assert!(!s.try_lease("beat", "b", t(10), t(40)).await.expect("lease"), "held by a");
    assert!(s.try_lease("beat", "a", t(10), t(40)).await.expect("renew"), "the holder renews");
    assert_eq!(s.lease_holder("beat", t(11)).await.expect("holder"), Some(("a".to_string(), t(40))));
    assert!(s.try_lease("beat", "b", t(41), t(70)).await.expect("lease"), "expired leases can be taken");
    s.release_lease("beat", "a").await.expect("release by non-holder is a no-op");
    assert_eq!(s.lease_holder("beat", t(42)).await.expect("holder").map(|h| h.0), Some("b".to_string()));
    s.release_lease("beat", "b").await.expect("release");
    assert_eq!(s.lease_holder("beat", t(42)).await.expect("holder"), None);
    // Racing claims on a fresh lease: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(
            async move { s.try_lease("race", &format!("o{i}"), t(0), t(60)).await.expect("lease") },
        ));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.expect("join"));
    }
    assert_eq!(winners, 1);
}

fn app_with(id: &str, rel: &str, kind: Kind, targets: &[&str]) -> PreparedResource {
    let mut p = prep_kind(kind.clone(), id, id, json!({}));
    for t in targets {
        p.doc.relations.push(Relation::new(rel, if rel == "runs" { Kind::APPLICATION } else { kind.clone() }, *t));
    }
    p.checksum = checksum_of(&json!({"id": id, "rel": rel, "targets": targets}), &[], "test");
    p
}

fn walked(r: &[Reached]) -> Vec<(String, String, u32)> {
    r.iter().map(|x| (x.resource.key.connection.clone(), x.resource.key.native_id.clone(), x.depth)).collect()
}

/// `related`: a recursive walk with first-reach depths, cycles, a depth limit, incoming links,
/// inactive resources skipped unless asked, and no leak across connections or tenants.
pub async fn related_walks_relations_in_the_store<S: Store + FaultInjection>(s: Arc<S>) {
    let apps = vec![
        app_with("a", "depends_on", Kind::APPLICATION, &["b", "d"]),
        app_with("b", "depends_on", Kind::APPLICATION, &["c", "missing"]),
        app_with("c", "depends_on", Kind::APPLICATION, &["a"]),
        app_with("d", "depends_on", Kind::APPLICATION, &["e"]),
    ];
    upsert(&*s, "apps", t(0), &apps).await;
    // `e` lives in its own scope, so a sweep of that scope can deactivate it.
    upsert(&*s, "apps-old", t(0), &[app_with("e", "depends_on", Kind::APPLICATION, &["f"])]).await;
    upsert(&*s, "apps-old", t(0), &[app_with("f", "depends_on", Kind::APPLICATION, &[])]).await;
    let servers = vec![
        app_with("s1", "runs", Kind::SERVER, &["a"]),
        app_with("s2", "runs", Kind::SERVER, &["c"]),
        app_with("s3", "runs", Kind::SERVER, &["a", "c"]),
        app_with("s4", "runs", Kind::SERVER, &["d"]),
    ];
    upsert(&*s, "servers", t(0), &servers).await;
    // The same ids in another connection and another tenant must never be reached.
    let other =
        [app_with("b", "depends_on", Kind::APPLICATION, &["x"]), app_with("x", "depends_on", Kind::APPLICATION, &[])];
    s.upsert_batch(UpsertBatch {
        tenant: T,
        connection: "conn-2",
        scope: "apps",
        run_id: Uuid::now_v7(),
        at: t(0),
        items: &other,
    })
    .await
    .expect("upsert conn-2");
    s.upsert_batch(UpsertBatch {
        tenant: "tenant-b",
        connection: C,
        scope: "apps",
        run_id: Uuid::now_v7(),
        at: t(0),
        items: &other,
    })
    .await
    .expect("upsert tenant-b");

    let deps = |depth| RelatedQuery::new(T, Kind::APPLICATION, ["a"], "depends_on", Direction::Outgoing).depth(depth);
    let got = s.related(&deps(40)).await.expect("walk");
    let c1 = |id: &str, d| (C.to_string(), id.to_string(), d);
    assert_eq!(walked(&got), vec![c1("a", 0), c1("b", 1), c1("d", 1), c1("c", 2), c1("e", 2), c1("f", 3)]);
    assert_eq!(walked(&s.related(&deps(1)).await.expect("walk")), vec![c1("a", 0), c1("b", 1), c1("d", 1)]);
    assert_eq!(walked(&s.related(&deps(0)).await.expect("walk")), vec![c1("a", 0)]);
    assert!(got.iter().all(|r| r.resource.key.tenant == T), "tenant leak: {got:?}");

    // Incoming: which servers run `a` or `c`.
    let runs = RelatedQuery::new(T, Kind::APPLICATION, ["a", "c"], "runs", Direction::Incoming);
    let got = s.related(&runs).await.expect("incoming walk");
    assert_eq!(walked(&got), vec![c1("a", 0), c1("c", 0), c1("s1", 1), c1("s2", 1), c1("s3", 1)]);
    assert_eq!(got[2].resource.key.kind, Kind::SERVER);

    // Deactivate `e`: the walk stops there unless inactive resources are asked for.
    let scope = Scope::new(T, C, "apps-old", None);
    let mut seen = SeenSet::new();
    seen.mark_seen(&Kind::APPLICATION, "f");
    s.complete_scope(SweepRequest {
        scope: &scope,
        run_id: Uuid::now_v7(),
        run_started: t(5),
        at: t(10),
        seen: &seen,
        policy: SweepPolicy::default(),
    })
    .await
    .expect("sweep");
    let got = s.related(&deps(40)).await.expect("walk");
    assert_eq!(walked(&got), vec![c1("a", 0), c1("b", 1), c1("d", 1), c1("c", 2)]);
    let mut all_q = deps(40);
    all_q.include_inactive = true;
    let got = s.related(&all_q).await.expect("walk");
    assert_eq!(walked(&got), vec![c1("a", 0), c1("b", 1), c1("d", 1), c1("c", 2), c1("e", 2), c1("f", 3)]);
    assert!(!got[4].resource.active, "e is inactive");

    // Unknown start ids walk nowhere.
    let none = RelatedQuery::new(T, Kind::APPLICATION, ["nope"], "depends_on", Direction::Outgoing).depth(40);
    assert!(s.related(&none).await.expect("walk").is_empty());
}
