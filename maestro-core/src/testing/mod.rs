//! The test kit (feature `testing`): an in-memory repository with the same semantics as the SQL
//! stores, a recording publisher, a static provider, a pass-through translator, fault injection,
//! contract-test helpers for providers and publishers, and the shared repository suite.

mod contract;
mod memory;
mod publisher;
pub mod repository_suite;
pub mod scheduler_suite;
pub mod site_store_suite;
mod sources;

pub use contract::{assert_provider_contract, assert_publisher_contract, sample_events};
pub use memory::MemoryRepository;
pub use publisher::RecordingPublisher;
pub use sources::{PassThroughTranslator, ScriptedProvider, StaticProvider, item};

pub use crate::repository::FaultInjection;
