use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use maestro_core::{Cursor, Page, Provider, ProviderError, Scope, TranslateError};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::config::AzureConfig;
use super::translate::vm_size;
use crate::aws::CALL_KEY;
use crate::rest::{RestClient, Secret, check_status, parse_json, same_origin};
use crate::util::path_segment;

/// One ARM list call: `GET /subscriptions/{sub}/providers/{namespace}/{resource}`.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// Resource provider namespace (`Microsoft.Compute`).
    pub namespace: &'static str,
    /// Resource type (`virtualMachines`), also the rule file's call name.
    pub resource: &'static str,
    /// `api-version`.
    pub api_version: &'static str,
}

/// A task: one scope per task (ARM lists are subscription-wide; items name their location).
#[derive(Debug, Clone, Copy)]
pub struct Task {
    /// Task name.
    pub name: &'static str,
    /// Its calls, run one after the other.
    pub calls: &'static [Call],
}

const COMPUTE: &str = "Microsoft.Compute";
const NETWORK: &str = "Microsoft.Network";
const NICS: Call = Call { namespace: NETWORK, resource: "networkInterfaces", api_version: "2024-05-01" };
const PUBLIC_IPS: Call = Call { namespace: NETWORK, resource: "publicIPAddresses", api_version: "2024-05-01" };

/// Every task, in crawl order.
pub static TASKS: &[Task] = &[
    Task {
        name: "server-list",
        calls: &[Call { namespace: COMPUTE, resource: "virtualMachines", api_version: "2024-07-01" }],
    },
    Task { name: "volumes-list", calls: &[Call { namespace: COMPUTE, resource: "disks", api_version: "2024-03-02" }] },
    Task {
        name: "snapshot-list",
        calls: &[Call { namespace: COMPUTE, resource: "snapshots", api_version: "2024-03-02" }],
    },
    Task { name: "images-list", calls: &[Call { namespace: COMPUTE, resource: "images", api_version: "2024-07-01" }] },
    Task {
        name: "network-list",
        calls: &[
            NICS,
            PUBLIC_IPS,
            Call { namespace: NETWORK, resource: "routeTables", api_version: "2024-05-01" },
            Call { namespace: NETWORK, resource: "virtualNetworks", api_version: "2024-05-01" },
        ],
    },
];

struct Token {
    value: Secret,
    renew_at: Instant,
}

/// NIC id (lower-case) → (private IPv4, public IPv4) of its primary IP configuration.
type NicIndex = HashMap<String, (Option<String>, Option<String>)>;

/// Crawls one Azure subscription through Azure Resource Manager with an OAuth2
/// client-credentials token (renewed a minute before it expires and once on a 401), following
/// every `nextLink`. Virtual machines get their IPs from the NICs and public IPs of the
/// subscription (read before the VMs are returned), and cpu/memory from the shipped VM sizes.
pub struct AzureProvider {
    tenant: String,
    config: AzureConfig,
    client: RestClient,
    token: Mutex<Option<Arc<Token>>>,
    nics: Mutex<Option<Arc<NicIndex>>>,
}

impl std::fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureProvider").field("tenant", &self.tenant).field("config", &self.config).finish()
    }
}

