//! Kafka → PostgreSQL: the original's `site_monitor` consumer, made safe.
//!
//! - Consumer group `monitor-group`, `auto.offset.reset=earliest` (as the original).
//! - Auto-commit **off**: a message's offset is committed (synchronously) only after its row
//!   (or its dead letter) is stored, so a crash re-reads it instead of losing it.
//! - `site_monitor` has a unique key `(site_id, record_date)` and rows are written with
//!   `ON CONFLICT DO NOTHING`, so a redelivered message adds no row.
//! - A message that cannot become a row (value not JSON, key without `site_id`, wrong types,
//!   no `modified`) goes to `site_monitor_dead_letters` with the reason, its topic, partition,
//!   offset and raw bytes; consumption continues with the next message.
//! - A database error is not the message's fault: the same message is retried with backoff
//!   (its offset stays uncommitted) until it is stored or the consumer is shut down.
//!
//! Columns as the original: `site_id` from the **key** (`{"site_id": 7}`), `status_code`,
//! `response_time` (seconds), `has_regexp`, `comments` from the value, `record_date =
//! value.modified`, `inserted_date = now()` (UTC); a value that is `""` becomes NULL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime};
use maestro_core::ConfigErrors;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::config::{KafkaConnection, check_topic};

/// Why the consumer could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaConsumerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The Kafka client could not be created or subscribe.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// PostgreSQL could not be reached or the tables created.
    #[error("postgres ({what}): {source}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
}

/// Configuration of the Kafka → PostgreSQL consumer.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConsumerConfig {
    /// Brokers and security.
    #[serde(flatten)]
    pub connection: KafkaConnection,
    /// Topic to consume (the original's `site-monitor`).
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Consumer group (the original's `monitor-group`).
    #[serde(default = "default_group")]
    pub group: String,
    /// PostgreSQL URL. Never logged.
    pub database_url: String,
    /// Schema holding `site_monitor` and `site_monitor_dead_letters` (created if missing).
    #[serde(default = "default_schema")]
    pub schema: String,
}

impl std::fmt::Debug for KafkaConsumerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumerConfig")
            .field("connection", &self.connection)
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("database_url", &"<redacted>")
            .field("schema", &self.schema)
            .finish()
    }
}

fn default_topic() -> String {
    "site-monitor".into()
}
fn default_group() -> String {
    "monitor-group".into()
}
fn default_schema() -> String {
    "public".into()
}

impl KafkaConsumerConfig {
    /// Defaults for everything but the brokers and the database.
    pub fn new(bootstrap_servers: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self {
            connection: KafkaConnection::new(bootstrap_servers),
            topic: default_topic(),
            group: default_group(),
            database_url: database_url.into(),
            schema: default_schema(),
        }
    }

    /// Check the fields; every problem with its field path.
    ///
    /// # Errors
    /// The problems found.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errors = ConfigErrors::new();
        self.connection.validate("consumer", &mut errors);
        check_topic(&self.topic, "consumer.topic", &mut errors);
        if self.group.trim().is_empty() {
            errors.push("consumer.group", "must not be empty");
        }
        if !self.schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            || !self.schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || self.schema.len() > 63
        {
            errors.push("consumer.schema", format!("`{}` is not a plain schema name ([a-z_][a-z0-9_]*)", self.schema));
        }
        if !(self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://")) {
            errors.push("consumer.database_url", "must be a postgres:// URL");
        }
        errors.into_result(())
    }
}

/// One `site_monitor` row.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteMonitorRow {
    /// From the message key.
    pub site_id: i32,
    /// HTTP status, NULL when the check failed.
    pub status_code: Option<i32>,
    /// Seconds, NULL when the check failed.
    pub response_time: Option<f64>,
    /// `value.modified` (UTC).
    pub record_date: NaiveDateTime,
    /// Whether the body matched the site's regexp.
    pub has_regexp: Option<bool>,
    /// The error text, NULL when empty.
    pub comments: Option<String>,
}

