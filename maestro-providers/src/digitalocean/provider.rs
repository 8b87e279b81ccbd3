use std::time::Duration;

use async_trait::async_trait;
use maestro_core::{Cursor, Page, Provider, ProviderError, Scope, TranslateError};
use serde_json::{Map, Value};

use super::config::DigitalOceanConfig;
use crate::aws::CALL_KEY;
use crate::rest::{RestClient, check_status, parse_json, same_origin};

/// One DigitalOcean task: a `GET /v2/<path>` list.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    /// Task name (`server-list`).
    pub name: &'static str,
    /// Path under `/v2/`.
    pub path: &'static str,
    /// Extra query (`private=true`).
    pub query: &'static str,
    /// Key of the item list in the answer (also the rule file's call name).
    pub items: &'static str,
}

/// Every task, in crawl order.
pub static TASKS: &[Task] = &[
    Task { name: "server-list", path: "droplets", query: "", items: "droplets" },
    Task { name: "volumes-list", path: "volumes", query: "", items: "volumes" },
    Task { name: "images-list", path: "images", query: "private=true", items: "images" },
    Task { name: "loadbalance-list", path: "load_balancers", query: "", items: "load_balancers" },
    Task { name: "snapshot-list", path: "snapshots", query: "", items: "snapshots" },
    Task { name: "security-list", path: "firewalls", query: "", items: "firewalls" },
    Task { name: "cdns-list", path: "cdn/endpoints", query: "", items: "endpoints" },
    Task { name: "kubernetes-list", path: "kubernetes/clusters", query: "", items: "kubernetes_clusters" },
];

/// Crawls one DigitalOcean account: one region-less scope per task (DigitalOcean lists are
/// account-wide; each item names its region). Pages follow `links.pages.next`.
pub struct DigitalOceanProvider {
    tenant: String,
    config: DigitalOceanConfig,
    client: RestClient,
}

impl std::fmt::Debug for DigitalOceanProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigitalOceanProvider").field("tenant", &self.tenant).field("config", &self.config).finish()
    }
}

impl DigitalOceanProvider {
    /// A provider for `tenant`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(tenant: &str, config: DigitalOceanConfig) -> Result<Self, ProviderError> {
        let client =
            RestClient::new(config.max_concurrency, Duration::from_secs_f64(config.timeout_secs), config.rate_limit)?;
        Ok(Self { tenant: tenant.into(), config, client })
    }

    /// Requests sent so far.
    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    fn first_url(&self, t: &Task) -> String {
        let base = self.config.endpoint.trim_end_matches('/');
        let extra = if t.query.is_empty() { String::new() } else { format!("&{}", t.query) };
        format!("{base}/v2/{}?page=1&per_page={}{extra}", t.path, self.config.page_size)
    }

    fn check_origin(&self, url: &str, what: &str) -> Result<(), ProviderError> {
        let base = reqwest::Url::parse(&self.config.endpoint)
            .map_err(|e| ProviderError::invalid(format!("endpoint is not a URL: {e}")))?;
        let u = reqwest::Url::parse(url)
            .map_err(|e| ProviderError::malformed(format!("{what}: the next link `{url}` is not a URL: {e}")))?;
        if same_origin(&base, &u) {
            Ok(())
        } else {
            Err(ProviderError::malformed(format!(
                "{what}: the next link points to another host ({}); the token is not sent there",
                u.host_str().unwrap_or("?")
            )))
        }
    }
}

#[async_trait]
impl Provider for DigitalOceanProvider {
    fn name(&self) -> &str {
        "digitalocean"
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(self
            .config
            .task_names()
            .into_iter()
            .map(|t| Scope::new(&self.tenant, &self.config.connection, t, None))
            .collect())
    }

    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let t = TASKS
            .iter()
            .find(|t| t.name == scope.task)
            .ok_or_else(|| ProviderError::invalid(format!("unknown digitalocean task `{}`", scope.task)))?;
        let what = format!("digitalocean GET /v2/{}", t.path);
        let url = match cursor {
            Some(c) => {
                self.check_origin(c, &what)?;
                c.clone()
            }
            None => self.first_url(t),
        };
        let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.config.token.expose()))
            .map_err(|_| ProviderError::invalid("the token is not a valid header value"))?;
        auth.set_sensitive(true);
        let req = self.client.http().get(&url).header("authorization", auth).header("accept", "application/json");
        let ans = self.client.send(req, &what).await?;
        if ans.status == 401 {
            return Err(ProviderError::auth(format!(
                "{what}: DigitalOcean refused the API token (HTTP 401); check `token`"
            )));
        }
        check_status(&ans, &what)?;
        let doc = parse_json(&ans.body, &what)?;
        let list = doc
            .get(t.items)
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::malformed(format!("{what}: the answer has no `{}` list", t.items)))?;
        let mut items = Vec::with_capacity(list.len());
        let mut bad_items = Vec::new();
        for (n, it) in list.iter().enumerate() {
            match it {
                Value::Object(o) if o.get("id").is_some_and(|v| !v.is_null()) => {
                    let mut o: Map<String, Value> = o.clone();
                    o.insert(CALL_KEY.into(), Value::String(t.items.to_string()));
                    enrich(&mut o);
                    items.push(Value::Object(o));
                }
                other => bad_items.push(TranslateError::new(
                    format!("{}[{n}]", t.items),
                    format!(
                        "{what}: item is not an object with an `id`: {}",
                        other.to_string().chars().take(80).collect::<String>()
                    ),
                )),
            }
        }
        let next = doc.pointer("/links/pages/next").and_then(Value::as_str).filter(|n| *n != url).map(str::to_string);
        if let Some(n) = &next {
            self.check_origin(n, &what)?;
        }
        Ok(Page { items, bad_items, next })
    }
}

/// Derived fields the rules read: `@tags` (`key:value` tag strings as `[{key, value}]`) and, on
/// snapshots, `@droplet_id` / `@volume_id` from `resource_type` + `resource_id`.
fn enrich(o: &mut Map<String, Value>) {
    if let Some(Value::Array(tags)) = o.get("tags") {
        let list: Vec<Value> = tags
            .iter()
            .filter_map(Value::as_str)
            .map(|t| match t.split_once(':') {
                Some((k, v)) => serde_json::json!({"key": k, "value": v}),
                None => serde_json::json!({"key": t, "value": ""}),
            })
            .collect();
        o.insert("@tags".into(), Value::Array(list));
    }
    let target = match o.get("resource_type").and_then(Value::as_str) {
        Some("droplet") => Some("@droplet_id"),
        Some("volume") => Some("@volume_id"),
        _ => None,
    };
    if let (Some(key), Some(id)) = (target, o.get("resource_id").cloned()) {
        let id = id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string());
        o.insert(key.into(), Value::String(id));
    }
}