impl AzureProvider {
    /// A provider for `tenant`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(tenant: &str, config: AzureConfig) -> Result<Self, ProviderError> {
        let client =
            RestClient::new(config.max_concurrency, Duration::from_secs_f64(config.timeout_secs), config.rate_limit)?;
        Ok(Self { tenant: tenant.into(), config, client, token: Mutex::new(None), nics: Mutex::new(None) })
    }

    /// Requests sent so far (token requests included).
    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    async fn token(&self, stale: Option<&Arc<Token>>) -> Result<Arc<Token>, ProviderError> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref() {
            let refused = stale.is_some_and(|s| Arc::ptr_eq(s, t));
            if !refused && Instant::now() < t.renew_at {
                return Ok(t.clone());
            }
        }
        let c = &self.config;
        let url =
            format!("{}/{}/oauth2/v2.0/token", c.login_endpoint.trim_end_matches('/'), path_segment(&c.tenant_id));
        let scope = format!("{}/.default", c.management_endpoint.trim_end_matches('/'));
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            path_segment(&c.client_id),
            path_segment(c.client_secret.expose()),
            path_segment(&scope)
        );
        let req = self
            .client
            .http()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let what = "azure POST /oauth2/v2.0/token";
        let ans = self.client.send(req, what).await?;
        if matches!(ans.status, 400 | 401) {
            let e = check_status(&ans, what).expect_err("not 2xx");
            return Err(ProviderError::auth(format!(
                "azure refused the client credentials of application `{}` in tenant `{}`: {}",
                c.client_id, c.tenant_id, e.message
            )));
        }
        check_status(&ans, what)?;
        let doc = parse_json(&ans.body, what)?;
        let value = doc
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::malformed(format!("{what}: no `access_token` in the answer")))?;
        let expires_in = doc
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .unwrap_or(3599);
        let renew_at = Instant::now() + Duration::from_secs(expires_in.saturating_sub(60));
        let t = Arc::new(Token { value: Secret::new(value), renew_at });
        *slot = Some(t.clone());
        Ok(t)
    }

    fn first_url(&self, call: &Call) -> String {
        format!(
            "{}/subscriptions/{}/providers/{}/{}?api-version={}",
            self.config.management_endpoint.trim_end_matches('/'),
            path_segment(&self.config.subscription_id),
            call.namespace,
            call.resource,
            call.api_version
        )
    }

    fn check_origin(&self, url: &str, what: &str) -> Result<(), ProviderError> {
        let base = reqwest::Url::parse(&self.config.management_endpoint)
            .map_err(|e| ProviderError::invalid(format!("management_endpoint is not a URL: {e}")))?;
        let u = reqwest::Url::parse(url)
            .map_err(|e| ProviderError::malformed(format!("{what}: nextLink `{url}` is not a URL: {e}")))?;
        if same_origin(&base, &u) {
            Ok(())
        } else {
            Err(ProviderError::malformed(format!(
                "{what}: nextLink points to another host ({}); the token is not sent there",
                u.host_str().unwrap_or("?")
            )))
        }
    }

    /// GET one ARM page; on a 401 renew the token once.
    async fn get(&self, url: &str, what: &str) -> Result<Value, ProviderError> {
        let mut token = self.token(None).await?;
        for attempt in 0..2 {
            let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.value.expose()))
                .map_err(|_| ProviderError::malformed("the token is not a valid header value"))?;
            auth.set_sensitive(true);
            let req = self.client.http().get(url).header("authorization", auth).header("accept", "application/json");
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

    async fn list_all(&self, call: &Call) -> Result<Vec<Value>, ProviderError> {
        let what = format!("azure GET {}/{}", call.namespace, call.resource);
        let mut url = Some(self.first_url(call));
        let mut out = Vec::new();
        while let Some(u) = url.take() {
            let doc = self.get(&u, &what).await?;
            out.extend(doc.get("value").and_then(Value::as_array).cloned().unwrap_or_default());
            url = doc.get("nextLink").and_then(Value::as_str).filter(|n| *n != u).map(str::to_string);
            if let Some(n) = &url {
                self.check_origin(n, &what)?;
            }
        }
        Ok(out)
    }

    /// NICs and public IPs of the subscription, read on the first page of the VMs.
    async fn nic_index(&self, refresh: bool) -> Result<Arc<NicIndex>, ProviderError> {
        let mut slot = self.nics.lock().await;
        if let (false, Some(i)) = (refresh, slot.as_ref()) {
            return Ok(i.clone());
        }
        let public: HashMap<String, String> = self
            .list_all(&PUBLIC_IPS)
            .await?
            .iter()
            .filter_map(|p| {
                let id = p.get("id")?.as_str()?.to_lowercase();
                let ip = p.pointer("/properties/ipAddress")?.as_str()?.to_string();
                Some((id, ip))
            })
            .collect();
        let mut index = NicIndex::new();
        for nic in self.list_all(&NICS).await? {
            let Some(id) = nic.get("id").and_then(Value::as_str) else { continue };
            let configs = nic.pointer("/properties/ipConfigurations").and_then(Value::as_array);
            let primary = configs.and_then(|c| {
                c.iter().find(|x| x.pointer("/properties/primary") == Some(&Value::Bool(true))).or_else(|| c.first())
            });
            let private = primary.and_then(|c| c.pointer("/properties/privateIPAddress")).and_then(Value::as_str);
            let public_ip = primary
                .and_then(|c| c.pointer("/properties/publicIPAddress/id"))
                .and_then(Value::as_str)
                .and_then(|pid| public.get(&pid.to_lowercase()).cloned());
            index.insert(id.to_lowercase(), (private.map(str::to_string), public_ip));
        }
        let index = Arc::new(index);
        *slot = Some(index.clone());
        Ok(index)
    }
}

