use std::time::Duration;

use async_trait::async_trait;
use maestro_core::{Cursor, Page, Provider, ProviderError, Scope};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::calls::{Call, Protocol, Task, task};
use super::client::{AwsClient, AwsRequest};
use super::config::AwsConfig;
use super::xml;
use crate::util::path_segment;

/// Key injected into every raw item: the name of the call (and of the mapping rule) it came from.
pub const CALL_KEY: &str = "@call";

/// Crawls one AWS account: one scope per (task, region), one global scope for global tasks
/// (S3, CloudFront). Within a scope the task's calls run one after the other; the cursor is
/// `<call index>:<the API's own token>`.
pub struct AwsProvider {
    tenant: String,
    config: AwsConfig,
    client: AwsClient,
}

impl std::fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsProvider").field("tenant", &self.tenant).field("config", &self.config).finish()
    }
}

/// Region that global services are signed for.
const GLOBAL_REGION: &str = "us-east-1";

impl AwsProvider {
    /// A provider for `tenant`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(tenant: &str, config: AwsConfig) -> Result<Self, ProviderError> {
        let client = AwsClient::new(
            config.credentials(),
            config.endpoint.clone(),
            config.max_concurrency,
            Duration::from_secs_f64(config.timeout_secs),
        )?
        .with_rate_limit(config.max_requests_per_second);
        Ok(Self { tenant: tenant.into(), config, client })
    }

    /// Requests sent so far.
    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    /// The configuration.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    fn page_size(&self, call: &Call) -> u32 {
        let p = call.paging;
        let wanted = self.config.page_sizes.get(call.name).copied().or(self.config.page_size).unwrap_or(p.max_size);
        wanted.clamp(p.min_size, p.max_size)
    }

    fn request(&self, call: &Call, region: &str, token: Option<&str>) -> AwsRequest {
        let mut params: Vec<(&str, String)> = call.params.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
        if !call.paging.size_param.is_empty() {
            params.push((call.paging.size_param, self.page_size(call).to_string()));
        }
        if let Some(t) = token {
            params.push((call.paging.token_param, t.to_string()));
        }
        let encode = |params: &[(&str, String)]| {
            params.iter().map(|(k, v)| format!("{}={}", path_segment(k), path_segment(v))).collect::<Vec<_>>().join("&")
        };
        let base = AwsRequest {
            service: call.service,
            host_prefix: call.host_prefix,
            region: region.to_string(),
            method: Method::GET,
            path_and_query: "/".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        match call.protocol {
            Protocol::Query { action, version } => {
                let mut all = vec![("Action", action.to_string()), ("Version", version.to_string())];
                all.extend(params);
                AwsRequest {
                    method: Method::POST,
                    headers: vec![("content-type", "application/x-www-form-urlencoded; charset=utf-8".into())],
                    body: encode(&all).into_bytes(),
                    ..base
                }
            }
            Protocol::RestXml { path } | Protocol::RestJson { path } => {
                let q = encode(&params);
                AwsRequest { path_and_query: if q.is_empty() { path.into() } else { format!("{path}?{q}") }, ..base }
            }
            Protocol::Json { target } => {
                let mut body = Map::new();
                for (k, v) in params {
                    let value = v.parse::<u64>().map_or(Value::String(v), Value::from);
                    body.insert(k.to_string(), value);
                }
                AwsRequest {
                    method: Method::POST,
                    headers: vec![
                        ("content-type", "application/x-amz-json-1.0".into()),
                        ("x-amz-target", target.to_string()),
                    ],
                    body: serde_json::to_vec(&Value::Object(body)).expect("a map serialises"),
                    ..base
                }
            }
        }
    }

    /// Send one call and parse its answer (XML → JSON, or JSON).
    async fn call(&self, call: &Call, region: &str, token: Option<&str>) -> Result<Value, ProviderError> {
        let req = self.request(call, region, token);
        let resp = self.client.send(&req).await?;
        parse_body(call, region, &resp.body)
    }

    async fn enrich_elbv2(&self, region: &str, item: &mut Map<String, Value>) -> Result<(), ProviderError> {
        let Some(arn) = item.get("LoadBalancerArn").and_then(Value::as_str).map(str::to_string) else {
            return Ok(());
        };
        let mut groups = Vec::new();
        let mut targets = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut params = vec![("LoadBalancerArn", arn.clone())];
            if let Some(m) = &marker {
                params.push(("Marker", m.clone()));
            }
            let doc = self.elbv2(region, "DescribeTargetGroups", &params).await?;
            for tg in xml::list_at(&doc, "*.DescribeTargetGroupsResult.TargetGroups") {
                if let Some(tg_arn) = tg.get("TargetGroupArn").and_then(Value::as_str) {
                    groups.push(Value::String(tg_arn.to_string()));
                    let health =
                        self.elbv2(region, "DescribeTargetHealth", &[("TargetGroupArn", tg_arn.to_string())]).await?;
                    for d in xml::list_at(&health, "*.DescribeTargetHealthResult.TargetHealthDescriptions") {
                        if let Some(id) = xml::str_at(d, "Target.Id") {
                            let v = Value::String(id.to_string());
                            if !targets.contains(&v) {
                                targets.push(v);
                            }
                        }
                    }
                }
            }
            marker = xml::str_at(&doc, "*.DescribeTargetGroupsResult.NextMarker").map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        item.insert("@targetGroups".into(), Value::Array(groups));
        item.insert("@targets".into(), Value::Array(targets));
        Ok(())
    }

    async fn elbv2(&self, region: &str, action: &str, params: &[(&str, String)]) -> Result<Value, ProviderError> {
        let mut body = format!("Action={action}&Version=2015-12-01");
        for (k, v) in params {
            body.push_str(&format!("&{}={}", path_segment(k), path_segment(v)));
        }
        let req = AwsRequest {
            service: "elasticloadbalancing",
            host_prefix: "elasticloadbalancing",
            region: region.to_string(),
            method: Method::POST,
            path_and_query: "/".into(),
            headers: vec![("content-type", "application/x-www-form-urlencoded; charset=utf-8".into())],
            body: body.into_bytes(),
        };
        let resp = self.client.send(&req).await?;
        xml::to_json(&resp.body).map_err(|e| ProviderError::malformed(format!("elbv2 {action} in {region}: {e}")))
    }
}

