use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use maestro_core::{Cursor, Page, Provider, ProviderError, Scope, TranslateError};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::calls::{Call, Links, TASKS, Task, join, root, task};
use super::config::OpenStackConfig;
use super::keystone::{Token, authenticate};
use crate::aws::CALL_KEY;
use crate::rest::{RestClient, check_status, parse_json, same_origin};

/// How long the flavors of a region are kept for the servers' cpu/memory (as the original).
pub const FLAVOR_CACHE: Duration = Duration::from_secs(3600);

/// Flavor id → flavor.
type Flavors = Arc<HashMap<String, Value>>;

/// Crawls one OpenStack project: one scope per (task, region). Authenticates with Keystone on
/// first use, refreshes the token before it expires and once on a 401, and follows each list's
/// `next` link (or `marker` when a full page carries none).
pub struct OpenStackProvider {
    tenant: String,
    config: OpenStackConfig,
    client: RestClient,
    token: Mutex<Option<Arc<Token>>>,
    flavors: Mutex<HashMap<String, (Instant, Flavors)>>,
}

impl std::fmt::Debug for OpenStackProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStackProvider").field("tenant", &self.tenant).field("config", &self.config).finish()
    }
}

impl OpenStackProvider {
    /// A provider for `tenant`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(tenant: &str, config: OpenStackConfig) -> Result<Self, ProviderError> {
        let client =
            RestClient::new(config.max_concurrency, Duration::from_secs_f64(config.timeout_secs), config.rate_limit)?;
        Ok(Self { tenant: tenant.into(), config, client, token: Mutex::new(None), flavors: Mutex::new(HashMap::new()) })
    }

    /// Requests sent so far (Keystone included).
    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    /// A valid token: the cached one unless it expires within a minute or is `stale` (refused
    /// with a 401), else a new one.
    async fn token(&self, stale: Option<&Arc<Token>>) -> Result<Arc<Token>, ProviderError> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref() {
            let refused = stale.is_some_and(|s| Arc::ptr_eq(s, t));
            if !refused && t.fresh(Utc::now()) {
                return Ok(t.clone());
            }
            tracing::debug!(connection = %self.config.connection, refused, "renewing the keystone token");
        }
        let t = Arc::new(authenticate(&self.client, &self.config).await?);
        *slot = Some(t.clone());
        Ok(t)
    }

    /// GET `url` with `token`; on a 401 renew the token once and try again.
    async fn get(&self, mut token: Arc<Token>, url: &str, call: &Call, what: &str) -> Result<Value, ProviderError> {
        for attempt in 0..2 {
            let mut req = self.client.http().get(url).header("accept", "application/json");
            let mut tv = reqwest::header::HeaderValue::from_str(token.value.expose())
                .map_err(|_| ProviderError::malformed("keystone issued a token that is not a valid header value"))?;
            tv.set_sensitive(true);
            req = req.header("x-auth-token", tv);
            if call.service.contains(&"compute")
                && let Some(v) = &self.config.compute_api_version
            {
                req = req.header("openstack-api-version", format!("compute {v}"));
                req = req.header("x-openstack-nova-api-version", v.as_str());
            }
            let ans = self.client.send(req, what).await?;
            if ans.status == 401 && attempt == 0 {
                token = self.token(Some(&token)).await?;
                continue;
            }
            check_status(&ans, what)?;
            return parse_json(&ans.body, what);
        }
        unreachable!("the loop returns on its second attempt")
    }

    fn endpoint(&self, token: &Token, call: &Call, region: Option<&str>) -> Result<String, ProviderError> {
        token.endpoint(call.service, &self.config.interface, region).map(str::to_string)
    }

    fn first_url(&self, base: &str, call: &Call) -> String {
        format!("{}?limit={}", join(base, call.path), self.config.page_size)
    }

    /// Flavor id → flavor, for `region`, loaded through every page and kept for an hour.
    async fn flavors(&self, region: Option<&str>) -> Result<Flavors, ProviderError> {
        let key = region.unwrap_or("").to_string();
        let mut cache = self.flavors.lock().await;
        if let Some((at, map)) = cache.get(&key)
            && at.elapsed() < FLAVOR_CACHE
        {
            return Ok(map.clone());
        }
        let call = &task("flavor-list").expect("in the catalogue").calls[0];
        let token = self.token(None).await?;
        let base = self.endpoint(&token, call, region)?;
        let mut url = Some(self.first_url(&base, call));
        let mut map = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        while let Some(u) = url.take() {
            if !seen.insert(u.clone()) {
                break;
            }
            let token = self.token(None).await?;
            let doc = self.get(token, &u, call, "nova GET /flavors/detail (for the servers' cpu/memory)").await?;
            let list = doc.get("flavors").and_then(Value::as_array).cloned().unwrap_or_default();
            for f in &list {
                if let Some(id) =
                    f.get("id").and_then(|v| v.as_str().map(str::to_string).or_else(|| Some(v.to_string())))
                {
                    map.insert(id, f.clone());
                }
            }
            url = self.next_url(&base, call, &u, &doc, &list)?;
        }
        let map = Arc::new(map);
        cache.insert(key, (Instant::now(), map.clone()));
        Ok(map)
    }

    /// The next page's URL: the answer's `next` link (checked to stay on the endpoint's host),
    /// else `marker=<last id>` after a full page, else none.
    fn next_url(
        &self,
        base: &str,
        call: &Call,
        current: &str,
        doc: &Value,
        items: &[Value],
    ) -> Result<Option<String>, ProviderError> {
        let link = match call.links {
            Links::Collection(key) => doc
                .get(key)
                .and_then(Value::as_array)
                .and_then(|l| l.iter().find(|x| x.get("rel").and_then(Value::as_str) == Some("next")))
                .and_then(|x| x.get("href"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Links::Next => doc.get("next").and_then(Value::as_str).map(|n| {
                if n.starts_with("http://") || n.starts_with("https://") {
                    n.to_string()
                } else {
                    format!("{}{n}", root(base))
                }
            }),
        };
        let next = match link {
            Some(l) => {
                let base_url = reqwest::Url::parse(base)
                    .map_err(|e| ProviderError::malformed(format!("catalogue URL `{base}` is not a URL: {e}")))?;
                let next = reqwest::Url::parse(&l).map_err(|e| {
                    ProviderError::malformed(format!("{}: the next link `{l}` is not a URL: {e}", call.name))
                })?;
                if !same_origin(&base_url, &next) {
                    return Err(ProviderError::malformed(format!(
                        "{}: the next link points to another host ({}); the token is not sent there",
                        call.name,
                        next.host_str().unwrap_or("?")
                    )));
                }
                Some(l)
            }
            // No link after a full page: ask for the page after the last id (Neutron without
            // pagination links). Glance always links its next page.
            None if call.links != Links::Next && items.len() as u64 == u64::from(self.config.page_size) => {
                let last = items.last().and_then(|x| x.get("id")).and_then(Value::as_str);
                last.map(|id| format!("{}&marker={}", self.first_url(base, call), crate::util::path_segment(id)))
            }
            None => None,
        };
        Ok(next.filter(|n| n != current))
    }

    async fn add_flavors(&self, region: Option<&str>, items: &mut [Value]) -> Result<(), ProviderError> {
        let needs_lookup =
            items.iter().any(|s| s.pointer("/flavor/vcpus").is_none() && s.pointer("/flavor/id").is_some());
        let table = if needs_lookup { Some(self.flavors(region).await?) } else { None };
        for s in items.iter_mut() {
            let Some(obj) = s.as_object_mut() else { continue };
            let flavor = match obj.get("flavor") {
                Some(f) if f.get("vcpus").is_some() => Some(f.clone()),
                Some(f) => f.get("id").and_then(|id| {
                    let id = id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string());
                    table.as_ref().and_then(|t| t.get(&id).cloned())
                }),
                None => None,
            };
            if let Some(f) = flavor {
                obj.insert("@flavor".into(), f);
            }
        }
        Ok(())
    }
}

