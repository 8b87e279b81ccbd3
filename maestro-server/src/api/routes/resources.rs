//! Resources: filtered lists, one resource, its history, the inventory as of a time.

use std::collections::BTreeMap;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use maestro_core::{Change, HistoryQuery, Kind, PageOf, RawResource, Resource, ResourceFilter, ResourceKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ChangePage, Page, ResourcePage, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::api::ids::SafeId;

/// Resource filters and paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// Only this kind (`server`, `application`, …).
    pub kind: Option<String>,
    /// Only active (`true`) or inactive (`false`) resources.
    pub active: Option<bool>,
    /// Only those with this tag: `key` or `key=value`.
    pub tag: Option<String>,
    /// Only those whose name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only this connection.
    pub connection: Option<String>,
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// `GET /inventory` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// The time to reconstruct (RFC 3339).
    pub as_of: DateTime<Utc>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only resources active (or not) at that time.
    pub active: Option<bool>,
    /// Only this connection.
    pub connection: Option<String>,
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// History paging and time window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only changes at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only changes before this time.
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A resource's identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Tenant.
    pub tenant: String,
    /// Connection.
    pub connection: String,
    /// Kind.
    pub kind: String,
    /// Provider id.
    pub native_id: String,
}

/// A stored resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceView {
    /// Identity.
    pub key: KeyView,
    /// The key encoded for `/resources/key/{key}` (works for ids holding `/`).
    pub encoded_key: String,
    /// Scope that wrote it.
    pub scope: String,
    /// Present at the last complete crawl of its scope.
    pub active: bool,
    /// Display name.
    pub name: String,
    /// Normalised attributes.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// Links to other resources.
    #[schema(value_type = Vec<Object>)]
    pub relations: Vec<maestro_core::Relation>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// User-owned fields.
    #[schema(value_type = Object)]
    pub user_fields: Map<String, Value>,
    /// First seen.
    pub first_seen: DateTime<Utc>,
    /// Last seen.
    pub last_seen: DateTime<Utc>,
    /// Missing since (inactive resources).
    pub missing_since: Option<DateTime<Utc>>,
    /// Row version.
    pub version: i64,
}

/// Encode a key's connection, kind and native id for `/resources/key/{key}`.
pub fn encode_key(key: &ResourceKey) -> String {
    let json = serde_json::json!([key.connection, key.kind.as_str(), key.native_id]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

fn decode_key(tenant: &str, s: &str) -> Result<ResourceKey, ApiError> {
    let bad =
        || ApiError::bad_field("key", "not a key this server encoded (base64url of [connection, kind, native_id])");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let (c, k, n): (String, String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if c.is_empty() || k.is_empty() || n.is_empty() {
        return Err(bad());
    }
    Ok(ResourceKey::new(tenant, c, Kind::new(k), n))
}

impl From<Resource> for ResourceView {
    fn from(r: Resource) -> Self {
        ResourceView {
            encoded_key: encode_key(&r.key),
            key: KeyView {
                tenant: r.key.tenant,
                connection: r.key.connection,
                kind: r.key.kind.to_string(),
                native_id: r.key.native_id,
            },
            scope: r.scope,
            active: r.active,
            name: r.doc.name,
            attributes: r.doc.attributes,
            relations: r.doc.relations,
            tags: r.doc.tags,
            user_fields: r.user_fields,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            missing_since: r.missing_since,
            version: r.version,
        }
    }
}

/// One change of a resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// Sequence (history order).
    pub seq: i64,
    /// `created`, `updated`, `deactivated` or `reactivated`.
    pub op: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The run that made it.
    pub run_id: Option<Uuid>,
    /// Row version after it.
    pub version: i64,
    /// Changed paths with old and new values: `[{"path", "old"?, "new"?}]`.
    #[schema(value_type = Vec<Object>)]
    pub diff: Value,
}

impl From<Change> for ChangeView {
    fn from(c: Change) -> Self {
        ChangeView {
            seq: c.seq,
            op: c.op.as_str().into(),
            at: c.at,
            run_id: c.run_id,
            version: c.version,
            diff: serde_json::to_value(&c.diff).unwrap_or(Value::Null),
        }
    }
}

fn opt_text(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.len() > 512 => Err(ApiError::bad_field(field, format!("{field} is longer than 512 bytes"))),
        Some(s) if s.contains('\0') => Err(ApiError::bad_field(field, format!("{field} must not contain NUL"))),
        other => Ok(other),
    }
}

fn filter(
    tenant: &str,
    kind: Option<String>,
    active: Option<bool>,
    tag: Option<String>,
    q: Option<String>,
    connection: Option<String>,
) -> Result<ResourceFilter, ApiError> {
    let tag = opt_text("tag", tag)?.map(|t| match t.split_once('=') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (t, None),
    });
    if let Some((k, _)) = &tag
        && k.is_empty()
    {
        return Err(ApiError::bad_field("tag", "tag must be `key` or `key=value` with a non-empty key"));
    }
    Ok(ResourceFilter {
        tenant: tenant.to_string(),
        connection: opt_text("connection", connection)?,
        kind: opt_text("kind", kind)?.map(Kind::new),
        active,
        tag,
        text: opt_text("q", q)?,
        scope: None,
    })
}

