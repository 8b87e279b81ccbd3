//! The crate's error type.

/// Errors of the graph library.
///
/// Every variant maps to a graph job status in [`crate::job`]: source failures and
/// invalid input become `error`, "nothing to draw" cases are reported as `warning`
/// by the job layer rather than as errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The inventory source failed (I/O, database, remote service).
    #[error("inventory source failed: {message}")]
    Source {
        /// What the source was doing.
        message: String,
        /// The underlying cause, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A demo/fixture file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document could not be parsed.
    #[error("invalid json in {what}")]
    Json {
        /// Which document.
        what: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A `#name::<name>` reference points to nothing.
    #[error("unresolved reference `{reference}` in {context}")]
    UnresolvedRef {
        /// The reference text.
        reference: String,
        /// Where it was found.
        context: String,
    },
    /// The graph type is not supported by this builder.
    #[error("unsupported graph type `{0}`")]
    UnsupportedGraphType(String),
    /// The grid is empty or otherwise cannot be drawn.
    #[error("cannot draw: {0}")]
    Draw(String),
    /// Writing XML failed.
    #[error("xml writer failed")]
    Xml(#[source] std::io::Error),
}

/// Result alias with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A source error with a message and no cause.
    pub fn source_msg(message: impl Into<String>) -> Self {
        Error::Source { message: message.into(), source: None }
    }
}
