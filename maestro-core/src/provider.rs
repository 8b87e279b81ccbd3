//! The [`Provider`] trait: a source of raw items, page by page, per scope.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{ProviderError, TranslateError};
use crate::model::Scope;

/// An opaque pagination token (NextToken, Marker, a `next` URL, a file offset…).
pub type Cursor = String;

/// One page of raw items.
#[derive(Debug, Default, Clone)]
pub struct Page {
    /// The raw items, as the source returned them.
    pub items: Vec<Value>,
    /// Items of this page that could not be read at all (malformed). Reporting them makes the
    /// scope *partial*, so nothing is deactivated.
    pub bad_items: Vec<TranslateError>,
    /// The cursor of the next page, or `None` when this was the last page.
    pub next: Option<Cursor>,
}

impl Page {
    /// A last page holding `items`.
    pub fn last(items: Vec<Value>) -> Self {
        Self { items, bad_items: Vec::new(), next: None }
    }
    /// A page holding `items` followed by the page at `next`.
    pub fn with_next(items: Vec<Value>, next: impl Into<Cursor>) -> Self {
        Self { items, bad_items: Vec::new(), next: Some(next.into()) }
    }
}

/// A source of raw items: a cloud API, a file, a directory of reports.
///
/// # Contract
/// - [`scopes`](Provider::scopes) MUST list every scope the run covers; each scope is crawled
///   and tracked on its own.
/// - [`fetch_page`](Provider::fetch_page) MUST return the page at `cursor` (`None` = the first
///   page) and the cursor of the next one. It MUST be safe to call again with the same cursor
///   after an error (the pipeline retries pages, not scopes).
/// - An `Err` is classified by [`ProviderErrorKind`](crate::ProviderErrorKind): throttling and
///   transient errors are retried with backoff; the others fail the scope at once. A failed scope
///   deactivates nothing.
/// - Items it cannot parse SHOULD go to [`Page::bad_items`] rather than failing the page.
/// - Credentials MUST NOT appear in errors or logs.
///
/// Required: `name`, `scopes`, `fetch_page`. There are no optional methods yet; optional
/// capabilities will come as extension traits.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's registered name (`file`, `aws`, …).
    fn name(&self) -> &str;

    /// The scopes of one run of this provider's task.
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError>;

    /// Fetch the page of `scope` at `cursor`.
    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError>;
}