/// Turn a message into a row, or say why it cannot be one (the dead-letter reason).
///
/// # Errors
/// The reason, naming the field.
pub fn parse_row(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<SiteMonitorRow, String> {
    let key = key.ok_or("message has no key (expected {\"site_id\": <id>})")?;
    let key: Value = serde_json::from_slice(key).map_err(|e| format!("key is not JSON: {e}"))?;
    let site_id = match key.get("site_id") {
        None | Some(Value::Null) => return Err("key has no site_id".into()),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("key.site_id is not a 32-bit integer: {v}"))?,
    };
    let value = value.ok_or("message has no value")?;
    let value: Value = serde_json::from_slice(value).map_err(|e| format!("value is not JSON: {e}"))?;
    if !value.is_object() {
        return Err("value is not a JSON object".into());
    }
    let field = |name: &str| -> Option<&Value> {
        match value.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(v) => Some(v),
        }
    };
    let status_code = field("status_code")
        .map(|v| {
            v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| format!("status_code is not an integer: {v}"))
        })
        .transpose()?;
    let response_time = field("response_time")
        .map(|v| v.as_f64().ok_or_else(|| format!("response_time is not a number: {v}")))
        .transpose()?;
    let has_regexp = field("has_regexp")
        .map(|v| v.as_bool().ok_or_else(|| format!("has_regexp is not a boolean: {v}")))
        .transpose()?;
    let comments = field("comments")
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("comments is not a string: {v}")))
        .transpose()?;
    let modified = field("modified").ok_or("value has no modified (it becomes record_date)")?;
    let modified = modified.as_str().ok_or_else(|| format!("modified is not a string: {modified}"))?;
    let record_date = parse_timestamp(modified).ok_or_else(|| format!("modified is not a timestamp: `{modified}`"))?;
    Ok(SiteMonitorRow { site_id, status_code, response_time, record_date, has_regexp, comments })
}

/// RFC 3339 (converted to UTC), or the original's naive `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"].iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// What the consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsumerStats {
    /// Rows inserted.
    pub stored: u64,
    /// Messages whose row already existed (redeliveries).
    pub duplicates: u64,
    /// Messages dead-lettered.
    pub dead_lettered: u64,
}

/// A consumed record: where it came from and its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
}

impl<'a> Record<'a> {
    fn of(msg: &'a BorrowedMessage<'_>) -> Self {
        Self {
            topic: msg.topic(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key(),
            value: msg.payload(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Stored,
    Duplicate,
    DeadLettered,
}

/// The consumer (see the module doc).
pub struct KafkaConsumer {
    config: KafkaConsumerConfig,
    consumer: Arc<StreamConsumer>,
    pool: PgPool,
    crash_before_commit_after: Option<u64>,
}

impl KafkaConsumer {
    /// Validate, connect to PostgreSQL, create the tables if missing, and subscribe.
    ///
    /// # Errors
    /// [`KafkaConsumerError`].
    pub async fn connect(config: KafkaConsumerConfig) -> Result<Self, KafkaConsumerError> {
        config.validate()?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&config.database_url)
            .await
            .map_err(|source| KafkaConsumerError::Database { what: "connecting", source })?;
        for stmt in ddl(&config.schema) {
            // The schema name was validated as [a-z_][a-z0-9_]*.
            sqlx::query(sqlx::AssertSqlSafe(stmt))
                .execute(&pool)
                .await
                .map_err(|source| KafkaConsumerError::Database { what: "creating the tables", source })?;
        }
        let mut cc = config.connection.client_config();
        cc.set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("socket.timeout.ms", "10000");
        for (k, v) in &config.connection.properties {
            cc.set(k, v);
        }
        let consumer: StreamConsumer = cc.create()?;
        consumer.subscribe(&[&config.topic])?;
        tracing::info!(topic = %config.topic, group = %config.group, schema = %config.schema, "kafka consumer started");
        Ok(Self { config, consumer: Arc::new(consumer), pool, crash_before_commit_after: None })
    }

    /// Test hook: after storing the `n`-th message, return from [`run`](Self::run) *without*
    /// committing its offset — what a process killed between insert and commit leaves behind.
    pub fn crash_before_commit_after(mut self, n: u64) -> Self {
        self.crash_before_commit_after = Some(n);
        self
    }

    /// The database pool (to query the tables).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Consume until `shutdown` resolves. Returns what was done.
    ///
    /// # Errors
    /// None today once connected: Kafka and database errors are logged and retried. The
    /// `Result` leaves room for fatal errors.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<ConsumerStats, KafkaConsumerError> {
        tokio::pin!(shutdown);
        let mut stats = ConsumerStats::default();
        let mut seen = 0u64;
        loop {
            let msg = tokio::select! {
                _ = &mut shutdown => break,
                m = self.consumer.recv() => m,
            };
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "kafka receive failed; retrying");
                    if pause(&mut shutdown, Duration::from_millis(500)).await {
                        break;
                    }
                    continue;
                }
            };
            let mut backoff = Duration::from_millis(200);
            let outcome = loop {
                match self.store(Record::of(&msg)).await {
                    Ok(o) => break o,
                    Err(e) => {
                        tracing::warn!(error = %e, partition = msg.partition(), offset = msg.offset(),
                            "cannot store the message; retrying (offset not committed)");
                        if pause(&mut shutdown, backoff).await {
                            return Ok(stats);
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            };
            match outcome {
                Outcome::Stored => stats.stored += 1,
                Outcome::Duplicate => stats.duplicates += 1,
                Outcome::DeadLettered => stats.dead_lettered += 1,
            }
            seen += 1;
            if self.crash_before_commit_after == Some(seen) {
                tracing::warn!(offset = msg.offset(), "fault hook: stopping before the commit");
                return Ok(stats);
            }
            self.commit(&msg).await;
        }
        Ok(stats)
    }

    async fn commit(&self, msg: &BorrowedMessage<'_>) {
        let mut tpl = TopicPartitionList::new();
        if let Err(e) = tpl.add_partition_offset(msg.topic(), msg.partition(), Offset::Offset(msg.offset() + 1)) {
            tracing::error!(error = %e, "cannot build the commit");
            return;
        }
        let consumer = self.consumer.clone();
        let res = tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync)).await;
        match res {
            Ok(Ok(())) => {}
            // The row is stored; the message will be read again and skipped by the unique key.
            Ok(Err(e)) => tracing::warn!(error = %e, offset = msg.offset(), "offset commit failed"),
            Err(e) => tracing::warn!(error = %e, "offset commit task failed"),
        }
    }