/// List resources of the caller's tenant.
#[utoipa::path(get, path = "/resources", tag = "resources", params(ResourceQuery),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<ResourceView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> ApiResult<RawResourcePage> {
    let page = page_request(q.limit, q.cursor)?;
    let f = filter(&who.tenant, q.kind, q.active, q.tag, q.q, q.connection)?;
    let p = s.inner.store.list_resources_raw(&f, &page).await?;
    Ok(RawResourcePage::new(p, &uri))
}

/// A page of resources written straight from the stored JSON text: the same body as
/// `Page<ResourceView>` serialised, without decoding each document and encoding it again
/// (that round trip was most of a listing's cost; see docs/benchmarks.md).
#[derive(Debug)]
pub struct RawResourcePage(Vec<u8>);

impl RawResourcePage {
    /// Write `page` as `{"items": [ResourceView…], "next_cursor", "next"}`; `uri` is the request's.
    pub fn new(page: PageOf<RawResource>, uri: &Uri) -> Self {
        let size: usize = page
            .items
            .iter()
            .map(|r| {
                256 + r.name.len()
                    + r.key.native_id.len() * 2
                    + r.attributes_json.len()
                    + r.relations_json.len()
                    + r.tags_json.len()
                    + r.user_fields_json.len()
            })
            .sum();
        let mut out = Vec::with_capacity(size + 128);
        out.extend_from_slice(b"{\"items\":[");
        for (i, r) in page.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_raw_resource(&mut out, r);
        }
        out.extend_from_slice(b"],\"next_cursor\":");
        json_to(&mut out, &page.next);
        out.extend_from_slice(b",\"next\":");
        json_to(&mut out, &page.next.as_deref().map(|c| super::next_link(uri, c)));
        out.push(b'}');
        RawResourcePage(out)
    }

    /// The JSON body.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl IntoResponse for RawResourcePage {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], self.0).into_response()
    }
}

/// Serialise `v` (a string, date or option of one) onto `out`; writing to a `Vec` cannot fail.
fn json_to<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(&mut *out, v).expect("serialising a string or date into a Vec");
}

/// One [`ResourceView`], field for field in its order, with the stored JSON parts copied as they are.
fn write_raw_resource(out: &mut Vec<u8>, r: &RawResource) {
    out.extend_from_slice(b"{\"key\":{\"tenant\":");
    json_to(out, &r.key.tenant);
    out.extend_from_slice(b",\"connection\":");
    json_to(out, &r.key.connection);
    out.extend_from_slice(b",\"kind\":");
    json_to(out, r.key.kind.as_str());
    out.extend_from_slice(b",\"native_id\":");
    json_to(out, &r.key.native_id);
    out.extend_from_slice(b"},\"encoded_key\":\"");
    // As encode_key, written in place: base64url of `[connection, kind, native_id]`.
    let triple = serde_json::to_vec(&(&r.key.connection, r.key.kind.as_str(), &r.key.native_id))
        .expect("serialising three strings into a Vec");
    let start = out.len();
    out.resize(start + base64::encoded_len(triple.len(), false).expect("a key's length fits usize"), 0);
    let written = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode_slice(&triple, &mut out[start..])
        .expect("the buffer was sized for the encoding");
    out.truncate(start + written);
    out.extend_from_slice(b"\",\"scope\":");
    json_to(out, &r.scope);
    out.extend_from_slice(if r.active { b",\"active\":true,\"name\":" } else { b",\"active\":false,\"name\":" });
    json_to(out, &r.name);
    out.extend_from_slice(b",\"attributes\":");
    out.extend_from_slice(r.attributes_json.as_bytes());
    out.extend_from_slice(b",\"relations\":");
    out.extend_from_slice(r.relations_json.as_bytes());
    out.extend_from_slice(b",\"tags\":");
    out.extend_from_slice(r.tags_json.as_bytes());
    out.extend_from_slice(b",\"user_fields\":");
    out.extend_from_slice(r.user_fields_json.as_bytes());
    out.extend_from_slice(b",\"first_seen\":");
    write_time(out, &r.first_seen);
    out.extend_from_slice(b",\"last_seen\":");
    write_time(out, &r.last_seen);
    out.extend_from_slice(b",\"missing_since\":");
    match &r.missing_since {
        Some(t) => write_time(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(r.version.to_string().as_bytes());
    out.push(b'}');
}

/// A time as chrono's serde writes it (RFC 3339, `Z`, fraction of 0, 3, 6 or 9 digits as needed),
/// without going through `fmt`; years outside 0..=9999 go through chrono.
fn write_time(out: &mut Vec<u8>, t: &DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return json_to(out, t);
    }
    let two = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
    out.push(b'"');
    let y = year as u32;
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, t.month());
    out.push(b'-');
    two(out, t.day());
    out.push(b'T');
    two(out, t.hour());
    out.push(b':');
    two(out, t.minute());
    out.push(b':');
    two(out, t.second());
    let (digits, value) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    if digits > 0 {
        out.push(b'.');
        let mut buf = [b'0'; 9];
        let mut v = value;
        for d in buf[..digits].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..digits]);
    }
    out.extend_from_slice(b"Z\"");
}

