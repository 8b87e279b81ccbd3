//! Monitored sites of the caller's tenant and their check results
//! (`maestro_core::monitor::SiteStore`), validated by the checker's own
//! [`validate_site`](maestro_providers::http_check::validate_site).
//!
//! `POST /sites/{id}/checks` runs one check inline (bounded by the site's `timeout_ms`, capped
//! below the request timeout) and stores it with its `site.check` outbox event exactly as the
//! scheduler's `site.check` job does; the answer is the stored result.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maestro_core::monitor::{CheckQuery, CheckResult, DEFAULT_INTERVAL_SECS, DEFAULT_TIMEOUT_MS, Site};
use maestro_core::{ConfigErrors, Kind, Repository, ResourceKey};
use maestro_providers::http_check::{CheckError, validate_site};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CheckPage, Page, PageParams, SitePage, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};

/// Longest check interval accepted (one year).
pub const MAX_INTERVAL_SECS: u64 = 366 * 24 * 3600;
/// Longest URL, regexp, condition, header or resource field accepted (bytes).
pub const MAX_TEXT: usize = 8192;

fn default_interval() -> u64 {
    DEFAULT_INTERVAL_SECS
}
fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_method() -> String {
    "GET".into()
}
fn yes() -> bool {
    true
}

/// The inventory resource a site belongs to (in the caller's tenant), for the dependency view:
/// failing checks list the resources whose relations point to it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteResource {
    /// Connection the resource was collected through.
    pub connection: String,
    /// Its kind (`application`, `load_balancer`, …).
    pub kind: String,
    /// The provider's id.
    pub native_id: String,
}

/// A site as sent on `POST /sites` and `PUT /sites/{id}` (a PUT replaces every field; omitted
/// ones take their defaults).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    /// The URL to request (`http` or `https`, with a host).
    #[schema(example = "https://example.com/health")]
    pub url: String,
    /// A regular expression (Rust `regex` syntax) searched in the body; the result is
    /// `has_regexp`.
    #[serde(default)]
    pub regexp: Option<String>,
    /// Seconds between two scheduled checks, 1..=31622400 (default 600).
    #[serde(default = "default_interval")]
    #[schema(minimum = 1, maximum = 31_622_400, default = 600)]
    pub interval_secs: u64,
    /// Time limit of one check in ms (connect + headers + body), 1..=600000 (default 10000).
    #[serde(default = "default_timeout")]
    #[schema(minimum = 1, maximum = 600_000, default = 10_000)]
    pub timeout_ms: u64,
    /// HTTP method (default `GET`).
    #[serde(default = "default_method")]
    #[schema(default = "GET")]
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Follow redirects, at most 10 (default true).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub follow_redirects: bool,
    /// Conditions (`[STATUS] == 200`, `[RESPONSE_TIME] < 500`, `[BODY].status == UP`,
    /// `[CERTIFICATE_EXPIRATION] > 48h`); with none, a check succeeds on a status below 400
    /// whose body matches `regexp` (if any).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Disabled sites are not checked by the scheduler (default true).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub enabled: bool,
    /// The inventory resource this endpoint belongs to.
    #[serde(default)]
    pub resource: Option<SiteResource>,
}

/// One condition of a check and whether it held.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionView {
    /// The condition as written.
    pub condition: String,
    /// Whether it held.
    pub success: bool,
}

/// A resource affected by a failing check.
#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedView {
    /// Its key (`tenant/connection/kind/native_id`).
    pub key: String,
    /// Its name.
    pub name: String,
}

/// One check result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// The site.
    pub site_id: i64,
    /// The URL requested.
    pub url: String,
    /// When the check started (UTC).
    pub checked_at: DateTime<Utc>,
    /// Overall verdict: `true` is up.
    pub success: bool,
    /// The final status code, if a response arrived.
    #[schema(minimum = 0, maximum = 65535)]
    pub status_code: Option<u16>,
    /// Time to response headers, in milliseconds.
    pub response_time_ms: Option<f64>,
    /// Whether the regexp matched the body (`null` without a regexp or a response).
    pub has_regexp: Option<bool>,
    /// The leaf certificate's expiry (https only).
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// Why no usable response arrived (connection, timeout, TLS…).
    pub error: Option<String>,
    /// Only the first bytes of a long body were read and matched.
    pub body_truncated: bool,
    /// Every condition and whether it held.
    pub conditions: Vec<ConditionView>,
    /// Resources depending on the site's resource (failing checks of linked sites).
    pub affected: Vec<AffectedView>,
}

