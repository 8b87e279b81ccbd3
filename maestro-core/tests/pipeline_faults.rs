//! The pipeline under bad input and faults: malformed items, provider errors mid-scope,
//! timeouts, storage outages, empty results. Every case checks that nothing is deactivated
//! unless the scope completed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use maestro_core::layers::RetryPolicy;
use maestro_core::testing::{MemoryRepository, PassThroughTranslator, ScriptedProvider, StaticProvider, item};
use maestro_core::*;
use serde_json::json;

const T: &str = "acme";
const C: &str = "aws-main";

fn scope(task: &str, region: &str) -> Scope {
    Scope::new(T, C, task, Some(region.into()))
}

fn fast() -> PipelineConfig {
    PipelineConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            jitter: 0.0,
        },
        page_timeout: Duration::from_millis(200),
        batch_size: 2,
        ..PipelineConfig::default()
    }
}

fn servers(ids: &[&str]) -> Vec<serde_json::Value> {
    ids.iter().map(|id| item("server", id, id, json!({"state": "running"}))).collect()
}

async fn active_ids(repo: &MemoryRepository) -> Vec<String> {
    let page = repo.list_resources(&ResourceFilter::tenant(T).active(true), &PageRequest::first(1000)).await.unwrap();
    let mut ids: Vec<String> = page.items.into_iter().map(|r| r.key.native_id).collect();
    ids.sort();
    ids
}

async fn run(repo: &Arc<MemoryRepository>, provider: &dyn Provider) -> RunReport {
    Pipeline::new(repo.clone())
        .with_config(fast())
        .run_and_record(RunJob { tenant: T, connection: C, provider, translator: &PassThroughTranslator }, &NoObserver)
        .await
        .unwrap()
}

async fn seed(repo: &Arc<MemoryRepository>) {
    let p = StaticProvider::paged(vec![
        (scope("servers", "eu"), vec![servers(&["a", "b"]), servers(&["c"])]),
        (scope("servers", "us"), vec![servers(&["x", "y"])]),
    ]);
    let r = run(repo, &p).await;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.changes.created, 5);
}

#[tokio::test]
async fn malformed_item_is_reported_and_the_scope_is_partial() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    // b vanished, and one item is malformed (no id): eu is partial → nothing deactivated there.
    let p = StaticProvider::paged(vec![
        (
            scope("servers", "eu"),
            vec![
                vec![item("server", "a", "a", json!({"state": "running"})), json!({"kind": "server", "name": "no id"})],
                servers(&["c"]),
            ],
        ),
        (scope("servers", "us"), vec![servers(&["x"])]),
    ]);
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Partial);
    let eu = r.scopes.iter().find(|s| s.scope == scope("servers", "eu")).unwrap();
    assert_eq!(eu.outcome, ScopeOutcome::Partial);
    assert_eq!(eu.item_error_count, 1);
    assert!(
        eu.item_errors[0].contains("acme/aws-main/servers@eu")
            && eu.item_errors[0].contains("item #1")
            && eu.item_errors[0].contains("`id`"),
        "{:?}",
        eu.item_errors
    );
    assert!(eu.sweep.is_none());
    // The rest of the page was still processed; us completed and deactivated y.
    assert_eq!(eu.changes.unchanged, 2);
    assert_eq!(active_ids(&repo).await, vec!["a", "b", "c", "x"]);
    let stored = repo.get_run(r.run_id).await.unwrap().expect("run recorded");
    assert_eq!(stored.status, RunStatus::Partial);
}

#[tokio::test]
async fn provider_bad_items_make_the_scope_partial() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    let p = ScriptedProvider::new(StaticProvider::paged(vec![(scope("servers", "eu"), vec![servers(&["a"])])]));
    p.then(
        &scope("servers", "eu"),
        Ok(Page {
            items: servers(&["a"]),
            bad_items: vec![TranslateError::new("position 3", "not valid XML")],
            next: None,
        }),
    );
    let r = run(&repo, &p).await;
    assert_eq!(r.scopes[0].outcome, ScopeOutcome::Partial);
    assert!(r.scopes[0].item_errors[0].contains("not valid XML"));
    assert_eq!(active_ids(&repo).await, vec!["a", "b", "c", "x", "y"]);
}