/// The inventory as it was at `as_of`.
#[utoipa::path(get, path = "/inventory", tag = "resources", params(InventoryQuery),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<ResourceView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn inventory(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<InventoryQuery>,
) -> ApiResult<ApiJson<ResourcePage>> {
    let page = page_request(q.limit, q.cursor)?;
    let f = filter(&who.tenant, q.kind, q.active, None, None, q.connection)?;
    let p = s.inner.store.inventory_as_of(&f, q.as_of, &page).await?;
    Ok(ApiJson(Page::from_store(p, &uri, ResourceView::from)))
}

async fn one(s: &ApiState, key: ResourceKey) -> ApiResult<ApiJson<ResourceView>> {
    match s.inner.store.get_resource(&key).await? {
        Some(r) => Ok(ApiJson(r.into())),
        None => Err(ApiError::NotFound(format!("no resource {}/{}/{}", key.connection, key.kind, key.native_id))),
    }
}

/// One resource by its four-part key (ids holding `/` need `/resources/key/{key}`).
#[utoipa::path(get, path = "/resources/{tenant}/{connection}/{kind}/{native_id}", tag = "resources",
    params(("tenant" = String, Path), ("connection" = String, Path), ("kind" = String, Path), ("native_id" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ResourceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath((tenant, connection, kind, native_id)): ApiPath<(SafeId, SafeId, SafeId, SafeId)>,
) -> ApiResult<ApiJson<ResourceView>> {
    who.same_tenant(&tenant)?;
    one(&s, ResourceKey::new(tenant.0, connection.0, Kind::new(kind.0), native_id.0)).await
}

/// One resource by its encoded key (`encoded_key` of a listing).
#[utoipa::path(get, path = "/resources/key/{key}", tag = "resources", params(("key" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ResourceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn by_key(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<ApiJson<ResourceView>> {
    let key = decode_key(&who.tenant, &key)?;
    one(&s, key).await
}

async fn history_of(
    s: &ApiState,
    key: ResourceKey,
    uri: &axum::http::Uri,
    p: HistoryParams,
) -> ApiResult<ApiJson<ChangePage>> {
    let page = page_request(p.limit, p.cursor)?;
    if s.inner.store.get_resource(&key).await?.is_none() {
        return Err(ApiError::NotFound(format!("no resource {}/{}/{}", key.connection, key.kind, key.native_id)));
    }
    let q = HistoryQuery { tenant: key.tenant.clone(), key: Some(key), since: p.since, until: p.until };
    let h = s.inner.store.history(&q, &page).await?;
    Ok(ApiJson(Page::from_store(h, uri, ChangeView::from)))
}

/// A resource's change history, oldest first.
#[utoipa::path(get, path = "/resources/{tenant}/{connection}/{kind}/{native_id}/history", tag = "resources",
    params(("tenant" = String, Path), ("connection" = String, Path), ("kind" = String, Path), ("native_id" = String, Path), HistoryParams),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<ChangeView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiPath((tenant, connection, kind, native_id)): ApiPath<(SafeId, SafeId, SafeId, SafeId)>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> ApiResult<ApiJson<ChangePage>> {
    who.same_tenant(&tenant)?;
    history_of(&s, ResourceKey::new(tenant.0, connection.0, Kind::new(kind.0), native_id.0), &uri, p).await
}

/// A resource's change history by encoded key.
#[utoipa::path(get, path = "/resources/key/{key}/history", tag = "resources", params(("key" = String, Path), HistoryParams),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<ChangeView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn history_by_key(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiPath(key): ApiPath<String>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> ApiResult<ApiJson<ChangePage>> {
    let key = decode_key(&who.tenant, &key)?;
    history_of(&s, key, &uri, p).await
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::write_time;

    /// `write_time` writes what chrono's serde writes, for every fraction length and edge year.
    #[test]
    fn write_time_matches_chrono_serde() {
        let base = Utc.with_ymd_and_hms(2026, 11, 24, 9, 5, 7).unwrap();
        let mut times: Vec<DateTime<Utc>> = [0, 1, 999, 1_000, 120_000, 123_456, 1_000_000, 5_000_000, 123_456_789]
            .iter()
            .map(|&ns| base + chrono::Duration::nanoseconds(ns))
            .collect();
        times.push(DateTime::<Utc>::default());
        times.push(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
        times.push(Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(5, 3, 4, 1, 2, 3).unwrap());
        for t in times {
            let mut out = Vec::new();
            write_time(&mut out, &t);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&t).unwrap(), "{t:?}");
        }
    }
}