impl From<CheckResult> for CheckView {
    fn from(r: CheckResult) -> Self {
        CheckView {
            site_id: r.site_id,
            url: r.url,
            checked_at: r.checked_at,
            success: r.success,
            status_code: r.status_code,
            response_time_ms: r.response_time_ms,
            has_regexp: r.has_regexp,
            cert_expires_at: r.cert_expires_at,
            error: r.error,
            body_truncated: r.body_truncated,
            conditions: r
                .conditions
                .into_iter()
                .map(|c| ConditionView { condition: c.condition, success: c.success })
                .collect(),
            affected: r.affected.into_iter().map(|a| AffectedView { key: a.key.to_string(), name: a.name }).collect(),
        }
    }
}

/// A stored site and its newest check result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    /// Id.
    pub id: i64,
    /// URL.
    pub url: String,
    /// Regular expression searched in the body.
    pub regexp: Option<String>,
    /// Seconds between two scheduled checks.
    pub interval_secs: u64,
    /// Time limit of one check (ms).
    pub timeout_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Conditions.
    pub conditions: Vec<String>,
    /// Checked by the scheduler.
    pub enabled: bool,
    /// The inventory resource it belongs to.
    pub resource: Option<SiteResource>,
    /// The newest check result (`null` before the first check).
    pub last_check: Option<CheckView>,
}

impl SiteView {
    fn of(s: Site, last: Option<CheckResult>) -> Self {
        SiteView {
            id: s.id,
            url: s.url,
            regexp: s.regexp,
            interval_secs: s.interval_secs,
            timeout_ms: s.timeout_ms,
            method: s.method,
            headers: s.headers,
            follow_redirects: s.follow_redirects,
            conditions: s.conditions,
            enabled: s.enabled,
            resource: s.resource.map(|k| SiteResource {
                connection: k.connection,
                kind: k.kind.to_string(),
                native_id: k.native_id,
            }),
            last_check: last.map(CheckView::from),
        }
    }
}

fn text(errors: &mut ConfigErrors, field: &str, value: &str) {
    if value.len() > MAX_TEXT {
        errors.push(field, format!("is longer than {MAX_TEXT} bytes"));
    } else if value.contains('\0') {
        errors.push(field, "must not contain NUL");
    }
}

/// The site of a body, validated by the checker's rules: every problem with its field path
/// (`regexp`, `conditions[1]` with the position in the condition…), as one 422.
fn to_site(tenant: &str, id: i64, b: SiteBody) -> ApiResult<Site> {
    let mut errors = ConfigErrors::new();
    text(&mut errors, "url", &b.url);
    if let Some(r) = &b.regexp {
        text(&mut errors, "regexp", r);
    }
    text(&mut errors, "method", &b.method);
    for (k, v) in &b.headers {
        text(&mut errors, &format!("headers.{k}"), &format!("{k}{v}"));
    }
    for (i, c) in b.conditions.iter().enumerate() {
        text(&mut errors, &format!("conditions[{i}]"), c);
    }
    if !(1..=MAX_INTERVAL_SECS).contains(&b.interval_secs) {
        errors.push("interval_secs", format!("must be 1..={MAX_INTERVAL_SECS}, got {}", b.interval_secs));
    }
    let resource = b.resource.map(|r| {
        for (f, v) in [("connection", &r.connection), ("kind", &r.kind), ("native_id", &r.native_id)] {
            if v.trim().is_empty() {
                errors.push(format!("resource.{f}"), "must not be empty");
            }
            text(&mut errors, &format!("resource.{f}"), v);
        }
        ResourceKey::new(tenant, r.connection, Kind::new(r.kind), r.native_id)
    });
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let site = Site {
        id,
        tenant: tenant.into(),
        url: b.url,
        regexp: b.regexp,
        interval_secs: b.interval_secs,
        timeout_ms: b.timeout_ms,
        method: b.method.to_ascii_uppercase(),
        headers: b.headers,
        follow_redirects: b.follow_redirects,
        conditions: b.conditions,
        enabled: b.enabled,
        resource,
    };
    validate_site(&site).map_err(invalid)?;
    Ok(site)
}

fn invalid(errors: ConfigErrors) -> ApiError {
    let field = errors.problems.first().map(|(p, _)| p.clone());
    let message = errors.problems.iter().map(|(p, m)| format!("{p}: {m}")).collect::<Vec<_>>().join("; ");
    ApiError::unprocessable("invalid_site", message, field)
}

fn check_id(id: i64) -> ApiResult<i64> {
    if id < 1 {
        return Err(ApiError::BadRequest {
            code: "invalid_path",
            message: format!("a site id is a positive integer, got {id}"),
            field: Some("id".into()),
        });
    }
    Ok(id)
}

async fn load(s: &ApiState, tenant: &str, id: i64) -> ApiResult<Site> {
    s.inner.store.get_site(tenant, check_id(id)?).await?.ok_or_else(|| ApiError::NotFound(format!("no site {id}")))
}

