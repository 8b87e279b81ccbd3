//! Connections (credentials write-only, sealed at rest) and the provider catalogue.

use std::path::{Component, Path};

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maestro_core::{ConfigErrors, ConnectionRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{ConnectionPage, Page, PageParams, page_request};
use crate::api::ApiState;
use crate::api::auth::Principal;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::api::ids::{SafeId, check_id};

/// One field of a provider's configuration.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldInfo {
    /// Field name.
    pub name: String,
    /// Must be given.
    pub required: bool,
    /// What it is.
    pub description: String,
}

/// A provider of the catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderInfo {
    /// Type name (`file`, `aws`).
    pub name: String,
    /// Credential fields (write-only; sealed at rest).
    pub credential_fields: Vec<FieldInfo>,
    /// Non-secret settings.
    pub settings: Vec<FieldInfo>,
    /// Tasks a run may be started for.
    pub tasks: Vec<String>,
    /// The task used when none is given.
    pub default_task: String,
}

/// `GET /providers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    /// Every provider compiled into this server.
    pub items: Vec<ProviderInfo>,
}

fn field(name: &str, required: bool, description: &str) -> FieldInfo {
    FieldInfo { name: name.into(), required, description: description.into() }
}

/// The catalogue entry of a registered provider.
pub fn provider_info(name: &str) -> Option<ProviderInfo> {
    if !maestro_providers::PROVIDERS.iter().any(|(n, _)| *n == name) {
        return None;
    }
    Some(match name {
        "aws" => ProviderInfo {
            name: name.into(),
            credential_fields: vec![
                field("access_key_id", true, "AWS access key id"),
                field("secret_access_key", true, "AWS secret access key"),
                field("session_token", false, "STS session token"),
            ],
            settings: vec![
                field("regions", true, "regions to crawl, e.g. [\"us-east-1\"]"),
                field("datacenter", false, "datacenter label"),
                field("endpoint", false, "AWS-compatible endpoint URL"),
                field("page_size", false, "page size for every call"),
                field("max_concurrency", false, "calls in flight at once"),
                field("timeout_secs", false, "timeout of one call"),
            ],
            tasks: std::iter::once("all".to_string())
                .chain(maestro_providers::aws::calls::TASKS.iter().map(|t| t.name.to_string()))
                .collect(),
            default_task: "all".into(),
        },
        "file" => ProviderInfo {
            name: name.into(),
            credential_fields: vec![],
            settings: vec![
                field("paths", true, "inventory files, relative to the server's file_root"),
                field("entity", false, "entity of files holding one top-level array"),
                field("page_size", false, "items per page"),
            ],
            tasks: vec!["import".into()],
            default_task: "import".into(),
        },
        other => ProviderInfo {
            name: other.into(),
            credential_fields: vec![],
            settings: vec![],
            tasks: vec!["all".into()],
            default_task: "all".into(),
        },
    })
}

/// The provider catalogue: providers, their credential fields, their tasks.
#[utoipa::path(get, path = "/providers", tag = "connections", security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ProviderList), (status = 401, body = ErrorBody)))]
pub async fn providers(_who: Principal) -> ApiJson<ProviderList> {
    ApiJson(ProviderList { items: maestro_providers::PROVIDERS.iter().filter_map(|(n, _)| provider_info(n)).collect() })
}

