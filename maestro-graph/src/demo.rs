//! Loader for the demo dataset (`apps.json`, `deps.json`, `system.json`, `clients.json`,
//! `servers.json`, `datacenters.json`, `analytics.json`), a JSON conversion of the
//! original's `devtools/migration_demo` fixtures.
//!
//! References are written `#name::<name>` and resolve by name within the referenced
//! collection. Ids are derived from names (lower-case slug; `-2`, `-3`... on collision),
//! servers keep their `unique_id`. Unresolvable references (the `root` key of
//! `deps.json`, for instance) are skipped and reported in [`DemoDataset::warnings`].

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{App, Client, ClientRef, DatacenterRef, Dep, GraphDefinition, GraphKind, Server, System, SystemRef};
use crate::source::MemoryInventory;

/// The demo dataset: an inventory plus the graph definitions of `analytics.json`.
#[derive(Debug, Clone)]
pub struct DemoDataset {
    /// Apps, systems, clients and servers.
    pub inventory: MemoryInventory,
    /// The graph definitions, in file order.
    pub graphs: Vec<GraphDefinition>,
    /// References that could not be resolved (skipped).
    pub warnings: Vec<String>,
}

const REF: &str = "#name::";

/// Lower-case slug of a name: ASCII alphanumerics kept, runs of anything else become `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "x".to_string() } else { out }
}

#[derive(Default)]
struct Ids {
    by_name: HashMap<String, String>,
    used: HashMap<String, usize>,
}

impl Ids {
    fn assign(&mut self, prefix: &str, name: &str) -> String {
        let base = format!("{prefix}{}", slug(name));
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        self.by_name.entry(name.to_string()).or_insert(id.clone());
        id
    }
    fn get(&self, name: &str) -> Option<&String> {
        self.by_name.get(name)
    }
}

fn read(dir: &Path, file: &str) -> Result<Value> {
    let path = dir.join(file);
    let text =
        std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    serde_json::from_str(&text).map_err(|source| Error::Json { what: file.to_string(), source })
}

