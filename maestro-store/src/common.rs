//! Helpers shared by the SQL backends: error mapping, time and JSON codecs, cursors.

use chrono::{DateTime, TimeZone, Utc};
use maestro_core::StorageError;
use maestro_core::repository::{PageOf, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::Row;

/// Map a driver error to a [`StorageError`], classifying connection trouble as retriable.
pub(crate) fn db_err(context: &'static str) -> impl Fn(sqlx::Error) -> StorageError {
    move |e| match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StorageError::Unavailable { message: format!("{context}: {e}"), source: Some(Box::new(e)) }
        }
        sqlx::Error::Database(ref d) if is_busy(d.code().as_deref()) => {
            StorageError::Unavailable { message: format!("{context}: {e}"), source: Some(Box::new(e)) }
        }
        other => StorageError::query(context, other),
    }
}

/// SQLite BUSY/LOCKED, PostgreSQL serialization failure / deadlock / connection errors.
fn is_busy(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "517" | "40001" | "40P01" | "57P01" | "08006" | "08003"))
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("model types always serialise")
}

pub(crate) fn parse<T: DeserializeOwned>(context: &str, s: &str) -> Result<T, StorageError> {
    serde_json::from_str(s).map_err(|e| StorageError::Corrupt { context: context.to_string(), message: e.to_string() })
}

pub(crate) fn cursor(after: &Option<String>) -> Result<i64, StorageError> {
    match after {
        None => Ok(0),
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| StorageError::Invalid(format!("bad page cursor `{c}`"))),
    }
}

/// Effective `last_seen`: an active resource with no pending miss was seen by the last complete
/// sweep of its scope, which does not write unchanged rows.
pub(crate) fn effective_last_seen(
    active: bool,
    missed_runs: u32,
    last_seen: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    match completed_at {
        Some(done) if active && missed_runs == 0 && done > last_seen => done,
        _ => last_seen,
    }
}

pub(crate) fn injected_fault() -> StorageError {
    StorageError::Unavailable {
        message: "injected fault: batch interrupted (transaction dropped)".into(),
        source: None,
    }
}

pub(crate) fn from_json<T: DeserializeOwned>(context: &str, v: serde_json::Value) -> Result<T, StorageError> {
    serde_json::from_value(v)
        .map_err(|e| StorageError::Corrupt { context: context.to_string(), message: e.to_string() })
}

/// One hop of an incoming relation walk: keep the nodes not reached before, recording `depth`
/// as their first-reach depth (shared by both stores' `related`).
pub(crate) fn first_reached(
    seen: &mut std::collections::HashMap<i64, u32>,
    depth: u32,
    nodes: impl Iterator<Item = (i64, String)>,
) -> Vec<(i64, String)> {
    nodes
        .filter(|(id, _)| match seen.entry(*id) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(depth);
                true
            }
            std::collections::hash_map::Entry::Occupied(_) => false,
        })
        .collect()
}

/// The first `limit` rows mapped, and the next cursor (the last row's `id`) if there were more
/// (list queries fetch `limit + 1` rows to know).
pub(crate) fn page_of_rows<R, T>(
    rows: &[R],
    limit: u32,
    map: impl Fn(&R) -> Result<T, StorageError>,
) -> StoreResult<PageOf<T>>
where
    R: Row,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let page = &rows[..rows.len().min(limit as usize)];
    let items = page.iter().map(map).collect::<Result<Vec<_>, _>>()?;
    let next = (rows.len() > page.len()).then(|| page.last().map(|r| r.get::<i64, _>("id").to_string())).flatten();
    Ok(PageOf { items, next })
}
