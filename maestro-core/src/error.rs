//! Error types of maestro-core.
//!
//! Every component error says whether retrying can help ([`Retry`]); the pipeline's retry layer
//! reads that and nothing else.

use std::time::Duration;

/// A boxed error from a component (provider, store, publisher).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Convenience result alias for maestro-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether an operation that failed may succeed when tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Never retry: the input or the credentials are wrong.
    Never,
    /// Retry with the policy's backoff.
    Backoff,
    /// Retry, but not before this long (e.g. a `Retry-After` header or a throttling hint).
    After(Duration),
}

/// Errors that know whether a retry can help.
pub trait Retryable {
    /// How (and whether) to retry after this error.
    fn retry(&self) -> Retry;
}

/// What went wrong when a provider fetched a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderErrorKind {
    /// Credentials were refused or missing. Not retried.
    Auth,
    /// The source throttled us (HTTP 429, `Throttling`, `RequestLimitExceeded`). Retried.
    Throttled,
    /// A transient fault: timeout, connection reset, HTTP 5xx. Retried.
    Transient,
    /// The source answered with something we cannot parse. Not retried.
    Malformed,
    /// The request itself is wrong (unknown task, bad configuration). Not retried.
    Invalid,
}

/// An error from a [`Provider`](crate::Provider).
#[derive(Debug, thiserror::Error)]
#[error("{kind:?} error: {message}")]
pub struct ProviderError {
    /// The class of failure; decides retries.
    pub kind: ProviderErrorKind,
    /// Human readable detail (never contains credentials).
    pub message: String,
    /// A server-provided hint of how long to wait.
    pub retry_after: Option<Duration>,
    /// The underlying cause.
    #[source]
    pub source: Option<BoxError>,
}

impl ProviderError {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), retry_after: None, source: None }
    }
    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// Attach a retry-after hint.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
    /// Shorthand for a transient failure.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ProviderErrorKind::Transient, message)
    }
    /// Shorthand for an authentication failure.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ProviderErrorKind::Auth, message)
    }
    /// Shorthand for a malformed answer.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ProviderErrorKind::Malformed, message)
    }
    /// Shorthand for an invalid request.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ProviderErrorKind::Invalid, message)
    }
}

impl Retryable for ProviderError {
    fn retry(&self) -> Retry {
        match self.kind {
            ProviderErrorKind::Throttled | ProviderErrorKind::Transient => {
                self.retry_after.map_or(Retry::Backoff, Retry::After)
            }
            _ => Retry::Never,
        }
    }
}

/// A raw item that could not be translated.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("item {item}: {reason}")]
pub struct TranslateError {
    /// Which item (its native id if known, else its position in the page).
    pub item: String,
    /// Why it could not be translated.
    pub reason: String,
}

impl TranslateError {
    /// A new translation error for `item`.
    pub fn new(item: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { item: item.into(), reason: reason.into() }
    }
}

/// An error from a [`Repository`](crate::Repository) or outbox store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database could not be reached or the statement failed for a transient reason.
    #[error("storage unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// The driver error.
        #[source]
        source: Option<BoxError>,
    },
    /// A statement failed.
    #[error("storage query failed ({context}): {source}")]
    Query {
        /// Which operation.
        context: String,
        /// The driver error.
        #[source]
        source: BoxError,
    },
    /// Stored data could not be decoded.
    #[error("corrupt stored data ({context}): {message}")]
    Corrupt {
        /// Which table/field.
        context: String,
        /// What was wrong.
        message: String,
    },
    /// The request is invalid (bad filter, unknown id).
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// Another process holds the lease this call needs.
    #[error("lease `{0}` is held by another owner")]
    LeaseHeld(String),
}

impl StorageError {
    /// Wrap a driver error with the operation it happened in.
    pub fn query(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Query { context: context.into(), source: source.into() }
    }
}

impl Retryable for StorageError {
    fn retry(&self) -> Retry {
        match self {
            StorageError::Unavailable { .. } => Retry::Backoff,
            _ => Retry::Never,
        }
    }
}

/// An error from a [`Publisher`](crate::Publisher).
#[derive(Debug, thiserror::Error)]
#[error("publish to `{sink}` failed: {message}")]
pub struct PublishError {
    /// The publisher's name.
    pub sink: String,
    /// What failed.
    pub message: String,
    /// Whether a later attempt may succeed (sink down, timeout) or never will (event rejected).
    pub retry: Retry,
    /// The underlying cause.
    #[source]
    pub source: Option<BoxError>,
}

impl PublishError {
    /// A transient failure: the sink is down or slow; the relay retries with backoff.
    pub fn transient(sink: impl Into<String>, message: impl Into<String>) -> Self {
        Self { sink: sink.into(), message: message.into(), retry: Retry::Backoff, source: None }
    }
    /// A permanent failure for this event: the relay dead-letters it.
    pub fn rejected(sink: impl Into<String>, message: impl Into<String>) -> Self {
        Self { sink: sink.into(), message: message.into(), retry: Retry::Never, source: None }
    }
    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
}

impl Retryable for PublishError {
    fn retry(&self) -> Retry {
        self.retry
    }
}

/// Every problem found in a configuration, each with its field path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors {
    /// `(field path, message)` pairs, in the order found.
    pub problems: Vec<(String, String)>,
}

impl ConfigErrors {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Record a problem at `path`.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push((path.into(), message.into()));
    }
    /// `Ok(value)` if no problem was recorded, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> std::result::Result<T, ConfigErrors> {
        if self.problems.is_empty() { Ok(value) } else { Err(self) }
    }
    /// Whether any problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.problems.len())?;
        for (path, msg) in &self.problems {
            writeln!(f, "  - {path}: {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The top-level error of a maestro run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A provider failed (after retries).
    #[error("provider `{provider}` failed: {source}")]
    Provider {
        /// Provider name.
        provider: String,
        /// The cause.
        #[source]
        source: ProviderError,
    },
    /// The repository failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A publisher failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// An operation did not finish in time.
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// What timed out.
        operation: String,
        /// The limit.
        after: Duration,
    },
}
