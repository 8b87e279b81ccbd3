//! The shared site store suite against the in-memory repository of the test kit.

use std::sync::Arc;

use maestro_core::testing::MemoryRepository;

maestro_core::site_store_suite!(async { Arc::new(MemoryRepository::new()) });
