//! A [`JobQueue`] over RabbitMQ (feature `rabbitmq`), for workers on several machines.
//!
//! Three durable queues per logical queue `q`: `q` (work), `q.retry` (failed attempts wait
//! there for their backoff as a per-message TTL, then dead-letter back to `q`) and `q.dead` (jobs
//! that failed `max_attempts` times or permanently, with their last error; `q` also dead-letters
//! rejected messages there). Messages are persistent JSON [`JobRecord`]s sent with publisher
//! confirms; a job is acked only after its attempt finished, so a worker that dies leaves it
//! unacked and RabbitMQ redelivers it when the worker's connection closes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use lapin::Acker;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, BasicRejectOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

use super::SchedulerError;
use super::queue::JobQueue;
use super::store::{JobRecord, JobState};
use crate::error::Retry;
use crate::layers::RetryPolicy;

/// The broker address used when neither `MAESTRO_BROKER_URL` nor `CELERY_BROKER_URL` is set.
pub const DEFAULT_BROKER_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Settings of a [`RabbitQueue`].
#[derive(Debug, Clone, PartialEq)]
pub struct RabbitConfig {
    /// `amqp://user:pass@host:port/vhost`.
    pub url: String,
    /// The work queue's name (`.retry` and `.dead` are derived from it).
    pub queue: String,
    /// Attempts and backoff; after `max_attempts` the job goes to the dead-letter queue.
    pub retry: RetryPolicy,
}

impl RabbitConfig {
    /// The address from `MAESTRO_BROKER_URL`, else `CELERY_BROKER_URL`, else
    /// [`DEFAULT_BROKER_URL`]; queue `maestro.jobs`; 3 attempts, 30 s backoff doubling.
    pub fn from_env() -> Self {
        let url = std::env::var("MAESTRO_BROKER_URL")
            .or_else(|_| std::env::var("CELERY_BROKER_URL"))
            .unwrap_or_else(|_| DEFAULT_BROKER_URL.to_string());
        Self { url, queue: "maestro.jobs".into(), retry: super::QueueConfig::default().retry }
    }
}

/// A [`JobQueue`] over RabbitMQ. Each process (beat or worker) opens its own; a worker's unacked
/// jobs are redelivered to others when its connection closes.
///
/// Deviation from the store queue: the broker cannot deduplicate, so `enqueue` always publishes;
/// "once per slot" comes from the beat publishing only after winning the slot claim, and
/// handlers stay idempotent by `run_id`. A redelivered message counts as one more attempt.
pub struct RabbitQueue {
    config: RabbitConfig,
    link: tokio::sync::Mutex<Link>,
    /// Unacked deliveries by job id, with the link generation they came on.
    in_flight: Mutex<HashMap<String, (u64, Acker)>>,
}

/// One connection and its channel; `generation` counts reconnects.
struct Link {
    conn: Connection,
    channel: Channel,
    generation: u64,
}

impl std::fmt::Debug for RabbitQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitQueue").field("queue", &self.config.queue).finish_non_exhaustive()
    }
}

fn table(entries: &[(&str, &str)]) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in entries {
        t.insert((*k).into(), AMQPValue::LongString((*v).into()));
    }
    t
}

impl RabbitQueue {
    /// Connect, enable publisher confirms and declare the three durable queues.
    ///
    /// # Errors
    /// [`SchedulerError::Queue`]; an unreachable broker says "start it with rabbitmq-server -detached".
    pub async fn connect(config: RabbitConfig) -> Result<Self, SchedulerError> {
        let link = Self::open(&config, 0).await?;
        Ok(Self { config, link: tokio::sync::Mutex::new(link), in_flight: Mutex::default() })
    }

