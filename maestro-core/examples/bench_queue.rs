//! Run with: cargo run --release -p maestro-core --features testing --example bench_queue [-- JOBS WORKERS [memory|rabbitmq]]
//!
//! Empty-job throughput of the in-process queue ([`StoreQueue`] over the test kit's
//! `MemoryRepository`, so no I/O: this is the queue's own overhead) and the p99 delay from
//! enqueue to handler start. With `rabbitmq` (needs `--features testing,rabbitmq` and a broker at
//! `MAESTRO_BROKER_URL`) the same through a fresh RabbitMQ queue, deleted afterwards.
//!
//! Phase 1 enqueues every job first, then starts the workers: jobs/s of draining.
//! Phase 2 enqueues at a steady pace while the workers run: enqueue → start latency.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use maestro_core::SystemClock;
use maestro_core::scheduler::{
    JobContext, JobQueue, JobRecord, JobRegistry, QueueConfig, StoreQueue, Worker, WorkerConfig,
};
use maestro_core::testing::MemoryRepository;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

struct Bench {
    queue: Arc<dyn JobQueue>,
    workers: Vec<Arc<Worker>>,
    latencies: Arc<Mutex<Vec<Duration>>>,
    base: Instant,
}

type Cleanup = futures::future::BoxFuture<'static, ()>;

/// The queue under test and how to tear it down.
async fn make_queue(backend: &str) -> anyhow::Result<(Arc<dyn JobQueue>, Cleanup)> {
    match backend {
        "memory" => {
            let store = Arc::new(MemoryRepository::new());
            let queue = Arc::new(StoreQueue::new(store, Arc::new(SystemClock), QueueConfig::default()));
            Ok((queue, Box::pin(async {})))
        }
        #[cfg(feature = "rabbitmq")]
        "rabbitmq" => {
            use maestro_core::scheduler::{RabbitConfig, RabbitQueue};
            let config = RabbitConfig {
                queue: format!("maestro.bench.{}", uuid::Uuid::new_v4().simple()),
                ..RabbitConfig::from_env()
            };
            let queue = Arc::new(RabbitQueue::connect(config).await.context("connecting to RabbitMQ")?);
            let q = queue.clone();
            Ok((queue, Box::pin(async move { q.delete_queues().await.expect("deleting the bench queues") })))
        }
        other => anyhow::bail!("unknown backend `{other}`; known: memory, rabbitmq (with --features rabbitmq)"),
    }
}

fn setup(queue: Arc<dyn JobQueue>, n_workers: usize) -> Bench {
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let base = Instant::now();
    let lat = latencies.clone();
    let registry = Arc::new(JobRegistry::new().with("empty", move |ctx: JobContext| {
        let lat = lat.clone();
        async move {
            let enq = Duration::from_nanos(ctx.job.args["t"].as_u64().unwrap_or(0));
            lat.lock().expect("poisoned").push(base.elapsed().saturating_sub(enq));
            Ok(())
        }
    }));
    let config = WorkerConfig { poll_interval: Duration::from_millis(1), ..WorkerConfig::default() };
    let workers = (0..n_workers)
        .map(|i| Arc::new(Worker::new(&format!("w{i}"), queue.clone(), registry.clone(), config)))
        .collect();
    Bench { queue, workers, latencies, base }
}

async fn enqueue(b: &Bench, i: usize) -> anyhow::Result<()> {
    let t = b.base.elapsed().as_nanos() as u64;
    let job = JobRecord::new(format!("job-{i}"), "bench", "empty", serde_json::json!({"t": t}), chrono::Utc::now());
    b.queue.enqueue(job).await.context("enqueue")?;
    Ok(())
}

async fn run_workers(b: &Bench, n: usize) -> Vec<Duration> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handles: Vec<_> = b
        .workers
        .iter()
        .map(|w| {
            let w = w.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                w.run(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                })
                .await
            })
        })
        .collect();
    while b.latencies.lock().expect("poisoned").len() < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in handles {
        let _ = h.await;
    }
    let mut l = std::mem::take(&mut *b.latencies.lock().expect("poisoned"));
    l.sort();
    l
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args.next().map(|a| a.parse()).transpose().context("JOBS")?.unwrap_or(5_000);
    let n_workers: usize = args.next().map(|a| a.parse()).transpose().context("WORKERS")?.unwrap_or(4);
    let backend = args.next().unwrap_or_else(|| "memory".into());

    // Phase 1: drain a full queue.
    let (queue, cleanup) = make_queue(&backend).await?;
    let b = setup(queue, n_workers);
    for i in 0..jobs {
        enqueue(&b, i).await?;
    }
    let started = Instant::now();
    let l = run_workers(&b, jobs).await;
    let secs = started.elapsed().as_secs_f64();
    println!("{backend} drain: {jobs} empty jobs, {n_workers} workers: {:.0} jobs/s", jobs as f64 / secs);
    drop(l);
    cleanup.await;

    // Phase 2: steady arrivals (1 job per 500 µs) while the workers poll.
    let (queue, cleanup) = make_queue(&backend).await?;
    let b = Arc::new(setup(queue, n_workers));
    let paced = jobs.min(2_000);
    let producer = {
        let b = b.clone();
        tokio::spawn(async move {
            for i in 0..paced {
                enqueue(&b, i).await?;
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            anyhow::Ok(())
        })
    };
    let l = run_workers(&b, paced).await;
    producer.await.context("producer")??;
    println!(
        "{backend} paced: {paced} jobs, enqueue→start p50 {:?}, p99 {:?}, max {:?}",
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        l[l.len() - 1]
    );
    cleanup.await;
    Ok(())
}
