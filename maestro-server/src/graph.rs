//! `maestro graph`: draw a graph of a tenant's inventory from the store.
//!
//! This loads the tenant's applications, systems, clients and servers into a
//! `maestro_graph::MemoryInventory` and runs the graph job on it. (The repository-side
//! recursive lookup, which avoids loading everything, is still to be written.)

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use maestro_core::{Kind, PageRequest, Repository, Resource, ResourceFilter};
use maestro_graph::model::{App, Client, ClientRef, Dep, GraphDefinition, GraphKind, Server, System, SystemRef};
use maestro_graph::{JobStatus, MemoryInventory};
use serde_json::Value;

/// What to draw.
#[derive(Debug, Clone)]
pub struct GraphArgs {
    /// Database URL.
    pub database: String,
    /// Tenant.
    pub tenant: String,
    /// `business` or `infra`.
    pub kind: GraphKind,
    /// Entry applications (native ids, i.e. names for file imports).
    pub apps: Vec<String>,
    /// Systems whose entries are used.
    pub systems: Vec<String>,
    /// Clients whose systems are used.
    pub clients: Vec<String>,
    /// Where to write the SVG.
    pub out: PathBuf,
    /// Where to write GraphML (business graphs).
    pub graphml: Option<PathBuf>,
}

async fn all_of(repo: &dyn Repository, tenant: &str, kind: Kind) -> Result<Vec<Resource>> {
    let filter = ResourceFilter::tenant(tenant).kind(kind).active(true);
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = repo.list_resources(&filter, &page).await?;
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(out),
        }
    }
}

fn text(r: &Resource, key: &str) -> Option<String> {
    r.doc.attributes.get(key).and_then(Value::as_str).map(str::to_string)
}

fn number(r: &Resource, key: &str) -> Option<f64> {
    r.doc.attributes.get(key).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn related<'a>(r: &'a Resource, rel: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    r.doc.relations.iter().filter(move |x| x.rel == rel).map(|x| x.native_id.as_str())
}

/// Build the inventory the graph code reads from stored resources.
pub async fn load_inventory(repo: &dyn Repository, tenant: &str) -> Result<MemoryInventory> {
    let apps = all_of(repo, tenant, Kind::APPLICATION).await?;
    let systems = all_of(repo, tenant, Kind::SYSTEM).await?;
    let clients = all_of(repo, tenant, Kind::CLIENT).await?;
    let servers = all_of(repo, tenant, Kind::SERVER).await?;
    let system_names: HashMap<&str, &str> =
        systems.iter().map(|s| (s.key.native_id.as_str(), s.doc.name.as_str())).collect();
    let mut inv = MemoryInventory::new();
    for a in &apps {
        let endpoints: HashMap<String, String> = a
            .doc
            .attributes
            .get("deps")
            .and_then(Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| {
                        Some((d.get("name")?.as_str()?.to_string(), d.get("endpoint")?.as_str()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut app = App::new(&a.key.native_id, &a.doc.name);
        app.family = text(a, "family");
        app.size = text(a, "size");
        app.environment = text(a, "environment");
        app.language = text(a, "language");
        app.cluster = text(a, "cluster");
        app.provider = text(a, "provider");
        app.systems = related(a, "member_of")
            .map(|s| SystemRef { id: s.to_string(), name: system_names.get(s).copied().unwrap_or(s).to_string() })
            .collect();
        app.deps =
            related(a, "depends_on").map(|d| Dep { id: d.to_string(), endpoint: endpoints.get(d).cloned() }).collect();
        inv.add_app(app);
    }
    for s in &systems {
        inv.add_system(System {
            id: s.key.native_id.clone(),
            name: s.doc.name.clone(),
            entry: related(s, "entry").map(str::to_string).collect(),
            clients: related(s, "serves").map(|c| ClientRef { id: c.to_string(), name: c.to_string() }).collect(),
        });
    }
    for c in &clients {
        inv.add_client(Client { id: c.key.native_id.clone(), name: c.doc.name.clone() });
    }
    for s in &servers {
        inv.add_server(Server {
            id: s.key.native_id.clone(),
            name: s.doc.name.clone(),
            hostname: text(s, "hostname"),
            ipv4_private: text(s, "ipv4_private"),
            environment: text(s, "environment"),
            role: text(s, "role"),
            cpu: number(s, "cpu"),
            memory: number(s, "memory"),
            datacenter: None,
            applications: related(s, "runs").map(str::to_string).collect(),
        });
    }
    Ok(inv)
}

/// Draw the graph; returns the job status.
///
/// # Errors
/// Database errors and unwritable output files. A graph that cannot be built is not an error:
/// its status and message are printed.
pub async fn graph(args: GraphArgs, out: &mut dyn Write) -> Result<JobStatus> {
    let store = maestro_store::open(&args.database).await?;
    let inv = load_inventory(&*store, &args.tenant).await?;
    let def = GraphDefinition {
        id: "cli".into(),
        name: "maestro graph".into(),
        kind: args.kind,
        clients: args.clients.clone(),
        systems: args.systems.clone(),
        apps: args.apps.clone(),
    };
    let job = maestro_graph::build_graph(&inv, &def);
    writeln!(out, "graph {:?}: {:?} at {:?} {}", args.kind, job.status, job.stage, job.msg)?;
    if let Some(r) = &job.result {
        std::fs::write(&args.out, &r.drawing.svg).with_context(|| format!("writing `{}`", args.out.display()))?;
        writeln!(
            out,
            "  {} applications, {} dependency connectors, entries: {}",
            r.graph.nodes().len(),
            r.drawing.edges_drawn,
            r.entries.join(", ")
        )?;
        writeln!(out, "  info: {}", serde_json::to_string(&r.info)?)?;
        writeln!(out, "  SVG written to {}", args.out.display())?;
        if let Some(p) = &args.graphml {
            let xml = maestro_graph::to_graphml(&r.graph, &r.grid, "cli")?;
            std::fs::write(p, xml).with_context(|| format!("writing `{}`", p.display()))?;
            writeln!(out, "  GraphML written to {}", p.display())?;
        }
    } else if let Some(r) = &job.infra {
        std::fs::write(&args.out, &r.svg).with_context(|| format!("writing `{}`", args.out.display()))?;
        writeln!(out, "  SVG written to {}", args.out.display())?;
    }
    Ok(job.status)
}