    async fn open(config: &RabbitConfig, generation: u64) -> Result<Link, SchedulerError> {
        let conn = Connection::connect(&config.url, ConnectionProperties::default()).await.map_err(|e| {
            SchedulerError::Queue {
                queue: config.queue.clone(),
                message: format!(
                    "RabbitMQ is unreachable ({}); start it with rabbitmq-server -detached",
                    redact(&config.url)
                ),
                source: Some(Box::new(e)),
            }
        })?;
        let channel = conn.create_channel().await.map_err(err(&config.queue, "opening a channel"))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(err(&config.queue, "enabling confirms"))?;
        let main = config.queue.clone();
        let (retry, dead) = (format!("{main}.retry"), format!("{main}.dead"));
        let declare = |name: String, args: FieldTable| {
            let channel = channel.clone();
            let queue = config.queue.clone();
            async move {
                channel
                    .queue_declare(name.as_str().into(), QueueDeclareOptions::durable(), args)
                    .await
                    .map_err(err(&queue, "declaring a queue"))
            }
        };
        declare(dead.clone(), FieldTable::default()).await?;
        declare(retry, table(&[("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", &main)])).await?;
        declare(main, table(&[("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", &dead)])).await?;
        Ok(Link { conn, channel, generation })
    }

    /// The current channel, reconnecting first if the connection was lost (broker restart,
    /// network cut). Deliveries taken on the old connection are redelivered by the broker.
    async fn channel(&self) -> Result<(Channel, u64), SchedulerError> {
        let mut link = self.link.lock().await;
        if !(link.channel.status().connected() && link.conn.status().connected()) {
            let generation = link.generation + 1;
            tracing::warn!(queue = %self.config.queue, generation, "RabbitMQ connection lost; reconnecting");
            *link = Self::open(&self.config, generation).await?;
        }
        Ok((link.channel.clone(), link.generation))
    }

    fn retry_queue(&self) -> String {
        format!("{}.retry", self.config.queue)
    }

    fn dead_queue(&self) -> String {
        format!("{}.dead", self.config.queue)
    }

    async fn publish(&self, queue: &str, job: &JobRecord, expiration: Option<Duration>) -> Result<(), SchedulerError> {
        let payload = serde_json::to_vec(job).expect("job records always serialise");
        let mut props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(job.id.as_str().into());
        if let Some(d) = expiration {
            props = props.with_expiration(d.as_millis().max(1).to_string().as_str().into());
        }
        let (channel, _) = self.channel().await?;
        let confirm = channel
            .basic_publish("".into(), queue.into(), BasicPublishOptions::default(), &payload, props)
            .await
            .map_err(err(&self.config.queue, "publishing"))?
            .await
            .map_err(err(&self.config.queue, "waiting for the publish confirm"))?;
        if !confirm.is_ack() {
            return Err(SchedulerError::Queue {
                queue: self.config.queue.clone(),
                message: "the broker refused the message (nack)".into(),
                source: None,
            });
        }
        Ok(())
    }

