//! maestro-core is the small, stable crate for plugin authors: the normalised model, the six
//! component traits, the errors, the pipeline and outbox relay, and a test kit — no database
//! driver, no HTTP client or server.
//!
//! # Main types
//! - [`Provider`] yields pages of raw items per [`Scope`] (connection × task × region).
//! - [`Translator`] turns a raw item into [`ResourceDraft`]s.
//! - [`Tracker`] records what a run saw; [`tracker::sweep_action`] decides what vanished.
//! - [`Repository`] stores resources, history and runs; [`OutboxStore`] holds outgoing events.
//! - [`Publisher`] delivers events; [`OutboxRelay`] drives it from the outbox.
//! - [`GraphBuilder`] turns the inventory into graphs.
//! - [`Pipeline`] runs a provider end to end with bounded memory and concurrency, timeouts and
//!   retry with backoff ([`layers`]).
//!
//! # Example
//! ```
//! # #[cfg(feature = "testing")] {
//! use std::sync::Arc;
//! use maestro_core::{Pipeline, RunJob, NoObserver, ResourceFilter, PageRequest, Repository};
//! use maestro_core::testing::{MemoryRepository, StaticProvider, PassThroughTranslator};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let repo = Arc::new(MemoryRepository::new());
//! let provider = StaticProvider::single("acme", "aws-main", "server-list", vec![
//!     serde_json::json!({"kind": "server", "id": "i-1", "name": "web-1"}),
//!     serde_json::json!({"kind": "server", "id": "i-2", "name": "web-2"}),
//! ]);
//! let job = RunJob { tenant: "acme", connection: "aws-main", provider: &provider, translator: &PassThroughTranslator };
//! let report = Pipeline::new(repo.clone()).run_and_record(job, &NoObserver).await.unwrap();
//! assert_eq!(report.stats.changes.created, 2);
//! let page = repo.list_resources(&ResourceFilter::tenant("acme"), &PageRequest::first(10)).await.unwrap();
//! assert_eq!(page.items.len(), 2);
//! # });
//! # }
//! ```
//!
//! - [`scheduler`] — schedules as data, beats that fire each slot once, job queues and workers.
//!
//! # Feature flags
//! - `testing`: [`testing`] — in-memory repository, recording publisher, static provider, fake
//!   clock, contract-test helpers and the shared repository and scheduler test suites.
//! - `rabbitmq`: a RabbitMQ job queue for the scheduler (`lapin`).

pub mod checksum;
pub mod clock;
pub mod diff;
pub mod error;
pub mod event;
pub mod graph;
pub mod layers;
pub mod model;
pub mod monitor;
pub mod pipeline;
pub mod provider;
pub mod publisher;
pub mod relay;
pub mod repository;
pub mod scheduler;
pub mod server_store;
pub mod sync;
pub mod tracker;
pub mod translator;

#[cfg(feature = "testing")]
pub mod testing;

pub use checksum::Checksum;
pub use clock::{Clock, FakeClock, SystemClock};
pub use error::{
    BoxError, ConfigErrors, Error, ProviderError, ProviderErrorKind, PublishError, Result, Retry, Retryable,
    StorageError, TranslateError,
};
pub use event::Event;
pub use graph::{GraphArtifact, GraphBuilder, GraphRequest, GraphStatus};
pub use model::{Document, Kind, PreparedResource, Relation, Resource, ResourceDraft, ResourceKey, Scope};
pub use pipeline::{
    NoObserver, Pipeline, PipelineConfig, RunJob, RunObserver, RunReport, RunStats, RunStatus, ScopeOutcome,
    ScopeReport,
};
pub use provider::{Cursor, Page, Provider};
pub use publisher::{BatchOutcome, Publisher};
pub use relay::{OutboxRelay, RelayConfig, RelayPass};
pub use repository::{
    Change, ChangeOp, ChangeSet, DeadLetter, HistoryQuery, ItemChange, LeaseStore, OutboxCursor, OutboxStore, PageOf,
    PageRequest, RawResource, Repository, ResourceFilter, SinkState, SinkStatus, Store, StoredEvent, SweepOutcome,
    SweepRequest, UpsertBatch,
};
pub use scheduler::{
    Beat, BeatConfig, JobQueue, JobRecord, JobRegistry, JobState, QueueConfig, Schedule, ScheduleStore, SchedulerError,
    StoreQueue, Trigger, Worker, WorkerConfig,
};
pub use server_store::{ConnectionRecord, GraphJobRecord, ResourceCount, RunRequest, ServerStore};
pub use tracker::{SeenSet, SweepPolicy, Tracker};
pub use translator::Translator;