#[tokio::test]
async fn transient_errors_are_retried_and_then_succeed() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    let inner = StaticProvider::paged(vec![(scope("servers", "eu"), vec![servers(&["a", "b"]), servers(&["c"])])]);
    let p = ScriptedProvider::new(inner);
    p.then(&scope("servers", "eu"), Err(ProviderError::transient("HTTP 503")));
    p.then(&scope("servers", "eu"), Err(ProviderError::new(ProviderErrorKind::Throttled, "Throttling")));
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(p.calls(), 4, "two failures, then two pages");
}

#[tokio::test]
async fn provider_failing_mid_scope_fails_it_and_deactivates_nothing() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    // eu: page 1 ok (only a), then page 2 fails on every retry. us completes normally.
    struct MidFail;
    #[async_trait]
    impl Provider for MidFail {
        fn name(&self) -> &str {
            "midfail"
        }
        async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
            Ok(vec![scope("servers", "eu"), scope("servers", "us")])
        }
        async fn fetch_page(&self, s: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
            match (s.region.as_deref(), cursor.map(String::as_str)) {
                (Some("eu"), None) => Ok(Page::with_next(servers(&["a"]), "2")),
                (Some("eu"), Some(_)) => Err(ProviderError::transient("HTTP 500 Internal Server Error")),
                _ => Ok(Page::last(servers(&["x", "y"]))),
            }
        }
    }
    let r = run(&repo, &MidFail).await;
    assert_eq!(r.status, RunStatus::Partial);
    let eu = r.scopes.iter().find(|s| s.scope.region.as_deref() == Some("eu")).unwrap();
    assert_eq!(eu.outcome, ScopeOutcome::Failed);
    let err = eu.error.as_deref().unwrap();
    assert!(err.contains("cursor `2`") && err.contains("HTTP 500"), "{err}");
    assert_eq!(active_ids(&repo).await, vec!["a", "b", "c", "x", "y"], "nothing deactivated anywhere");
}

#[tokio::test]
async fn auth_errors_fail_at_once_without_retry() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    let p = ScriptedProvider::new(StaticProvider::paged(vec![(scope("servers", "eu"), vec![servers(&[])])]));
    p.then(&scope("servers", "eu"), Err(ProviderError::auth("AuthFailure: credentials rejected")));
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(p.calls(), 1);
    assert!(r.scopes[0].error.as_deref().unwrap().contains("AuthFailure"));
    assert_eq!(active_ids(&repo).await.len(), 5);
}

#[tokio::test]
async fn a_hanging_page_times_out_and_fails_the_scope() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    struct Hang;
    #[async_trait]
    impl Provider for Hang {
        fn name(&self) -> &str {
            "hang"
        }
        async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
            Ok(vec![scope("servers", "eu")])
        }
        async fn fetch_page(&self, _: &Scope, _: Option<&Cursor>) -> Result<Page, ProviderError> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Page::default())
        }
    }
    let r = run(&repo, &Hang).await;
    assert_eq!(r.scopes[0].outcome, ScopeOutcome::Failed);
    assert!(r.scopes[0].error.as_deref().unwrap().contains("timed out"));
    assert_eq!(active_ids(&repo).await.len(), 5);
}