/// A connection as returned: never its credentials, only which are set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Provider type.
    pub provider: String,
    /// Non-secret settings.
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
    /// Names of the credential fields that are set.
    pub credential_fields: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ConnectionRecord> for ConnectionView {
    fn from(c: ConnectionRecord) -> Self {
        ConnectionView {
            id: c.id,
            name: c.name,
            provider: c.provider,
            settings: c.settings,
            credential_fields: c.credential_fields,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `POST /connections`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// Id (default: a new UUID). No `/`, `..` or control characters.
    #[schema(value_type = Option<String>)]
    pub id: Option<SafeId>,
    /// Display name (default: the id).
    pub name: Option<String>,
    /// Provider type (see `GET /providers`).
    pub provider: String,
    /// Non-secret settings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
    /// Credentials (write-only).
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Map<String, Value>>,
}

/// `PUT /connections/{id}`: fields given replace the stored ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Non-secret settings (replace all).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Map<String, Value>>,
    /// Credentials (replace all; `{}` removes them).
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Map<String, Value>>,
}

fn aad(tenant: &str, id: &str) -> String {
    format!("{tenant}/{id}")
}

/// The provider config of a connection: settings + credentials + `type` + `connection`, with
/// `file` paths resolved under `file_root`.
pub(crate) fn provider_config(
    s: &ApiState,
    c: &ConnectionRecord,
    creds: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let mut cfg = c.settings.clone();
    for (k, v) in creds {
        cfg.insert(k.clone(), v.clone());
    }
    if c.provider == "file" {
        let root = s.inner.config.file_root.as_ref().ok_or_else(|| {
            ApiError::unprocessable(
                "provider_disabled",
                "`file` connections are disabled: the server has no file_root",
                Some("provider".into()),
            )
        })?;
        let paths = cfg.get("paths").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut resolved = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            let Some(p) = p.as_str() else {
                return Err(ApiError::unprocessable(
                    "invalid_settings",
                    "paths must be strings",
                    Some(format!("settings.paths[{i}]")),
                ));
            };
            let rel = Path::new(p);
            if p.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(ApiError::unprocessable(
                    "invalid_settings",
                    "paths must be relative to the server's file_root, without `..`",
                    Some(format!("settings.paths[{i}]")),
                ));
            }
            resolved.push(Value::String(root.join(rel).display().to_string()));
        }
        cfg.insert("paths".into(), Value::Array(resolved));
    }
    cfg.insert("type".into(), Value::String(c.provider.clone()));
    cfg.insert("connection".into(), Value::String(c.id.clone()));
    Ok(Value::Object(cfg))
}

fn validate(s: &ApiState, c: &ConnectionRecord, creds: &Map<String, Value>) -> Result<(), ApiError> {
    let info = provider_info(&c.provider).ok_or_else(|| {
        let known: Vec<&str> = maestro_providers::PROVIDERS.iter().map(|(n, _)| *n).collect();
        ApiError::unprocessable(
            "unknown_provider",
            format!("no provider named `{}`; known: {}", c.provider, known.join(", ")),
            Some("provider".into()),
        )
    })?;
    for k in c.settings.keys() {
        if k == "type" || k == "connection" {
            return Err(ApiError::unprocessable(
                "invalid_settings",
                format!("`{k}` is set by the server"),
                Some(format!("settings.{k}")),
            ));
        }
        if info.credential_fields.iter().any(|f| &f.name == k) {
            return Err(ApiError::unprocessable(
                "invalid_settings",
                format!("`{k}` is a credential: send it in `credentials`"),
                Some(format!("settings.{k}")),
            ));
        }
    }
    for k in creds.keys() {
        if !info.credential_fields.iter().any(|f| &f.name == k) {
            let known: Vec<&str> = info.credential_fields.iter().map(|f| f.name.as_str()).collect();
            return Err(ApiError::unprocessable(
                "invalid_credentials",
                format!("`{k}` is not a credential of `{}`; known: [{}]", c.provider, known.join(", ")),
                Some(format!("credentials.{k}")),
            ));
        }
    }
    let cfg = provider_config(s, c, creds)?;
    let mut errors = ConfigErrors::new();
    let built = maestro_providers::build_source(&c.tenant, &cfg, "connection", &mut errors);
    if built.is_none() || !errors.is_empty() {
        // Name the fields only for credentials: a message could quote the value.
        let (path, msg) = errors.problems.first().cloned().unwrap_or_else(|| ("connection".into(), "invalid".into()));
        let field = path.strip_prefix("connection.").unwrap_or(&path).to_string();
        let is_cred = info.credential_fields.iter().any(|f| field.starts_with(&f.name));
        let (field, msg) = if is_cred {
            (format!("credentials.{field}"), "invalid value".to_string())
        } else {
            (format!("settings.{field}"), msg)
        };
        let more = if errors.problems.len() > 1 {
            format!(" (and {} more)", errors.problems.len() - 1)
        } else {
            String::new()
        };
        return Err(ApiError::unprocessable("invalid_settings", format!("{field}: {msg}{more}"), Some(field)));
    }
    Ok(())
}

fn seal(s: &ApiState, c: &mut ConnectionRecord, creds: &Map<String, Value>) -> Result<(), ApiError> {
    if creds.is_empty() {
        c.sealed_credentials = None;
        c.credential_fields = Vec::new();
        return Ok(());
    }
    let key = s.inner.config.secret_key.as_ref().ok_or_else(|| {
        ApiError::Unavailable("credentials cannot be stored: the server has no MAESTRO_SECRET_KEY".into())
    })?;
    c.sealed_credentials =
        Some(key.seal(creds, &aad(&c.tenant, &c.id)).map_err(|e| ApiError::Internal(e.to_string()))?);
    c.credential_fields = creds.keys().cloned().collect();
    Ok(())
}

