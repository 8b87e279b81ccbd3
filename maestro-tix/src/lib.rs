//! TiX measurement processing: report files, batch selection and the exact analysis.
//!
//! A pure library (no network, no database, no async) that re-implements the measurement side of
//! `tix-time-processor`:
//!
//! * [`ReportFile`] parses the condenser's 12-key JSON report files and their 45-byte records;
//!   the legacy 46-byte layout and corrupt files give a typed [`TixError`] naming the file.
//! * [`Installation`] orders an installation directory's files by their first record and runs
//!   the reference batch selection ([`SelectionConfig`]: 1084 observations, 300 s gaps, host
//!   changes, delete-the-oldest-half) as a dry iterator of [`Selection`]s; dropped files are
//!   reported, and [`Installation::run`] can delete for real.
//! * [`analyse`] computes usage, quality and Hurst exponents of a [`Batch`] exactly as the
//!   reference, in one documented total order ([`analysis`]); degenerate data is an error,
//!   never a panic. [`AnalysisConfig::recommended`] also undoes midnight clock wraps.
//! * [`ReportBody`] is the API body with the reference field names; [`idempotency_key`] names a
//!   batch result; [`asn::AsResolver`] maps IPs to ASes.
//!
//! ```no_run
//! use maestro_tix::{AnalysisConfig, Installation, ReportBody, SelectionConfig};
//!
//! let inst = Installation::open("reports/23/17916")?;
//! for it in inst.iterations(&SelectionConfig::default(), &AnalysisConfig::default()) {
//!     match &it.result {
//!         Ok(result) => {
//!             let body = ReportBody::from((result, &it.selection.batch));
//!             println!("{} {}", it.selection.batch.idempotency_key(), body.to_json());
//!         }
//!         Err(e) => eprintln!("batch {} failed: {e}", it.selection.index),
//!     }
//! }
//! # Ok::<(), maestro_tix::TixError>(())
//! ```
//!
//! The crate has no cargo features.

pub mod analysis;
pub mod asn;
mod body;
mod error;
pub mod hurst;
mod report;
mod selection;

pub use analysis::{
    AnalysisConfig, AnalysisResult, DirectionResult, HurstPair, analyse, analyse_records, analyse_with,
};
pub use body::{API_VERSION, ReportBody, UsagePolicy, idempotency_key};
pub use error::{Result, Series, TixError};
pub use report::{Endpoint, Host, RawReport, Record, ReportFile, decode_records};
pub use selection::{
    Batch, Batches, Disposal, DropReason, DroppedFile, Installation, Iteration, ObservationCount, RejectedFile,
    RunReport, Selection, SelectionConfig, SelectionEnd, delete_files, quarantine_file,
};
