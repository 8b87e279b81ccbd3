use std::path::PathBuf;

use async_trait::async_trait;
use maestro_core::{ConfigErrors, Cursor, Page, Provider, ProviderError, Scope};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::source::{FileSource, S3Source, SshSource};
use crate::aws::CALL_KEY;

/// Which importer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Ansible facts (`setup` module output or a fact-cache file), one host per file.
    Ansible,
    /// Terraform state, format version 4.
    Terraform,
}

/// Configuration of the `ansible` and `terraform` importers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// `ansible` or `terraform`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection id the imported resources belong to.
    pub connection: String,
    /// Files to read: local paths, remote paths when `ssh` is set, object keys when `s3` is set.
    pub paths: Vec<PathBuf>,
    /// Read `paths` on this SSH server (SFTP, verified host key) instead of locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSource>,
    /// Read `paths` as object keys of this S3 bucket instead of locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Source>,
}

impl ImportConfig {
    /// Check the fields; record every problem. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if self.connection.trim().is_empty() {
            errors.push(format!("{path}.connection"), "must not be empty");
        }
        if self.paths.is_empty() {
            errors.push(format!("{path}.paths"), "list at least one file");
        }
        for (i, p) in self.paths.iter().enumerate() {
            let text = p.to_string_lossy();
            if text.trim().is_empty() {
                errors.push(format!("{path}.paths[{i}]"), "must not be empty");
            } else if self.s3.is_some() && text.ends_with('/') {
                errors.push(
                    format!("{path}.paths[{i}]"),
                    format!("`{text}`: a prefix; list the object keys one by one (prefix listing is not supported)"),
                );
            }
        }
        FileSource::validate(self.ssh.as_ref(), self.s3.as_ref(), path, errors);
        errors.problems.len() == before
    }

    /// A configuration reading local `paths`.
    pub fn local(kind: &str, connection: &str, paths: Vec<PathBuf>) -> Self {
        Self { kind: kind.into(), connection: connection.into(), paths, ssh: None, s3: None }
    }
}

/// Reads the configured files (locally, over SSH or from S3), one page per file. Scopes: `server-list` (Ansible hosts,
/// Terraform `aws_instance`) and `volumes-list` (Ansible `ansible_devices`; Terraform
/// `aws_ebs_volume` and the instances' root / EBS block devices).
#[derive(Debug)]
pub struct ImportProvider {
    tenant: String,
    format: Format,
    config: ImportConfig,
    source: FileSource,
}

impl ImportProvider {
    /// A provider for `tenant`. Nothing is connected until the first page is fetched.
    ///
    /// # Errors
    /// The S3 source's HTTP client cannot be built.
    pub fn new(tenant: &str, format: Format, config: ImportConfig) -> Result<Self, ProviderError> {
        let source = FileSource::new(config.ssh.as_ref(), config.s3.as_ref())?;
        Ok(Self { tenant: tenant.into(), format, config, source })
    }
}

fn tag_list(tags: Option<&Value>) -> Option<Value> {
    let Some(Value::Object(m)) = tags else { return None };
    Some(Value::Array(
        m.iter()
            .map(|(k, v)| json!({"key": k, "value": v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())}))
            .collect(),
    ))
}

/// The host's identity as the server rule derives it: machine id, else product UUID, else the
/// default IPv4 address.
fn ansible_host_id(f: &Map<String, Value>) -> Option<String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    s(f.get("ansible_machine_id"))
        .or_else(|| s(f.get("ansible_product_uuid")))
        .or_else(|| s(f.get("ansible_default_ipv4").and_then(|v| v.get("address"))))
}

