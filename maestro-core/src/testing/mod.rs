//! The test kit (feature `testing`): an in-memory repository with the same semantics as the SQL
//! stores, a recording publisher, a static provider, a pass-through translator, fault injection,
//! contract-test helpers for providers and publishers, and the shared repository suite.

mod contract;
mod memory;
mod publisher;
pub mod repository_suite;
mod sources;

pub use contract::{assert_provider_contract, assert_publisher_contract, sample_events};
pub use memory::MemoryRepository;
pub use publisher::RecordingPublisher;
pub use sources::{PassThroughTranslator, ScriptedProvider, StaticProvider, item};

/// Stores that can simulate a crash in the middle of a batch, for the atomicity tests.
pub trait FaultInjection {
    /// Make the next `upsert_batch` fail after writing `rows` rows inside its transaction (the
    /// transaction is then dropped, as if the process had been killed).
    fn fail_next_batch_after(&self, rows: usize);
}