    /// Store one record as a row or a dead letter (idempotent for a redelivered record).
    pub(crate) async fn store(&self, msg: Record<'_>) -> Result<Outcome, sqlx::Error> {
        let s = &self.config.schema;
        match parse_row(msg.key, msg.value) {
            Ok(row) => {
                let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO \"{s}\".site_monitor \
                     (site_id, status_code, response_time, record_date, has_regexp, comments, inserted_date) \
                     VALUES ($1, $2, $3, $4, $5, $6, now() AT TIME ZONE 'utc') \
                     ON CONFLICT (site_id, record_date) DO NOTHING"
                )))
                .bind(row.site_id)
                .bind(row.status_code)
                .bind(row.response_time)
                .bind(row.record_date)
                .bind(row.has_regexp)
                .bind(row.comments)
                .execute(&self.pool)
                .await?;
                Ok(if done.rows_affected() == 1 { Outcome::Stored } else { Outcome::Duplicate })
            }
            Err(reason) => {
                tracing::warn!(%reason, partition = msg.partition, offset = msg.offset, "dead-lettering a message");
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO \"{s}\".site_monitor_dead_letters \
                     (topic, kafka_partition, kafka_offset, key, value, reason) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING"
                )))
                .bind(msg.topic)
                .bind(msg.partition)
                .bind(msg.offset)
                .bind(msg.key)
                .bind(msg.value)
                .bind(reason)
                .execute(&self.pool)
                .await?;
                Ok(Outcome::DeadLettered)
            }
        }
    }
}

/// Sleep `d` unless `shutdown` comes first; returns whether it did.
async fn pause<F: Future<Output = ()>>(shutdown: &mut std::pin::Pin<&mut F>, d: Duration) -> bool {
    tokio::select! {
        _ = shutdown.as_mut() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

/// The tables, created if missing (the original shipped no DDL; these are its columns plus a
/// surrogate id and the unique key).
pub fn ddl(schema: &str) -> Vec<String> {
    vec![
        format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""),
        format!(
            "CREATE TABLE IF NOT EXISTS \"{schema}\".site_monitor (
                id bigserial PRIMARY KEY,
                site_id integer NOT NULL,
                status_code integer NULL,
                response_time double precision NULL,
                record_date timestamp NOT NULL,
                has_regexp boolean NULL,
                comments text NULL,
                inserted_date timestamp NOT NULL,
                UNIQUE (site_id, record_date))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS \"{schema}\".site_monitor_dead_letters (
                id bigserial PRIMARY KEY,
                topic text NOT NULL,
                kafka_partition integer NOT NULL,
                kafka_offset bigint NOT NULL,
                key bytea NULL,
                value bytea NULL,
                reason text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (topic, kafka_partition, kafka_offset))"
        ),
    ]
}