/// The resource group named in an ARM id.
pub fn resource_group(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next();
        }
    }
    None
}

fn enrich(o: &mut Map<String, Value>) {
    if let Some(Value::Object(tags)) = o.get("tags") {
        let list: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())}))
            .collect();
        o.insert("@tags".into(), Value::Array(list));
    }
    if let Some(rg) = o.get("id").and_then(Value::as_str).and_then(resource_group).map(str::to_string) {
        o.insert("@resourceGroup".into(), Value::String(rg));
    }
}

fn add_vm_facts(o: &mut Map<String, Value>, nics: &NicIndex) {
    let list =
        o.get("properties").and_then(|p| p.pointer("/networkProfile/networkInterfaces")).and_then(Value::as_array);
    let nic = list.and_then(|l| {
        l.iter().find(|n| n.pointer("/properties/primary") == Some(&Value::Bool(true))).or_else(|| l.first())
    });
    if let Some((private, public)) =
        nic.and_then(|n| n.get("id")).and_then(Value::as_str).and_then(|id| nics.get(&id.to_lowercase()))
    {
        if let Some(p) = private {
            o.insert("@ipv4_private".into(), Value::String(p.clone()));
        }
        if let Some(p) = public {
            o.insert("@ipv4_public".into(), Value::String(p.clone()));
        }
    }
    let size = o.get("properties").and_then(|p| p.pointer("/hardwareProfile/vmSize")).and_then(Value::as_str);
    if let Some((cpu, mem)) = size.and_then(vm_size) {
        o.insert("@size".into(), json!({"cpu": cpu, "memory": mem}));
    }
}

fn parse_cursor<'c>(cursor: Option<&'c Cursor>, t: &Task) -> Result<(usize, Option<&'c str>), ProviderError> {
    let Some(c) = cursor else { return Ok((0, None)) };
    let bad = || ProviderError::invalid(format!("bad cursor for task {}", t.name));
    let (i, url) = c.split_once(':').ok_or_else(bad)?;
    let i: usize = i.parse().map_err(|_| bad())?;
    if i >= t.calls.len() {
        return Err(bad());
    }
    Ok((i, (!url.is_empty()).then_some(url)))
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        "azure"
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
            .ok_or_else(|| ProviderError::invalid(format!("unknown azure task `{}`", scope.task)))?;
        let (i, at) = parse_cursor(cursor, t)?;
        let call = &t.calls[i];
        let what = format!("azure GET {}/{}", call.namespace, call.resource);
        let url = match at {
            Some(u) => {
                self.check_origin(u, &what)?;
                u.to_string()
            }
            None => self.first_url(call),
        };
        let doc = self.get(&url, &what).await?;
        let list = doc
            .get("value")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::malformed(format!("{what}: the answer has no `value` list")))?;
        // VM IPs come from the NICs: read them (fresh on the first page) before the VMs go out.
        let nics = if call.resource == "virtualMachines" { Some(self.nic_index(at.is_none()).await?) } else { None };
        let mut items = Vec::with_capacity(list.len());
        let mut bad_items = Vec::new();
        for (n, it) in list.iter().enumerate() {
            match it {
                Value::Object(o) if o.get("id").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) => {
                    let mut o = o.clone();
                    o.insert(CALL_KEY.into(), Value::String(call.resource.to_string()));
                    enrich(&mut o);
                    if let Some(nics) = &nics {
                        add_vm_facts(&mut o, nics);
                    }
                    items.push(Value::Object(o));
                }
                other => bad_items.push(TranslateError::new(
                    format!("value[{n}]"),
                    format!(
                        "{what}: item is not an object with an `id`: {}",
                        other.to_string().chars().take(80).collect::<String>()
                    ),
                )),
            }
        }
        let next = doc.get("nextLink").and_then(Value::as_str).filter(|n| *n != url).map(str::to_string);
        if let Some(n) = &next {
            self.check_origin(n, &what)?;
        }
        let next = match next {
            Some(u) => Some(format!("{i}:{u}")),
            None if i + 1 < t.calls.len() => Some(format!("{}:", i + 1)),
            None => None,
        };
        Ok(Page { items, bad_items, next })
    }
}