/// Open a connection's credentials (to start a run).
pub(crate) fn open_credentials(s: &ApiState, c: &ConnectionRecord) -> Result<Map<String, Value>, ApiError> {
    match &c.sealed_credentials {
        None => Ok(Map::new()),
        Some(blob) => {
            let key = s.inner.config.secret_key.as_ref().ok_or_else(|| {
                ApiError::Unavailable("credentials cannot be opened: the server has no MAESTRO_SECRET_KEY".into())
            })?;
            key.open(blob, &aad(&c.tenant, &c.id)).map_err(|e| ApiError::Unavailable(e.to_string()))
        }
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_field("name", "name must be 1..=200 characters without control characters"));
    }
    Ok(())
}

/// Create a connection.
#[utoipa::path(post, path = "/connections", tag = "connections", request_body = NewConnection,
    security(("bearer" = []), ("service" = [])),
    responses((status = 201, body = ConnectionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create(
    State(s): State<ApiState>,
    who: Principal,
    ApiJson(body): ApiJson<NewConnection>,
) -> ApiResult<(StatusCode, ApiJson<ConnectionView>)> {
    let id = body.id.map_or_else(|| uuid::Uuid::now_v7().to_string(), |i| i.0);
    let name = body.name.unwrap_or_else(|| id.clone());
    check_name(&name)?;
    if s.inner.store.get_connection(&who.tenant, &id).await?.is_some() {
        return Err(ApiError::Conflict(format!("connection `{id}` exists; update it with PUT /connections/{id}")));
    }
    let now = Utc::now();
    let creds = body.credentials.unwrap_or_default();
    let mut c = ConnectionRecord {
        tenant: who.tenant.clone(),
        id,
        name,
        provider: body.provider,
        settings: body.settings,
        sealed_credentials: None,
        credential_fields: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    validate(&s, &c, &creds)?;
    seal(&s, &mut c, &creds)?;
    s.inner.store.put_connection(&c).await?;
    tracing::info!(tenant = %c.tenant, connection = %c.id, provider = %c.provider, "connection created");
    Ok((StatusCode::CREATED, ApiJson(c.into())))
}

/// List the caller's connections.
#[utoipa::path(get, path = "/connections", tag = "connections", params(PageParams),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = Page<ConnectionView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<ApiState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<ApiJson<ConnectionPage>> {
    let page = page_request(p.limit, p.cursor)?;
    let items = s.inner.store.list_connections(&who.tenant, &page).await?;
    Ok(ApiJson(Page::from_store(items, &uri, ConnectionView::from)))
}

pub(crate) async fn load(s: &ApiState, tenant: &str, id: &str) -> ApiResult<ConnectionRecord> {
    check_id("id", id)?;
    s.inner.store.get_connection(tenant, id).await?.ok_or_else(|| ApiError::NotFound(format!("no connection `{id}`")))
}

/// One connection (without credentials).
#[utoipa::path(get, path = "/connections/{id}", tag = "connections", params(("id" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ConnectionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<SafeId>,
) -> ApiResult<ApiJson<ConnectionView>> {
    Ok(ApiJson(load(&s, &who.tenant, &id).await?.into()))
}

/// Update a connection.
#[utoipa::path(put, path = "/connections/{id}", tag = "connections", params(("id" = String, Path)),
    request_body = ConnectionUpdate, security(("bearer" = []), ("service" = [])),
    responses((status = 200, body = ConnectionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn update(
    State(s): State<ApiState>,
    who: Principal,
    ApiPath(id): ApiPath<SafeId>,
    ApiJson(body): ApiJson<ConnectionUpdate>,
) -> ApiResult<ApiJson<ConnectionView>> {
    let mut c = load(&s, &who.tenant, &id).await?;
    if let Some(n) = body.name {
        check_name(&n)?;
        c.name = n;
    }
    if let Some(st) = body.settings {
        c.settings = st;
    }
    let creds = match body.credentials {
        Some(cr) => cr,
        None => open_credentials(&s, &c)?,
    };
    validate(&s, &c, &creds)?;
    seal(&s, &mut c, &creds)?;
    c.updated_at = Utc::now();
    s.inner.store.put_connection(&c).await?;
    Ok(ApiJson(c.into()))
}

/// Delete a connection (its resources stay).
#[utoipa::path(delete, path = "/connections/{id}", tag = "connections", params(("id" = String, Path)),
    security(("bearer" = []), ("service" = [])),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(State(s): State<ApiState>, who: Principal, ApiPath(id): ApiPath<SafeId>) -> ApiResult<StatusCode> {
    if s.inner.store.delete_connection(&who.tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no connection `{id}`")))
    }
}