/// Parse an answer body of `call`.
fn parse_body(call: &Call, region: &str, body: &[u8]) -> Result<Value, ProviderError> {
    match call.protocol {
        Protocol::Query { .. } | Protocol::RestXml { .. } => xml::to_json(body)
            .map_err(|e| ProviderError::malformed(format!("{} {} in {region}: {e}", call.service, call.name))),
        Protocol::RestJson { .. } | Protocol::Json { .. } => serde_json::from_slice(body).map_err(|e| {
            ProviderError::malformed(format!("{} {} in {region}: invalid JSON: {e}", call.service, call.name))
        }),
    }
}

/// The raw items of an answer, each an object tagged with [`CALL_KEY`]. Lists of plain strings
/// (queue URLs, table names, identities) become objects.
pub fn items_of(call: &Call, region: &str, doc: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for v in xml::list_at(doc, call.items) {
        if call.nested.is_empty() {
            out.push(v);
        } else {
            out.extend(xml::list_at(v, call.nested));
        }
    }
    out.into_iter()
        .filter_map(|v| {
            let mut obj = match v {
                Value::Object(o) => o.clone(),
                Value::String(s) if !s.is_empty() => wrap_string(call.name, s, region),
                _ => return None,
            };
            obj.insert(CALL_KEY.into(), Value::String(call.name.to_string()));
            Some(Value::Object(obj))
        })
        .collect()
}

fn wrap_string(call: &str, s: &str, _region: &str) -> Map<String, Value> {
    let v = match call {
        "ListQueues" => {
            // https://sqs.<region>.amazonaws.com/<account>/<name>
            let mut parts = s.trim_end_matches('/').rsplit('/');
            let name = parts.next().unwrap_or("");
            let account = parts.next().unwrap_or("");
            json!({"QueueUrl": s, "QueueName": name, "AccountId": account})
        }
        "ListTables" => json!({"TableName": s}),
        "ListIdentities" => json!({"Identity": s}),
        _ => json!({"value": s}),
    };
    match v {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

fn parse_cursor<'c>(cursor: Option<&'c Cursor>, t: &Task) -> Result<(usize, Option<&'c str>), ProviderError> {
    let Some(c) = cursor else { return Ok((0, None)) };
    let (i, token) =
        c.split_once(':').ok_or_else(|| ProviderError::invalid(format!("bad cursor `{c}` for task {}", t.name)))?;
    let i: usize = i.parse().map_err(|_| ProviderError::invalid(format!("bad cursor `{c}` for task {}", t.name)))?;
    if i >= t.calls.len() {
        return Err(ProviderError::invalid(format!("bad cursor `{c}` for task {}", t.name)));
    }
    Ok((i, (!token.is_empty()).then_some(token)))
}

#[async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &str {
        "aws"
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        let regions = self.config.region_names();
        let mut out = Vec::new();
        for name in self.config.task_names() {
            let t = task(name).expect("task names come from the catalogue");
            if t.global {
                out.push(Scope::new(&self.tenant, &self.config.connection, name, None));
            } else {
                for r in &regions {
                    out.push(Scope::new(&self.tenant, &self.config.connection, name, Some(r.clone())));
                }
            }
        }
        Ok(out)
    }

    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let t =
            task(&scope.task).ok_or_else(|| ProviderError::invalid(format!("unknown aws task `{}`", scope.task)))?;
        let region = scope.region.as_deref().unwrap_or(GLOBAL_REGION);
        let (i, token) = parse_cursor(cursor, t)?;
        let call = &t.calls[i];
        let doc = self.call(call, region, token).await?;
        let mut items = items_of(call, region, &doc);
        if call.name == "DescribeLoadBalancersV2" {
            for it in &mut items {
                if let Value::Object(o) = it {
                    self.enrich_elbv2(region, o).await?;
                }
            }
        }
        let next_token = if call.paging.token_param.is_empty() {
            None
        } else {
            xml::str_at(&doc, call.paging.token_path).filter(|n| Some(*n) != token).map(str::to_string)
        };
        let next = match next_token {
            Some(tok) => Some(format!("{i}:{tok}")),
            None if i + 1 < t.calls.len() => Some(format!("{}:", i + 1)),
            None => None,
        };
        Ok(Page { items, bad_items: Vec::new(), next })
    }
}
