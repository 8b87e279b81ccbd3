use std::collections::HashSet;

use chrono::Utc;
use serde_json::json;

use crate::event::{self, Event};
use crate::model::{Document, Kind, ResourceKey};
use crate::provider::Provider;
use crate::publisher::Publisher;

/// Check the [`Provider`] contract on a working source: scopes are listed and distinct, every
/// scope pages to the end without repeating a cursor, and every item is a JSON object. Returns
/// the number of items per scope (in `scopes()` order) for the caller's own assertions.
///
/// # Panics
/// With a message naming the broken rule.
pub async fn assert_provider_contract(provider: &dyn Provider) -> Vec<usize> {
    let scopes =
        provider.scopes().await.unwrap_or_else(|e| panic!("provider `{}`: scopes() failed: {e}", provider.name()));
    assert!(!scopes.is_empty(), "provider `{}`: scopes() returned no scope", provider.name());
    let distinct: HashSet<_> = scopes.iter().collect();
    assert_eq!(distinct.len(), scopes.len(), "provider `{}`: scopes() returned duplicates", provider.name());
    let mut counts = Vec::new();
    for scope in &scopes {
        let mut cursor = None;
        let mut cursors = HashSet::new();
        let mut n = 0;
        for _ in 0..1_000_000 {
            let page = provider.fetch_page(scope, cursor.as_ref()).await.unwrap_or_else(|e| {
                panic!("provider `{}`: fetch_page({scope}, {cursor:?}) failed: {e}", provider.name())
            });
            for (i, it) in page.items.iter().enumerate() {
                assert!(
                    it.is_object(),
                    "provider `{}`: item #{i} of scope {scope} is not a JSON object",
                    provider.name()
                );
            }
            n += page.items.len();
            match page.next {
                Some(c) => {
                    assert!(
                        cursors.insert(c.clone()),
                        "provider `{}`: cursor `{c}` repeated in scope {scope}",
                        provider.name()
                    );
                    cursor = Some(c);
                }
                None => break,
            }
        }
        let again = provider.fetch_page(scope, None).await;
        assert!(again.is_ok(), "provider `{}`: the first page of {scope} cannot be fetched twice", provider.name());
        counts.push(n);
    }
    counts
}

/// Three sample events (created, updated, run finished) for publisher tests.
pub fn sample_events(tenant: &str) -> Vec<Event> {
    let key = ResourceKey::new(tenant, "conn-1", Kind::SERVER, "i-0001");
    let doc = Document { name: "web <1> & \"quoted\"".into(), ..Document::default() };
    let now = Utc::now();
    vec![
        event::resource_created(&key, "server-list", &doc, 1, None, now),
        event::resource_updated(
            &key,
            "server-list",
            &vec![crate::diff::DiffEntry { path: "/name".into(), old: Some(json!("web")), new: Some(json!(doc.name)) }],
            &doc,
            2,
            None,
            now,
        ),
        event::run_finished(tenant, uuid::Uuid::now_v7(), json!({"status": "complete"}), now),
    ]
}

/// Check the [`Publisher`] contract against a *working* sink: each sample event is confirmed,
/// a batch reports a full prefix, and publishing the same event again is accepted (dedup is
/// the consumer's, by event id). Returns the events published (each twice) so the caller can
/// check what its sink received.
///
/// # Panics
/// With a message naming the broken rule.
pub async fn assert_publisher_contract(publisher: &dyn Publisher) -> Vec<Event> {
    assert!(!publisher.name().is_empty(), "a publisher needs a non-empty name (it names the relay cursor)");
    let events = sample_events("contract-tenant");
    for e in &events {
        publisher
            .publish(e)
            .await
            .unwrap_or_else(|err| panic!("publisher `{}`: publish({}) failed: {err}", publisher.name(), e.kind));
    }
    let outcome = publisher.publish_batch(&events).await;
    assert!(outcome.error.is_none(), "publisher `{}`: batch failed: {:?}", publisher.name(), outcome.error);
    assert_eq!(
        outcome.delivered,
        events.len(),
        "publisher `{}`: batch must report every event delivered",
        publisher.name()
    );
    events
}