    /// Take up to `limit` jobs out of the dead-letter queue (they are removed), oldest first.
    ///
    /// # Errors
    /// Broker failures.
    pub async fn take_dead(&self, limit: usize) -> Result<Vec<JobRecord>, SchedulerError> {
        let mut out = Vec::new();
        while out.len() < limit {
            let (channel, _) = self.channel().await?;
            let Some(msg) = channel
                .basic_get(self.dead_queue().as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .map_err(err(&self.config.queue, "reading the dead-letter queue"))?
            else {
                break;
            };
            if let Ok(job) = serde_json::from_slice::<JobRecord>(&msg.delivery.data) {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// Delete the three queues (for tests and tear-down).
    ///
    /// # Errors
    /// Broker failures.
    pub async fn delete_queues(&self) -> Result<(), SchedulerError> {
        let (channel, _) = self.channel().await?;
        for q in [self.config.queue.clone(), self.retry_queue(), self.dead_queue()] {
            channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(err(&self.config.queue, "deleting a queue"))?;
        }
        Ok(())
    }

    /// Close the connection; unacked jobs are redelivered to other workers. A later call on this
    /// queue reconnects.
    ///
    /// # Errors
    /// Broker failures.
    pub async fn close(&self) -> Result<(), SchedulerError> {
        let link = self.link.lock().await;
        link.conn.close(200, "closing".into()).await.map_err(err(&self.config.queue, "closing"))
    }
}

impl RabbitQueue {
    /// The acker of `job` if it was taken on the current connection; a delivery from a lost
    /// connection is already back in the queue, so its result must not be recorded.
    async fn live_delivery(&self, job: &JobRecord) -> Result<Option<Acker>, SchedulerError> {
        let Some((generation, acker)) = self.in_flight.lock().expect("poisoned").remove(&job.id) else {
            return Ok(None);
        };
        let (_, current) = self.channel().await?;
        Ok((generation == current).then_some(acker))
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://…@{}", &url[..s], &url[a + 1..]),
        _ => url.to_string(),
    }
}

fn err(queue: &str, what: &'static str) -> impl Fn(lapin::Error) -> SchedulerError {
    let queue = queue.to_string();
    move |e| SchedulerError::Queue { queue: queue.clone(), message: format!("{what}: {e}"), source: Some(Box::new(e)) }
}

#[async_trait]
impl JobQueue for RabbitQueue {
    async fn enqueue(&self, job: JobRecord) -> Result<bool, SchedulerError> {
        self.publish(&self.config.queue, &job, None).await?;
        Ok(true)
    }

    async fn take(&self, worker: &str) -> Result<Option<JobRecord>, SchedulerError> {
        loop {
            let (channel, generation) = self.channel().await?;
            let Some(msg) = channel
                .basic_get(self.config.queue.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .map_err(err(&self.config.queue, "taking a job"))?
            else {
                return Ok(None);
            };
            let d = msg.delivery;
            let Ok(mut job) = serde_json::from_slice::<JobRecord>(&d.data) else {
                tracing::warn!(queue = %self.config.queue, "undecodable message dead-lettered");
                d.acker
                    .reject(BasicRejectOptions { requeue: false })
                    .await
                    .map_err(err(&self.config.queue, "rejecting"))?;
                continue;
            };
            // A redelivery means a worker died with it: that attempt counts.
            job.attempts += if d.redelivered { 2 } else { 1 };
            job.state = JobState::Running;
            job.worker = Some(worker.to_string());
            job.started_at = Some(chrono::Utc::now());
            self.in_flight.lock().expect("poisoned").insert(job.id.clone(), (generation, d.acker));
            return Ok(Some(job));
        }
    }

    async fn ack(&self, job: &JobRecord, _worker: &str) -> Result<bool, SchedulerError> {
        let Some(acker) = self.live_delivery(job).await? else {
            return Ok(false);
        };
        acker.ack(BasicAckOptions::default()).await.map_err(err(&self.config.queue, "acking"))?;
        Ok(true)
    }

    async fn fail(
        &self,
        job: &JobRecord,
        _worker: &str,
        error: &str,
        retry: Retry,
    ) -> Result<Option<JobState>, SchedulerError> {
        let Some(acker) = self.live_delivery(job).await? else {
            return Ok(None);
        };
        let delay = match retry {
            Retry::Never => None,
            _ if job.attempts >= self.config.retry.max_attempts => None,
            Retry::After(d) => Some(d),
            Retry::Backoff => Some(self.config.retry.delay(job.attempts)),
        };
        let mut next = job.clone();
        next.worker = None;
        next.last_error = Some(error.to_string());
        let state = match delay {
            Some(d) => {
                next.state = JobState::Failed;
                self.publish(&self.retry_queue(), &next, Some(d)).await?;
                JobState::Failed
            }
            None => {
                next.state = JobState::Dead;
                next.finished_at = Some(chrono::Utc::now());
                self.publish(&self.dead_queue(), &next, None).await?;
                JobState::Dead
            }
        };
        // Only now drop the original: a crash in between delivers it once more, never loses it.
        acker.ack(BasicAckOptions::default()).await.map_err(err(&self.config.queue, "acking"))?;
        Ok(Some(state))
    }
}
