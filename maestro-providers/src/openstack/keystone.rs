//! Keystone v3 password authentication: a project-scoped token (from `X-Subject-Token`), its
//! expiry, and the service catalogue it came with.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use maestro_core::ProviderError;
use serde_json::{Value, json};

use super::config::OpenStackConfig;
use crate::rest::{RestClient, Secret, check_status, parse_json};

/// One catalogue endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Service type (`compute`, `network`, …).
    pub service: String,
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// Region id (`RegionOne`), if any.
    pub region: Option<String>,
    /// Base URL.
    pub url: String,
}

/// An issued token. `Debug` does not show the token.
#[derive(Debug, Clone)]
pub struct Token {
    /// The `X-Subject-Token` value.
    pub value: Secret,
    /// When Keystone says it expires.
    pub expires_at: DateTime<Utc>,
    /// The service catalogue.
    pub catalog: Vec<Endpoint>,
}

/// How long before its expiry a token is replaced.
pub const REFRESH_MARGIN_SECS: i64 = 60;

impl Token {
    /// Whether the token is still good at `now` (with the refresh margin).
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - ChronoDuration::seconds(REFRESH_MARGIN_SECS) > now
    }

    /// The URL of `service` (first of the types that is in the catalogue) for `interface` in
    /// `region` (any region when `None`).
    ///
    /// # Errors
    /// No such endpoint: an invalid-request error listing what the catalogue has.
    pub fn endpoint(&self, services: &[&str], interface: &str, region: Option<&str>) -> Result<&str, ProviderError> {
        for s in services {
            let found = self.catalog.iter().find(|e| {
                e.service == *s && e.interface == interface && region.is_none_or(|r| e.region.as_deref() == Some(r))
            });
            if let Some(e) = found {
                return Ok(&e.url);
            }
        }
        let mut have: Vec<String> = self
            .catalog
            .iter()
            .map(|e| format!("{}/{}/{}", e.service, e.interface, e.region.as_deref().unwrap_or("-")))
            .collect();
        have.sort();
        have.dedup();
        Err(ProviderError::invalid(format!(
            "no `{}` endpoint with interface `{interface}`{} in the service catalogue (it lists: {})",
            services.join("`/`"),
            region.map(|r| format!(" in region `{r}`")).unwrap_or_default(),
            if have.is_empty() { "nothing".to_string() } else { have.join(", ") }
        )))
    }
}

/// The `…/v3/auth/tokens` URL of a Keystone URL given with or without `/v3`.
pub fn tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v3") { format!("{base}/auth/tokens") } else { format!("{base}/v3/auth/tokens") }
}

fn domain(id: &Option<String>, name: &Option<String>) -> Option<Value> {
    match (id, name) {
        (Some(id), _) => Some(json!({"id": id})),
        (None, Some(n)) => Some(json!({"name": n})),
        _ => None,
    }
}

/// The password-method request body. Contains the password: never log it.
pub fn auth_body(cfg: &OpenStackConfig) -> Value {
    let mut user = json!({"name": cfg.username, "password": cfg.password.expose()});
    if let Some(d) = domain(&cfg.user_domain_id, &cfg.user_domain_name) {
        user["domain"] = d;
    }
    let project = match (&cfg.project_id, &cfg.project_name) {
        (Some(id), _) => json!({"id": id}),
        (None, Some(name)) => {
            let d = domain(&cfg.project_domain_id, &cfg.project_domain_name)
                .or_else(|| domain(&cfg.user_domain_id, &cfg.user_domain_name))
                .unwrap_or_else(|| json!({"id": "default"}));
            json!({"name": name, "domain": d})
        }
        (None, None) => json!({}),
    };
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": user}},
        "scope": {"project": project}
    }})
}

/// Parse a token answer (body + subject token header).
///
/// # Errors
/// A malformed answer (no expiry, bad catalogue).
pub fn parse_token(subject: Option<&str>, doc: &Value) -> Result<Token, ProviderError> {
    let value = subject
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ProviderError::malformed("keystone: the answer has no X-Subject-Token header"))?;
    let t = doc.get("token").ok_or_else(|| ProviderError::malformed("keystone: the answer has no `token`"))?;
    let expires_at = t
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| ProviderError::malformed("keystone: `token.expires_at` is missing or not a timestamp"))?;
    let mut catalog = Vec::new();
    for (i, svc) in t.get("catalog").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
        let service = svc
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::malformed(format!("keystone: `token.catalog[{i}].type` is missing")))?;
        for e in svc.get("endpoints").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            let (Some(interface), Some(url)) =
                (e.get("interface").and_then(Value::as_str), e.get("url").and_then(Value::as_str))
            else {
                continue;
            };
            let region = e.get("region_id").or_else(|| e.get("region")).and_then(Value::as_str).map(str::to_string);
            catalog.push(Endpoint {
                service: service.to_string(),
                interface: interface.to_string(),
                region,
                url: url.to_string(),
            });
        }
    }
    Ok(Token { value: Secret::new(value), expires_at, catalog })
}

/// Ask Keystone for a token.
///
/// # Errors
/// Auth errors (401: the credentials were refused), transient ones, malformed answers.
pub async fn authenticate(client: &RestClient, cfg: &OpenStackConfig) -> Result<Token, ProviderError> {
    let url = tokens_url(&cfg.auth_url);
    let req = client.http().post(&url).json(&auth_body(cfg));
    let ans = client.send(req, "keystone POST /v3/auth/tokens").await?;
    if ans.status == 401 {
        return Err(ProviderError::auth(format!(
            "keystone refused the credentials of user `{}` (HTTP 401); check username, password, domain and project",
            cfg.username
        )));
    }
    check_status(&ans, "keystone POST /v3/auth/tokens")?;
    let doc = parse_json(&ans.body, "keystone POST /v3/auth/tokens")?;
    let subject = ans.headers.get("x-subject-token").and_then(|v| v.to_str().ok());
    tracing::debug!(user = %cfg.username, "keystone token issued");
    parse_token(subject, &doc)
}