#[tokio::test]
async fn empty_successful_result_deactivates_the_scope_and_says_so() {
    let repo = Arc::new(MemoryRepository::new());
    seed(&repo).await;
    let p = StaticProvider::paged(vec![
        (scope("servers", "eu"), vec![vec![]]),
        (scope("servers", "us"), vec![servers(&["x", "y"])]),
    ]);
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(r.stats.empty_scopes, 1);
    assert_eq!(r.stats.deactivated, 3);
    assert!(r.scopes.iter().any(|s| s.empty && s.scope.region.as_deref() == Some("eu")));
    assert_eq!(active_ids(&repo).await, vec!["x", "y"]);
}

#[tokio::test]
async fn listing_scopes_failing_is_a_failed_run() {
    let repo = Arc::new(MemoryRepository::new());
    struct NoScopes;
    #[async_trait]
    impl Provider for NoScopes {
        fn name(&self) -> &str {
            "noscopes"
        }
        async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
            Err(ProviderError::auth("bad token"))
        }
        async fn fetch_page(&self, _: &Scope, _: Option<&Cursor>) -> Result<Page, ProviderError> {
            unreachable!("no scope was listed")
        }
    }
    let r = run(&repo, &NoScopes).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.as_deref().unwrap().contains("bad token"));
}

#[tokio::test]
async fn a_provider_cannot_write_outside_its_tenant() {
    let repo = Arc::new(MemoryRepository::new());
    let p = StaticProvider::paged(vec![(Scope::new("other-tenant", C, "servers", None), vec![servers(&["a"])])]);
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.as_deref().unwrap().contains("outside tenant"));
    assert!(active_ids(&repo).await.is_empty());
}

/// A storage outage on one batch: the pipeline retries the batch (safe: batches are atomic).
#[tokio::test]
async fn a_failed_batch_is_retried_and_the_result_is_as_if_uninterrupted() {
    use maestro_core::testing::FaultInjection;
    let repo = Arc::new(MemoryRepository::new());
    repo.fail_next_batch_after(1);
    let p = StaticProvider::paged(vec![(scope("servers", "eu"), vec![servers(&["a", "b", "c"])])]);
    let r = run(&repo, &p).await;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(r.stats.changes.created, 3);
    let h = repo
        .history(&HistoryQuery { tenant: T.into(), ..HistoryQuery::default() }, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(h.items.len(), 3, "no duplicate history from the interrupted attempt");
}

#[test]
fn invalid_pipeline_config_lists_every_problem() {
    let cfg = PipelineConfig {
        batch_size: 0,
        scope_concurrency: 0,
        retry: RetryPolicy { max_attempts: 0, jitter: 2.0, ..RetryPolicy::default() },
        ..PipelineConfig::default()
    };
    let mut e = ConfigErrors::new();
    cfg.validate("pipeline", &mut e);
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "pipeline.batch_size",
            "pipeline.scope_concurrency",
            "pipeline.retry.max_attempts",
            "pipeline.retry.jitter"
        ]
    );
    let text = e.to_string();
    assert!(text.contains("4 problem(s)") && text.contains("pipeline.batch_size: must be 1..=50000, got 0"), "{text}");
}

#[tokio::test]
async fn scopes_run_concurrently_but_bounded() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Counting {
        now: AtomicUsize,
        max: AtomicUsize,
    }
    #[async_trait]
    impl Provider for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
            Ok((0..10).map(|i| scope("servers", &format!("r{i}"))).collect())
        }
        async fn fetch_page(&self, s: &Scope, _: Option<&Cursor>) -> Result<Page, ProviderError> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(Page::last(servers(&[s.region.as_deref().unwrap()])))
        }
    }
    let p = Counting { now: AtomicUsize::new(0), max: AtomicUsize::new(0) };
    let repo = Arc::new(MemoryRepository::new());
    let cfg = PipelineConfig { scope_concurrency: 3, ..fast() };
    let r = Pipeline::new(repo.clone())
        .with_config(cfg)
        .run(RunJob { tenant: T, connection: C, provider: &p, translator: &PassThroughTranslator }, &NoObserver)
        .await;
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(p.max.load(Ordering::SeqCst), 3);
}
