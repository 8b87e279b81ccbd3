//! The TiX processor: the measurement service of issue 10 on maestro's engine.
//!
//! [`TixProcessor`] reads the condenser's report files below `{base}/{user}/{installation}/`,
//! runs the exact select → analyse loop of [`maestro_tix`] under a per-installation lease, and
//! records one `tix.result` event per batch in the outbox ([`maestro_core::OutboxStore`]); the
//! [`tix_api`](crate::tix_api) publisher, driven by an [`OutboxRelay`](maestro_core::OutboxRelay),
//! posts them to the results API with retries.
//!
//! It is a library API, not an entry of [`PROVIDERS`](crate::PROVIDERS): a maestro provider yields
//! inventory resources per scope for the sync pipeline, while the processor consumes files and
//! produces events.
//!
//! Guarantees (details in `docs/tix-processor.md`):
//! - **record before delete**: a batch's event is committed before any of its files is
//!   deleted or moved, so a crash never loses a result;
//! - **no duplicates**: the event id is UUID v5 of the batch's idempotency key
//!   (`tix:{user}:{installation}:{first}-{last}`), and the outbox ignores a duplicate id, so a
//!   batch recorded again after a crash yields no second event and no second POST;
//! - **no stuck installation**: a batch whose analysis fails (zero-width bin, too short span…)
//!   is recorded as `tix.quarantined` with its reason, its consumed files move to
//!   `quarantine/`, and processing continues; unparsable files are quarantined the same way;
//! - **nothing dropped silently**: files the selection discards (IP change, gap) are listed in
//!   the report and in a `tix.dropped` event;
//! - **one worker per installation**: the lease `tix:{user}:{installation}` in the store.
//!
//! Events: [`TIX_RESULT`], [`TIX_QUARANTINED`], [`TIX_DROPPED`].

mod config;
pub mod event;
mod processor;

#[cfg(test)]
mod tests;

pub use config::{AsLookupConfig, DEFAULT_PERIOD_MINUTES, DroppedFiles, IGNORED_ENV, TixConfig, UsageMode};
pub use event::{TIX_DROPPED, TIX_QUARANTINED, TIX_RESULT, result_event_id};
pub use processor::{
    DroppedFileReport, InstallationReport, InstallationStatus, ProcessReport, QuarantinedItem, TixProcessError,
    TixProcessor,
};
