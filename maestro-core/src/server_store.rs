//! [`ServerStore`]: what the reference server keeps beside resources: connections (with sealed
//! credentials), graph jobs and run requests, plus the counts its metrics read.
//!
//! The store never sees credentials in clear: the server seals them (AEAD) before
//! [`ServerStore::put_connection`] and opens them only to start a run.
//!
//! Implementations: `maestro_store::SqliteStore` and `maestro_store::PostgresStore`
//! (migration `0005_server.sql`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::repository::{PageOf, PageRequest, StoreResult};

/// A connection: how to reach one account of one provider, for one tenant.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Id, unique per tenant (also the `connection` of the resources it collects).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Provider type (`file`, `aws`, …).
    pub provider: String,
    /// Non-secret settings (regions, paths, endpoint…), merged with the credentials to build
    /// the provider.
    pub settings: Map<String, Value>,
    /// The credentials, sealed by the server (nonce + ciphertext); `None` when there are none.
    pub sealed_credentials: Option<Vec<u8>>,
    /// Names of the credential fields that are set (never their values).
    pub credential_fields: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for ConnectionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRecord")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .field("sealed_credentials", &self.sealed_credentials.as_ref().map(|_| "<redacted>"))
            .field("credential_fields", &self.credential_fields)
            .finish_non_exhaustive()
    }
}

/// A graph job (the original analytics `graphs` document): what to draw and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphJobRecord {
    /// Owning tenant.
    pub tenant: String,
    /// Graph id (the original `_id`).
    pub id: String,
    /// The original `owner_id`.
    pub owner_id: String,
    /// `business` or `infra`.
    pub kind: String,
    /// The request as sent (`clients`, `systems`, `apps`).
    pub definition: Value,
    /// `processing`, `finished`, `warning` or `error`.
    pub status: String,
    /// Human-readable outcome.
    pub msg: String,
    /// Graph metrics (density, edges, counts…).
    pub info: Value,
    /// The drawing.
    pub svg: Option<String>,
    /// GraphML (business graphs).
    pub graphml: Option<String>,
    /// Node-link JSON.
    pub json: Option<Value>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A run started through the API: accepted at once, run in the background, linked to the
/// pipeline's [`RunReport`](crate::RunReport) when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// Request id (UUID v7), returned to the caller.
    pub id: Uuid,
    /// Tenant.
    pub tenant: String,
    /// Connection id.
    pub connection: String,
    /// Provider type.
    pub provider: String,
    /// Task asked for.
    pub task: String,
    /// `queued`, `running`, `complete`, `partial`, `failed` or `interrupted`.
    pub status: String,
    /// The pipeline run's id, once recorded.
    pub run_id: Option<Uuid>,
    /// Why it failed before or outside the pipeline.
    pub error: Option<String>,
    /// Accepted.
    pub requested_at: DateTime<Utc>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunRequest {
    /// Whether the request has ended.
    pub fn is_final(&self) -> bool {
        !matches!(self.status.as_str(), "queued" | "running")
    }
}

/// Number of resources of one tenant, kind and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCount {
    /// Tenant.
    pub tenant: String,
    /// Kind.
    pub kind: String,
    /// Active or not.
    pub active: bool,
    /// How many.
    pub count: u64,
}

/// The reference server's own tables.
///
/// Required: every method. Every read and write is tenant-scoped except the `*_counts` and
/// [`interrupt_unfinished_runs`](ServerStore::interrupt_unfinished_runs) (process-wide, for
/// metrics and start-up). An `Err` is a storage failure; the API answers 503 for `Unavailable`
/// and 500 otherwise.
///
/// # Contract
/// - `put_*` MUST insert or replace the row with the same (tenant, id); `created_at` of an
///   existing row MUST be kept.
/// - A row of one tenant MUST NOT be readable, listable or deletable through another tenant.
/// - Lists are ordered by id and paged with the id as cursor.
#[async_trait]
pub trait ServerStore: Send + Sync {
    /// Insert or replace a connection.
    async fn put_connection(&self, c: &ConnectionRecord) -> StoreResult<()>;
    /// One connection.
    async fn get_connection(&self, tenant: &str, id: &str) -> StoreResult<Option<ConnectionRecord>>;
    /// A page of a tenant's connections.
    async fn list_connections(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<ConnectionRecord>>;
    /// Delete one; whether it existed.
    async fn delete_connection(&self, tenant: &str, id: &str) -> StoreResult<bool>;

    /// Insert or replace a graph job.
    async fn put_graph_job(&self, g: &GraphJobRecord) -> StoreResult<()>;
    /// One graph job.
    async fn get_graph_job(&self, tenant: &str, id: &str) -> StoreResult<Option<GraphJobRecord>>;
    /// A page of a tenant's graph jobs (without their drawings).
    async fn list_graph_jobs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<GraphJobRecord>>;

    /// Insert or replace a run request.
    async fn put_run_request(&self, r: &RunRequest) -> StoreResult<()>;
    /// One run request.
    async fn get_run_request(&self, tenant: &str, id: Uuid) -> StoreResult<Option<RunRequest>>;
    /// A page of a tenant's run requests, oldest first.
    async fn list_run_requests(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunRequest>>;
    /// Mark every `queued`/`running` request `interrupted` (a process stopped before they
    /// ended); returns how many.
    async fn interrupt_unfinished_runs(&self, at: DateTime<Utc>, reason: &str) -> StoreResult<u64>;

    /// Resources per tenant, kind and state.
    async fn resource_counts(&self) -> StoreResult<Vec<ResourceCount>>;
    /// Run requests per status.
    async fn run_request_counts(&self) -> StoreResult<Vec<(String, u64)>>;
    /// Scheduler jobs per state.
    async fn job_counts(&self) -> StoreResult<Vec<(String, u64)>>;
}