/// Nova `metadata` (a map) as `[{key, value}]`, under `@metadata`, for the tag rules.
fn add_metadata(items: &mut [Value]) {
    for s in items.iter_mut() {
        let Some(obj) = s.as_object_mut() else { continue };
        let Some(Value::Object(meta)) = obj.get("metadata") else { continue };
        let list: Vec<Value> = meta
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())}))
            .collect();
        obj.insert("@metadata".into(), Value::Array(list));
    }
}

fn parse_cursor<'c>(cursor: Option<&'c Cursor>, t: &Task) -> Result<(usize, Option<&'c str>), ProviderError> {
    let Some(c) = cursor else { return Ok((0, None)) };
    let bad = || ProviderError::invalid(format!("bad cursor `{c}` for task {}", t.name));
    let (i, url) = c.split_once(':').ok_or_else(bad)?;
    let i: usize = i.parse().map_err(|_| bad())?;
    if i >= t.calls.len() {
        return Err(bad());
    }
    Ok((i, (!url.is_empty()).then_some(url)))
}

#[async_trait]
impl Provider for OpenStackProvider {
    fn name(&self) -> &str {
        "openstack"
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        let mut out = Vec::new();
        for name in self.config.task_names() {
            if self.config.regions.is_empty() {
                out.push(Scope::new(&self.tenant, &self.config.connection, name, None));
            }
            for r in &self.config.regions {
                out.push(Scope::new(&self.tenant, &self.config.connection, name, Some(r.clone())));
            }
        }
        Ok(out)
    }

    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let t = TASKS
            .iter()
            .find(|t| t.name == scope.task)
            .ok_or_else(|| ProviderError::invalid(format!("unknown openstack task `{}`", scope.task)))?;
        let region = scope.region.as_deref();
        let (i, at) = parse_cursor(cursor, t)?;
        let call = &t.calls[i];
        let token = self.token(None).await?;
        let base = self.endpoint(&token, call, region)?;
        let url = match at {
            Some(u) => {
                let (b, n) = (reqwest::Url::parse(&base), reqwest::Url::parse(u));
                match (b, n) {
                    (Ok(b), Ok(n)) if same_origin(&b, &n) => u.to_string(),
                    _ => return Err(ProviderError::invalid(format!("cursor of {} is not on its endpoint", call.name))),
                }
            }
            None => self.first_url(&base, call),
        };
        let what = format!("{} GET {} in {}", call.service[0], call.path, region.unwrap_or("the default region"));
        let doc = self.get(token, &url, call, &what).await?;
        let list = doc
            .get(call.items)
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::malformed(format!("{what}: the answer has no `{}` list", call.items)))?;
        let mut items = Vec::with_capacity(list.len());
        let mut bad_items = Vec::new();
        for (n, it) in list.iter().enumerate() {
            match it {
                Value::Object(o) if o.get("id").is_some_and(|v| !v.is_null()) => {
                    let mut o: Map<String, Value> = o.clone();
                    o.insert(CALL_KEY.into(), Value::String(call.name.to_string()));
                    items.push(Value::Object(o));
                }
                other => bad_items.push(TranslateError::new(
                    format!("{}[{n}]", call.items),
                    format!(
                        "{what}: item is not an object with an `id`: {}",
                        other.to_string().chars().take(80).collect::<String>()
                    ),
                )),
            }
        }
        if call.name == "servers" {
            self.add_flavors(region, &mut items).await?;
        }
        add_metadata(&mut items);
        let next = self.next_url(&base, call, &url, &doc, list)?;
        let next = match next {
            Some(u) => Some(format!("{i}:{u}")),
            None if i + 1 < t.calls.len() => Some(format!("{}:", i + 1)),
            None => None,
        };
        Ok(Page { items, bad_items, next })
    }
}
