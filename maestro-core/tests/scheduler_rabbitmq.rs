//! The RabbitMQ job queue against a real broker (feature `rabbitmq`; address in
//! `MAESTRO_BROKER_URL`, default guest@127.0.0.1:5672). Each test uses queues of its own and
//! deletes them. Without a broker these tests fail, saying how to start one.
//!
//! Run with: cargo test -p maestro-core --features testing,rabbitmq --test scheduler_rabbitmq
#![cfg(feature = "rabbitmq")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maestro_core::layers::RetryPolicy;
use maestro_core::scheduler::{
    JobContext, JobError, JobQueue, JobRecord, JobRegistry, JobState, RabbitConfig, RabbitQueue, Worker, WorkerConfig,
};

fn config(retry: RetryPolicy) -> RabbitConfig {
    RabbitConfig { queue: format!("maestro.test.{}", uuid::Uuid::new_v4().simple()), retry, ..RabbitConfig::from_env() }
}

async fn connect(config: &RabbitConfig) -> Arc<RabbitQueue> {
    Arc::new(
        RabbitQueue::connect(config.clone())
            .await
            .unwrap_or_else(|e| panic!("{e} (set MAESTRO_BROKER_URL if it is not on 127.0.0.1:5672 with guest/guest)")),
    )
}

fn job(i: usize) -> JobRecord {
    JobRecord::new(format!("job-{i}"), "t", "record", serde_json::json!({"i": i}), chrono::Utc::now())
}

/// Poll `run_once` until it returns a job (the broker needs a moment to requeue or expire).
async fn next_outcome(w: &Worker) -> maestro_core::scheduler::JobOutcome {
    for _ in 0..500 {
        if let Some(o) = w.run_once().await.expect("run") {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no job arrived");
}

fn recording(done: Arc<Mutex<Vec<String>>>) -> Arc<JobRegistry> {
    Arc::new(JobRegistry::new().with("record", move |ctx: JobContext| {
        let done = done.clone();
        async move {
            done.lock().expect("poisoned").push(ctx.job.id);
            Ok(())
        }
    }))
}

#[tokio::test]
async fn jobs_flow_to_three_workers_and_each_runs_once() {
    let cfg = config(RetryPolicy::default());
    let queue = connect(&cfg).await;
    for i in 0..30 {
        assert!(queue.enqueue(job(i)).await.expect("enqueue"));
    }
    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..3 {
        let q = connect(&cfg).await;
        workers.push(Worker::new(&format!("w{w}"), q, recording(done.clone()), WorkerConfig::default()));
    }
    while done.lock().expect("poisoned").len() < 30 {
        let results = futures::future::join_all(workers.iter().map(|w| w.run_once())).await;
        for r in results {
            if let Some(o) = r.expect("run") {
                assert_eq!(o.state, JobState::Succeeded);
            }
        }
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for id in done.lock().expect("poisoned").iter() {
        *counts.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(counts.len(), 30);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(workers[0].run_once().await.expect("run"), None, "all acked");
    queue.delete_queues().await.expect("cleanup");
}

#[tokio::test]
async fn a_worker_killed_mid_job_is_redelivered_and_completes_once() {
    let cfg = config(RetryPolicy::default());
    let doomed_queue = connect(&cfg).await;
    doomed_queue.enqueue(job(1)).await.expect("enqueue");
    let taken = doomed_queue.take("doomed").await.expect("take").expect("job");
    assert_eq!(taken.attempts, 1);
    doomed_queue.close().await.expect("the worker dies: its connection closes without an ack");

    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let survivor = Worker::new("survivor", connect(&cfg).await, recording(done.clone()), WorkerConfig::default());
    let out = next_outcome(&survivor).await;
    assert_eq!((out.id.as_str(), out.state, out.attempt), ("job-1", JobState::Succeeded, 2));
    assert_eq!(*done.lock().expect("poisoned"), ["job-1"]);
    assert_eq!(survivor.run_once().await.expect("run"), None);
    connect(&cfg).await.delete_queues().await.expect("cleanup");
}

#[tokio::test]
async fn an_always_failing_job_is_retried_then_dead_lettered() {
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        jitter: 0.0,
    };
    let cfg = config(retry);
    let queue = connect(&cfg).await;
    let registry = Arc::new(
        JobRegistry::new().with("record", |_c: JobContext| async { Err(JobError::transient("upstream 503")) }),
    );
    let worker = Worker::new("w", queue.clone(), registry, WorkerConfig::default());
    queue.enqueue(job(7)).await.expect("enqueue");
    let states: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let o = next_outcome(&worker).await;
            v.push((o.attempt, o.state));
        }
        v
    };
    assert_eq!(states, [(1, JobState::Failed), (2, JobState::Failed), (3, JobState::Dead)]);
    let dead = queue.take_dead(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id.as_str(), dead[0].attempts, dead[0].state), ("job-7", 3, JobState::Dead));
    assert_eq!(dead[0].last_error.as_deref(), Some("upstream 503"));
    assert_eq!(worker.run_once().await.expect("run"), None, "dead jobs never run");
    queue.delete_queues().await.expect("cleanup");
}

#[tokio::test]
async fn an_unreachable_broker_says_how_to_start_it() {
    let cfg = RabbitConfig { url: "amqp://guest:secret@127.0.0.1:1/%2f".into(), ..config(RetryPolicy::default()) };
    let err = RabbitQueue::connect(cfg).await.expect_err("nothing listens on port 1");
    let msg = err.to_string();
    assert!(msg.contains("start it with rabbitmq-server -detached"), "{msg}");
    assert!(!msg.contains("secret"), "the password is not repeated: {msg}");
}

#[tokio::test]
async fn a_lost_connection_is_reopened_and_unacked_jobs_come_back() {
    let cfg = config(RetryPolicy::default());
    let queue = connect(&cfg).await;
    queue.enqueue(job(1)).await.expect("enqueue");
    let taken = queue.take("w").await.expect("take").expect("job");
    queue.close().await.expect("the connection drops (as in a broker restart)");
    assert!(!queue.ack(&taken, "w").await.expect("ack"), "a delivery from the lost connection is not acked");
    queue.enqueue(job(2)).await.expect("enqueue after reconnecting");

    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let worker = Worker::new("w", queue.clone(), recording(done.clone()), WorkerConfig::default());
    let first = next_outcome(&worker).await;
    let second = next_outcome(&worker).await;
    assert_eq!((first.state, second.state), (JobState::Succeeded, JobState::Succeeded));
    let mut ids = done.lock().expect("poisoned").clone();
    ids.sort();
    assert_eq!(ids, ["job-1", "job-2"], "the unacked job came back and ran once");
    queue.delete_queues().await.expect("cleanup");
}