fn read_opt(dir: &Path, file: &str) -> Result<Value> {
    if dir.join(file).exists() { read(dir, file) } else { Ok(Value::Array(Vec::new())) }
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn f(v: &Value, k: &str) -> Option<f64> {
    match v.get(k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn strip(r: &str) -> &str {
    r.strip_prefix(REF).unwrap_or(r)
}

fn refs(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(|s| strip(s).to_string())).collect(),
        Some(Value::String(s)) => vec![strip(s).to_string()],
        _ => Vec::new(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Load the demo dataset from a directory.
///
/// `servers.json`, `clients.json`, `datacenters.json` and `analytics.json` are optional.
///
/// # Errors
/// [`Error::Io`] / [`Error::Json`] when a file is missing or malformed.
pub fn load_demo_dir(dir: impl AsRef<Path>) -> Result<DemoDataset> {
    let dir = dir.as_ref();
    let apps_v = read(dir, "apps.json")?;
    let deps_v = read_opt(dir, "deps.json")?;
    let systems_v = read_opt(dir, "system.json")?;
    let clients_v = read_opt(dir, "clients.json")?;
    let servers_v = read_opt(dir, "servers.json")?;
    let dcs_v = read_opt(dir, "datacenters.json")?;
    let graphs_v = read_opt(dir, "analytics.json")?;
    let mut warnings = Vec::new();

    let mut dcs: HashMap<String, DatacenterRef> = HashMap::new();
    for d in arr(&dcs_v) {
        if let Some(name) = s(d, "name") {
            dcs.insert(name.clone(), DatacenterRef { name, provider: s(d, "provider"), region: None, zone: None });
        }
    }

    let mut client_ids = Ids::default();
    let mut clients = Vec::new();
    for c in arr(&clients_v) {
        let name = s(c, "name").unwrap_or_default();
        let id = client_ids.assign("client-", &name);
        clients.push(Client { id, name });
    }

    let mut system_ids = Ids::default();
    let mut systems = Vec::new();
    for sv in arr(&systems_v) {
        let name = s(sv, "name").unwrap_or_default();
        let id = system_ids.assign("system-", &name);
        let mut cl = Vec::new();
        for r in refs(sv, "clients") {
            match client_ids.get(&r) {
                Some(cid) => cl.push(ClientRef { id: cid.clone(), name: r }),
                None => warnings.push(format!("system `{name}`: unknown client `{r}`")),
            }
        }
        systems.push(System { id, name, entry: Vec::new(), clients: cl });
    }

    let mut app_ids = Ids::default();
    let mut apps: Vec<App> = Vec::new();
    for a in arr(&apps_v) {
        let name = s(a, "name").unwrap_or_default();
        let id = app_ids.assign("", &name);
        let mut sys = Vec::new();
        for r in refs(a, "system") {
            match system_ids.get(&r) {
                Some(sid) => sys.push(SystemRef { id: sid.clone(), name: r }),
                None => warnings.push(format!("app `{name}`: unknown system `{r}`")),
            }
        }
        let datacenter = refs(a, "datacenters").first().map(|r| {
            dcs.get(r).cloned().unwrap_or_else(|| {
                warnings.push(format!("app `{name}`: unknown datacenter `{r}`"));
                DatacenterRef { name: r.clone(), ..Default::default() }
            })
        });
        apps.push(App {
            id,
            name,
            family: s(a, "family"),
            size: s(a, "size"),
            environment: s(a, "environment"),
            provider: s(a, "provider"),
            language: s(a, "language"),
            cluster: s(a, "cluster"),
            datacenter,
            systems: sys,
            servers: Vec::new(),
            deps: Vec::new(),
            qtd: a.get("qtd").and_then(Value::as_u64).map(|q| q as u32),
        });
    }
    let app_pos: HashMap<String, usize> = apps.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();

    if let Value::Object(map) = &deps_v {
        for (k, list) in map {
            let src = strip(k);
            let Some(src_id) = app_ids.get(src).cloned() else {
                warnings.push(format!("deps: unknown source app `{k}`"));
                continue;
            };
            for d in arr(list) {
                let Some(target) = d.get("name").and_then(Value::as_str).map(strip) else {
                    continue;
                };
                match app_ids.get(target) {
                    Some(tid) => apps[app_pos[&src_id]].deps.push(Dep { id: tid.clone(), endpoint: s(d, "endpoint") }),
                    None => warnings.push(format!("deps: unknown target app `{target}`")),
                }
            }
        }
    }

    let mut servers = Vec::new();
    for (i, sv) in arr(&servers_v).iter().enumerate() {
        let id = s(sv, "unique_id").unwrap_or_else(|| format!("server-{i}"));
        let mut applications = Vec::new();
        for r in refs(sv, "applications") {
            match app_ids.get(&r) {
                Some(aid) => applications.push(aid.clone()),
                None => warnings.push(format!("server `{id}`: unknown app `{r}`")),
            }
        }
        let datacenter = refs(sv, "datacenters").first().and_then(|r| dcs.get(r).cloned());
        servers.push(Server {
            id,
            name: s(sv, "name").unwrap_or_default(),
            hostname: s(sv, "hostname"),
            ipv4_private: s(sv, "ipv4_private"),
            environment: s(sv, "environment"),
            role: s(sv, "role"),
            cpu: f(sv, "cpu"),
            memory: f(sv, "memory"),
            datacenter,
            applications,
        });
    }

    let mut graph_ids = Ids::default();
    let mut graphs = Vec::new();
    for g in arr(&graphs_v) {
        let name = s(g, "name").unwrap_or_default();
        let id = graph_ids.assign("graph-", &name);
        let kind = match s(g, "type").as_deref() {
            Some("infra") => GraphKind::Infra,
            _ => GraphKind::Business,
        };
        let mut resolve = |field: &str, ids: &Ids| -> Vec<String> {
            let mut out = Vec::new();
            for r in refs(g, field) {
                match ids.get(&r) {
                    Some(x) => out.push(x.clone()),
                    None => warnings.push(format!("graph `{name}`: unknown {field} `{r}`")),
                }
            }
            out
        };
        let apps_r = resolve("apps", &app_ids);
        let systems_r = resolve("systems", &system_ids);
        let clients_r = resolve("clients", &client_ids);
        graphs.push(GraphDefinition { id, name, kind, clients: clients_r, systems: systems_r, apps: apps_r });
    }

    let mut inventory = MemoryInventory::new();
    for a in apps {
        inventory.add_app(a);
    }
    for s in systems {
        inventory.add_system(s);
    }
    for c in clients {
        inventory.add_client(c);
    }
    for s in servers {
        inventory.add_server(s);
    }
    Ok(DemoDataset { inventory, graphs, warnings })
}