/// One volume per block device of `ansible_devices` (loop, ram and optical devices skipped),
/// identified as `<host id>:<device>`, attached to the host; size in GiB from sectors × sector
/// size (512 when not given).
fn ansible_devices(f: &Map<String, Value>) -> Result<Vec<Value>, String> {
    let Some(devices) = f.get("ansible_devices") else { return Ok(Vec::new()) };
    let Value::Object(devices) = devices else { return Err("`ansible_devices` is not an object".into()) };
    let host = ansible_host_id(f).ok_or(
        "`ansible_devices` without a host identity (ansible_machine_id, ansible_product_uuid or default IPv4)",
    )?;
    let num = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    let mut out = Vec::new();
    for (name, info) in devices {
        if ["loop", "ram", "sr"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let Value::Object(info) = info else { return Err(format!("`ansible_devices.{name}` is not an object")) };
        let mut o = info.clone();
        o.insert(CALL_KEY.into(), json!("ansible_device"));
        o.insert("@id".into(), json!(format!("{host}:{name}")));
        o.insert("@device".into(), json!(name));
        o.insert("@host".into(), json!(host));
        if let Some(sectors) = num(info.get("sectors")) {
            let bytes = sectors.saturating_mul(num(info.get("sectorsize")).unwrap_or(512));
            o.insert("@size_gib".into(), json!(bytes >> 30));
        }
        out.push(Value::Object(o));
    }
    Ok(out)
}

/// The raw items of one parsed file for `task`, each tagged with its rule ([`CALL_KEY`]).
///
/// # Errors
/// The document is not of the expected shape (message without the file name).
pub fn items_of(format: Format, task: &str, doc: &Value) -> Result<Vec<Value>, String> {
    match format {
        Format::Ansible => {
            let facts = doc.get("ansible_facts").unwrap_or(doc);
            let Value::Object(f) = facts else { return Err("expected an object of ansible facts".into()) };
            if !f.keys().any(|k| k.starts_with("ansible_")) {
                return Err("no `ansible_*` facts found (expected `setup` output or a fact-cache file)".into());
            }
            match task {
                "server-list" => {
                    let mut o = f.clone();
                    o.insert(CALL_KEY.into(), json!("ansible_facts"));
                    Ok(vec![Value::Object(o)])
                }
                "volumes-list" => ansible_devices(f),
                _ => Ok(Vec::new()),
            }
        }
        Format::Terraform => {
            match doc.get("version").and_then(Value::as_u64) {
                Some(4) => {}
                Some(v) => {
                    return Err(format!("state format version {v} is not supported (Terraform >= 0.12 writes 4)"));
                }
                None => return Err("no `version`: not a Terraform state file".into()),
            }
            let resources = doc.get("resources").and_then(Value::as_array).ok_or("no `resources` list")?;
            let mut out = Vec::new();
            for (i, r) in resources.iter().enumerate() {
                if r.get("mode").and_then(Value::as_str) != Some("managed") {
                    continue;
                }
                let ty = r.get("type").and_then(Value::as_str).ok_or(format!("resources[{i}] has no `type`"))?;
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                let module = r.get("module").and_then(Value::as_str);
                let instances = r.get("instances").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
                for inst in instances {
                    let attrs = inst.get("attributes").cloned().unwrap_or(Value::Null);
                    let base = |call: &str, attributes: Value| {
                        let mut o = Map::new();
                        o.insert(CALL_KEY.into(), json!(call));
                        o.insert("@name".into(), json!(name));
                        let mut address = match module {
                            Some(m) => format!("{m}.{ty}.{name}"),
                            None => format!("{ty}.{name}"),
                        };
                        match inst.get("index_key") {
                            Some(Value::String(k)) => address.push_str(&format!("[\"{k}\"]")),
                            Some(Value::Number(n)) => address.push_str(&format!("[{n}]")),
                            _ => {}
                        }
                        o.insert("@address".into(), json!(address));
                        if let Some(m) = module {
                            o.insert("@module".into(), json!(m));
                        }
                        if let Some(t) = tag_list(attributes.get("tags")) {
                            o.insert("@tags".into(), t);
                        }
                        o.insert("attributes".into(), attributes);
                        Value::Object(o)
                    };
                    match (task, ty) {
                        ("server-list", "aws_instance") => out.push(base("aws_instance", attrs)),
                        ("volumes-list", "aws_ebs_volume") => out.push(base("aws_ebs_volume", attrs)),
                        ("volumes-list", "aws_instance") => {
                            for key in ["root_block_device", "ebs_block_device"] {
                                for dev in attrs.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
                                    let mut v = base("aws_instance_block_device", dev.clone());
                                    v["@instance"] = attrs.get("id").cloned().unwrap_or(Value::Null);
                                    v["@root"] = json!(key == "root_block_device");
                                    v["@az"] = attrs.get("availability_zone").cloned().unwrap_or(Value::Null);
                                    out.push(v);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            Ok(out)
        }
    }
}

#[async_trait]
impl Provider for ImportProvider {
    fn name(&self) -> &str {
        match self.format {
            Format::Ansible => "ansible",
            Format::Terraform => "terraform",
        }
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        let tasks: &[&str] = match self.format {
            Format::Ansible => &["server-list", "volumes-list"],
            Format::Terraform => &["server-list", "volumes-list"],
        };
        Ok(tasks.iter().map(|t| Scope::new(&self.tenant, &self.config.connection, *t, None)).collect())
    }

    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let i: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| ProviderError::invalid(format!("bad cursor `{c}`")))?,
        };
        let path = self
            .config
            .paths
            .get(i)
            .ok_or_else(|| ProviderError::invalid(format!("cursor {i} is past the last file")))?;
        let shown = self.source.describe(path);
        let bytes = self.source.read(path).await?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::malformed(format!("`{shown}` line {} column {}: {e}", e.line(), e.column())))?;
        let items = items_of(self.format, &scope.task, &doc)
            .map_err(|e| ProviderError::malformed(format!("`{shown}`: {e}")))?;
        let next = (i + 1 < self.config.paths.len()).then(|| (i + 1).to_string());
        Ok(Page { items, bad_items: Vec::new(), next })
    }
}
