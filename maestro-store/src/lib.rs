//! SQL stores for maestro: [`SqliteStore`] (the embedded default: one file, zero set-up) and
//! [`PostgresStore`] (for many machines). Both implement `maestro_core::Repository` and
//! `maestro_core::OutboxStore` with the same semantics and pass the same test suite
//! (`maestro_core::testing::repository_suite`). Migrations run on open.
//!
//! # Example
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use maestro_core::{Repository, ResourceFilter, PageRequest};
//! let store = maestro_store::open("sqlite::memory:").await.unwrap();
//! let page = store.list_resources(&ResourceFilter::tenant("acme"), &PageRequest::first(50)).await.unwrap();
//! assert!(page.items.is_empty());
//! # });
//! ```
//!
//! # Why a crate of its own
//! maestro-core carries no database driver (plugin authors should not compile sqlx); the server,
//! the Python binding and the examples all need the same stores, so they live here.

mod common;
mod plan;
mod postgres;
mod postgres_scheduler;
mod postgres_server;
mod postgres_sites;
mod sqlite;
mod sqlite_scheduler;
mod sqlite_server;
mod sqlite_sites;

use std::sync::Arc;

use maestro_core::monitor::SiteStore;
use maestro_core::repository::FaultInjection;
use maestro_core::scheduler::ScheduleStore;
use maestro_core::server_store::ServerStore;
use maestro_core::{StorageError, Store};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A store of either backend: repository, outbox, leases, scheduler, sites and server tables.
pub trait AnyStore: Store + ScheduleStore + ServerStore + SiteStore + FaultInjection {}
impl<T: Store + ScheduleStore + ServerStore + SiteStore + FaultInjection> AnyStore for T {}

/// Open a store from a URL: `sqlite://path`, `sqlite::memory:`, or `postgres://…`.
///
/// # Errors
/// An unknown scheme, a bad URL, an unreachable server or a failed migration, each with the URL's
/// scheme named (the URL itself may carry a password and is not repeated).
pub async fn open(url: &str) -> Result<Arc<dyn AnyStore>, StorageError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or("");
        Err(StorageError::Invalid(format!(
            "unknown database URL scheme `{scheme}`: use sqlite://<file> or postgres://…"
        )))
    }
}
