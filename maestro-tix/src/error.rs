//! The error type of maestro-tix.

use std::path::PathBuf;

/// Convenience result alias for maestro-tix.
pub type Result<T, E = TixError> = std::result::Result<T, E>;

/// Which derived series a histogram or estimator was built over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// Round-trip time `t4 - t1` (clock fixer).
    Rtt,
    /// Upstream one-way delay after clock correction.
    Upstream,
    /// Downstream one-way delay after clock correction.
    Downstream,
}

impl std::fmt::Display for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Series::Rtt => "rtt",
            Series::Upstream => "upstream",
            Series::Downstream => "downstream",
        })
    }
}

/// Everything that can go wrong while reading report files, selecting batches, analysing them or
/// resolving an IP address to an AS.
///
/// Parse errors name the file; analysis errors describe the degenerate data of one batch (the
/// caller should record the error and move on: the batch can never succeed, see
/// [`TixError::is_retriable`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TixError {
    /// Reading or deleting a file or directory failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The report file is not the 12-key JSON object written by the condenser (or is empty).
    #[error("invalid report json in {path}: {source}")]
    Json {
        /// The report file.
        path: PathBuf,
        /// The JSON error (names the missing key or the position of the syntax error).
        #[source]
        source: serde_json::Error,
    },
    /// A base64 field of the report does not decode.
    #[error("invalid base64 in field `{field}` of {path}: {source}")]
    Base64 {
        /// The report file.
        path: PathBuf,
        /// The JSON key (`message`, `publicKey`, `signature`).
        field: &'static str,
        /// The decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// The message uses the legacy 2017-04 layout of 46-byte records (UTF-16 type char), which
    /// the processor never could read.
    #[error("legacy 46-byte records in {path} ({len} bytes): only 45-byte records are supported")]
    LegacyRecords {
        /// The report file.
        path: PathBuf,
        /// Decoded message length in bytes.
        len: usize,
    },
    /// The decoded message length is not a multiple of 45 bytes.
    #[error("message of {path} is {len} bytes, not a multiple of 45-byte records")]
    RecordLength {
        /// The report file.
        path: PathBuf,
        /// Decoded message length in bytes.
        len: usize,
    },
    /// The message holds no record at all.
    #[error("message of {path} holds no record")]
    EmptyMessage {
        /// The report file.
        path: PathBuf,
    },
    /// The `from` field is not a socket address (`ipv4:port`, `[ipv6]:port`, `host:port`).
    #[error("invalid `from` address {value:?} in {path}")]
    InvalidFrom {
        /// The report file (empty when parsed outside a file).
        path: PathBuf,
        /// The offending value.
        value: String,
    },
    /// The batch's short observations span less than the meaningful window.
    #[error("observations span {span} s, less than the required {required} s")]
    SpanTooShort {
        /// `max(ts) - min(ts)` of the short records.
        span: i64,
        /// The meaningful window in seconds (600).
        required: i64,
    },
    /// Too few observations to build what was asked.
    #[error("too few observations for the {what}: {got}, need at least {need}")]
    TooFewObservations {
        /// What was being built.
        what: &'static str,
        /// Observations available.
        got: usize,
        /// Observations needed.
        need: usize,
    },
    /// A histogram bin whose values are all equal: its probability is a division by zero.
    #[error("zero-width bin {bin} in the {series} histogram")]
    ZeroWidthBin {
        /// The series of the histogram.
        series: Series,
        /// Index of the bin.
        bin: usize,
    },
    /// No observation lies above the histogram mode, so the usage ratio is undefined.
    #[error("no {series} observation above the mode: usage is undefined")]
    NoObservationAboveMode {
        /// The series.
        series: Series,
    },
    /// No minute of the meaningful window had enough records for the quality estimate.
    #[error("no minute with at least {min_records} usable records: quality is undefined")]
    NoQualityMinutes {
        /// The per-minute minimum (30).
        min_records: usize,
    },
    /// A Hurst estimator could not produce a value.
    #[error("hurst {estimator} estimate of the {series} series failed: {reason}")]
    Hurst {
        /// The series.
        series: Series,
        /// `rs` or `wavelet`.
        estimator: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A configuration value is out of range; every problem is listed, with its field path.
    #[error("invalid configuration: {}", problems.join("; "))]
    InvalidConfig {
        /// `field: problem` entries.
        problems: Vec<String>,
    },
    /// A line of an AS table could not be parsed.
    #[error("invalid line {line} of {table}: {reason}")]
    AsTable {
        /// Which table (file name or description).
        table: String,
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
}

impl TixError {
    /// Whether trying the same operation again may succeed.
    ///
    /// Only I/O errors are retriable; a malformed file or a degenerate batch fails the same way
    /// every time and should be quarantined instead.
    pub fn is_retriable(&self) -> bool {
        matches!(self, TixError::Io { .. })
    }

    /// Whether this error comes from the analysis of a batch (as opposed to parsing or I/O).
    pub fn is_analysis_error(&self) -> bool {
        matches!(
            self,
            TixError::SpanTooShort { .. }
                | TixError::TooFewObservations { .. }
                | TixError::ZeroWidthBin { .. }
                | TixError::NoObservationAboveMode { .. }
                | TixError::NoQualityMinutes { .. }
                | TixError::Hurst { .. }
        )
    }

    /// A short stable name of the variant (for counting and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            TixError::Io { .. } => "io",
            TixError::Json { .. } => "json",
            TixError::Base64 { .. } => "base64",
            TixError::LegacyRecords { .. } => "legacy_records",
            TixError::RecordLength { .. } => "record_length",
            TixError::EmptyMessage { .. } => "empty_message",
            TixError::InvalidFrom { .. } => "invalid_from",
            TixError::SpanTooShort { .. } => "span_too_short",
            TixError::TooFewObservations { .. } => "too_few_observations",
            TixError::ZeroWidthBin { .. } => "zero_width_bin",
            TixError::NoObservationAboveMode { .. } => "no_observation_above_mode",
            TixError::NoQualityMinutes { .. } => "no_quality_minutes",
            TixError::Hurst { .. } => "hurst",
            TixError::InvalidConfig { .. } => "invalid_config",
            TixError::AsTable { .. } => "as_table",
        }
    }
}
