//! Route handlers, one module per area; shared paging helpers.

pub mod connections;
pub mod graphs;
pub mod outbox;
pub mod resources;
pub mod runs;
pub mod schedules;
pub mod sites;
pub mod system;

use axum::http::Uri;
use maestro_core::{PageOf, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// `?limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Check a page size and cursor.
pub fn page_request(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_field("limit", format!("limit must be 1..={MAX_LIMIT}, got {limit}")));
    }
    if let Some(c) = &cursor
        && (c.is_empty() || c.len() > 1024 || c.chars().any(char::is_control))
    {
        return Err(ApiError::bad_field("cursor", "cursor is not one this server returned"));
    }
    Ok(PageRequest { after: cursor, limit })
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Cursor of the next page (`null` at the end).
    pub next_cursor: Option<String>,
    /// URL (path and query) of the next page (`null` at the end).
    pub next: Option<String>,
}

fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl<T> Page<T> {
    /// A page of `items` mapped from a store page; `uri` is the request's, for the next link.
    pub fn from_store<S>(page: PageOf<S>, uri: &Uri, f: impl FnMut(S) -> T) -> Self {
        let items = page.items.into_iter().map(f).collect();
        let next = page.next.as_deref().map(|c| next_link(uri, c));
        Page { items, next_cursor: page.next, next }
    }
}

/// The request's path and query with `cursor` set to `next_cursor`: the next page's URL.
pub fn next_link(uri: &Uri, next_cursor: &str) -> String {
    let mut q: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
        .map(str::to_string)
        .collect();
    q.push(format!("cursor={}", encode_component(next_cursor)));
    format!("{}?{}", uri.path(), q.join("&"))
}

/// Build a list of pages' schemas for utoipa (concrete instantiations of [`Page`]).
pub type ResourcePage = Page<resources::ResourceView>;
/// Changes.
pub type ChangePage = Page<resources::ChangeView>;
/// Connections.
pub type ConnectionPage = Page<connections::ConnectionView>;
/// Runs.
pub type RunPage = Page<runs::RunView>;
/// Graphs.
pub type GraphPage = Page<graphs::GraphView>;
/// Sites.
pub type SitePage = Page<sites::SiteView>;
/// Check results.
pub type CheckPage = Page<sites::CheckView>;
/// Dead letters.
pub type DeadLetterPage = Page<outbox::DeadLetterView>;