async fn last_check(s: &ApiState, tenant: &str, id: i64) -> ApiResult<Option<CheckResult>> {
    let q = CheckQuery { tenant: tenant.into(), site_id: Some(id), newest_first: true, ..CheckQuery::default() };
    let mut page = s.inner.store.list_checks(&q, &page_request(Some(1), None)?).await?;
    Ok(page.items.pop())
}

/// The caller's sites by id, each with its newest check result.
#[utoipa::path(get, path = "/sites", tag = "sites", params(PageParams), security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<SiteView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<SitePage>> {
    let page = page_request(p.limit, p.cursor)?;
    let sites = s.inner.store.list_sites(&who.tenant, false, &page).await?;
    let mut latest: HashMap<i64, CheckResult> =
        s.inner.store.latest_checks(&who.tenant).await?.into_iter().map(|r| (r.site_id, r)).collect();
    Ok(ApiJson(Page::from_store(sites, &uri, |site| {
        let last = latest.remove(&site.id);
        SiteView::of(site, last)
    })))
}

/// Create a site (validated as the checker does: URL, method, headers, regexp, conditions).
#[utoipa::path(post, path = "/sites", tag = "sites", request_body = SiteBody, security(("bearer" = []), ("service" = [])),
    responses((status = 201, body = SiteView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<ApiState>,
    who: Principal,
    ApiJson(b): ApiJson<SiteBody>,
) -> ApiResult<(StatusCode, ApiJson<SiteView>)> {
    let site = to_site(&who.tenant, 0, b)?;
    let stored = s.inner.store.create_site(&site).await?;
    Ok((StatusCode::CREATED, ApiJson(SiteView::of(stored, None))))
}

/// One site with its newest check result.
#[utoipa::path(get, path = "/sites/{id}", tag = "sites", params(("id" = i64, Path, minimum = 1)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = SiteView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ApiJson<SiteView>> {
    let site = load(&s, &who.tenant, id).await?;
    let last = last_check(&s, &who.tenant, id).await?;
    Ok(ApiJson(SiteView::of(site, last)))
}

/// Replace a site's settings (every field; omitted ones take their defaults).
#[utoipa::path(put, path = "/sites/{id}", tag = "sites", params(("id" = i64, Path, minimum = 1)), request_body = SiteBody,
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = SiteView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SiteBody>,
) -> ApiResult<ApiJson<SiteView>> {
    load(&s, &who.tenant, id).await?;
    let site = to_site(&who.tenant, id, b)?;
    if !s.inner.store.update_site(&site).await? {
        return Err(ApiError::NotFound(format!("no site {id}")));
    }
    let last = last_check(&s, &who.tenant, id).await?;
    Ok(ApiJson(SiteView::of(load(&s, &who.tenant, id).await?, last)))
}

/// Delete a site (its past check results stay in the store but are no longer listed here).
#[utoipa::path(delete, path = "/sites/{id}", tag = "sites", params(("id" = i64, Path, minimum = 1)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(State(s): State<ApiState>, who: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    if s.inner.store.delete_site(&who.tenant, check_id(id)?).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no site {id}")))
    }
}

/// A site's check results, newest first.
#[utoipa::path(get, path = "/sites/{id}/checks", tag = "sites", params(("id" = i64, Path, minimum = 1), PageParams),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<CheckView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn checks(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<CheckPage>> {
    let page = page_request(p.limit, p.cursor)?;
    load(&s, &who.tenant, id).await?;
    let q = CheckQuery { tenant: who.tenant.clone(), site_id: Some(id), newest_first: true, ..CheckQuery::default() };
    let items = s.inner.store.list_checks(&q, &page).await?;
    Ok(ApiJson(Page::from_store(items, &uri, CheckView::from)))
}

/// Check a site now (whether enabled or not) and store the result with its `site.check` event;
/// answers with the result once the check ended (at most the site's `timeout_ms`, capped
/// below the request timeout). A failing target is a stored result with `success: false`,
/// not an error.
#[utoipa::path(post, path = "/sites/{id}/checks", tag = "sites", params(("id" = i64, Path, minimum = 1)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 201, body = CheckView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn run_now(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, ApiJson<CheckView>)> {
    let site = load(&s, &who.tenant, id).await?;
    let compiled = validate_site(&site).map_err(invalid)?;
    let checker: Arc<_> = s
        .inner
        .checker
        .clone()
        .ok_or_else(|| ApiError::Unavailable("the HTTP checker could not be built; see the server log".into()))?;
    let inventory: &dyn Repository = &*s.inner.store;
    let summary = checker.run(vec![compiled], &*s.inner.store, Some(inventory)).await.map_err(|e| match e {
        CheckError::Storage(e) => ApiError::from(e),
        other => ApiError::Internal(other.to_string()),
    })?;
    let result = summary
        .results
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the checker returned no result".into()))?;
    Ok((StatusCode::CREATED, ApiJson(result.into())))
}
