//! `maestro graph`: draw a graph of a tenant's inventory from the store.
//!
//! [`load_inventory_for`] asks the store only for what one graph definition can touch: the
//! definition's systems (and those serving its clients), their entry and member applications,
//! the `depends_on` closure of those to depth 40 (one recursive query in the store, see
//! `Repository::related`), the servers running them and the systems they belong to. That
//! subset goes into a `maestro_graph::MemoryInventory` and the graph job runs on it; the
//! result is the same as on the whole tenant ([`load_inventory`], kept for callers that want
//! everything), which a test checks on every system, client and application of the demo.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use maestro_core::repository::{Direction, RelatedQuery};
use maestro_core::{Kind, PageRequest, Repository, Resource, ResourceFilter};
use maestro_graph::infra::{IngressRule, NetworkInventory, draw_layered, network_graph};
use maestro_graph::layered::LayeredOptions;
use maestro_graph::model::{App, Client, ClientRef, Dep, GraphDefinition, GraphKind, Server, System, SystemRef};
use maestro_graph::{JobStatus, Mark, MemoryInventory};
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
    Ok(inventory_from(&apps, &systems, &clients, &servers))
}

/// How deep the dependency lookup goes (the original's limit).
pub const LOOKUP_DEPTH: u32 = 40;

async fn walk(
    repo: &dyn Repository,
    tenant: &str,
    kind: Kind,
    start: &[String],
    rel: &str,
    direction: Direction,
    depth: u32,
) -> Result<Vec<Resource>> {
    if start.is_empty() {
        return Ok(Vec::new());
    }
    let q = RelatedQuery::new(tenant, kind, start.iter().cloned(), rel, direction).depth(depth);
    let reached = repo.related(&q).await.with_context(|| format!("walking `{rel}` in tenant `{tenant}`"))?;
    Ok(reached.into_iter().map(|r| r.resource).collect())
}

fn of_kind(items: Vec<Resource>, kind: &Kind) -> Vec<Resource> {
    items.into_iter().filter(|r| &r.key.kind == kind).collect()
}

fn ids(items: &[Resource]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|r| r.key.native_id.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn merge(into: &mut Vec<Resource>, more: Vec<Resource>) {
    for r in more {
        if !into.iter().any(|x| x.key == r.key) {
            into.push(r);
        }
    }
}

/// Build the inventory one graph definition needs, asking the store only for that part
/// (see the module docs). A definition that names nothing loads the whole tenant.
pub async fn load_inventory_for(repo: &dyn Repository, tenant: &str, def: &GraphDefinition) -> Result<MemoryInventory> {
    if def.apps.is_empty() && def.systems.is_empty() && def.clients.is_empty() {
        return load_inventory(repo, tenant).await;
    }
    // Systems: named ones, plus those serving the named clients.
    let mut systems =
        of_kind(walk(repo, tenant, Kind::SYSTEM, &def.systems, "entry", Direction::Outgoing, 0).await?, &Kind::SYSTEM);
    let serving = walk(repo, tenant, Kind::CLIENT, &def.clients, "serves", Direction::Incoming, 1).await?;
    merge(&mut systems, of_kind(serving, &Kind::SYSTEM));
    let system_ids = ids(&systems);
    // Candidate entries: named apps, systems' entries and members.
    let mut start = def.apps.clone();
    let entries = walk(repo, tenant, Kind::SYSTEM, &system_ids, "entry", Direction::Outgoing, 1).await?;
    let members = walk(repo, tenant, Kind::SYSTEM, &system_ids, "member_of", Direction::Incoming, 1).await?;
    start.extend(ids(&of_kind(entries, &Kind::APPLICATION)));
    start.extend(ids(&of_kind(members, &Kind::APPLICATION)));
    start.sort();
    start.dedup();
    // The dependency closure, in the store.
    let apps = of_kind(
        walk(repo, tenant, Kind::APPLICATION, &start, "depends_on", Direction::Outgoing, LOOKUP_DEPTH).await?,
        &Kind::APPLICATION,
    );
    let app_ids = ids(&apps);
    let servers =
        of_kind(walk(repo, tenant, Kind::APPLICATION, &app_ids, "runs", Direction::Incoming, 1).await?, &Kind::SERVER);
    // Systems the reached apps belong to (names, unique-systems count), and their clients.
    let owning = walk(repo, tenant, Kind::APPLICATION, &app_ids, "member_of", Direction::Outgoing, 1).await?;
    merge(&mut systems, of_kind(owning, &Kind::SYSTEM));
    let clients = of_kind(
        walk(repo, tenant, Kind::SYSTEM, &ids(&systems), "serves", Direction::Outgoing, 1).await?,
        &Kind::CLIENT,
    );
    Ok(inventory_from(&apps, &systems, &clients, &servers))
}

/// Graphs built from the store see resources in native-id order (per kind), whichever way they
/// were loaded, so the same definition always gives the same drawing.
fn inventory_from(
    apps: &[Resource],
    systems: &[Resource],
    clients: &[Resource],
    servers: &[Resource],
) -> MemoryInventory {
    let sorted = |v: &[Resource]| {
        let mut v: Vec<Resource> = v.to_vec();
        v.sort_by(|a, b| (&a.key.native_id, &a.key.connection).cmp(&(&b.key.native_id, &b.key.connection)));
        v
    };
    let (apps, systems, clients, servers) = (&sorted(apps), &sorted(systems), &sorted(clients), &sorted(servers));
    let system_names: HashMap<&str, &str> =
        systems.iter().map(|s| (s.key.native_id.as_str(), s.doc.name.as_str())).collect();
    let mut inv = MemoryInventory::new();
    for a in apps {
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
    for s in systems {
        inv.add_system(System {
            id: s.key.native_id.clone(),
            name: s.doc.name.clone(),
            entry: related(s, "entry").map(str::to_string).collect(),
            clients: related(s, "serves").map(|c| ClientRef { id: c.to_string(), name: c.to_string() }).collect(),
        });
    }
    for c in clients {
        inv.add_client(Client { id: c.key.native_id.clone(), name: c.doc.name.clone() });
    }
    for s in servers {
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
    inv
}

/// Draw the graph; returns the job status.
///
/// # Errors
/// Database errors and unwritable output files. A graph that cannot be built is not an error:
/// its status and message are printed.
pub async fn graph(args: GraphArgs, out: &mut dyn Write) -> Result<JobStatus> {
    let store = maestro_store::open(&args.database).await?;
    let def = GraphDefinition {
        id: "cli".into(),
        name: "maestro graph".into(),
        kind: args.kind,
        clients: args.clients.clone(),
        systems: args.systems.clone(),
        apps: args.apps.clone(),
    };
    let inv = load_inventory_for(&*store, &args.tenant, &def).await?;
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

async fn all_of_as_of(repo: &dyn Repository, tenant: &str, kind: Kind, at: DateTime<Utc>) -> Result<Vec<Resource>> {
    let filter = ResourceFilter::tenant(tenant).kind(kind).active(true);
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = repo.inventory_as_of(&filter, at, &page).await?;
        out.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The tenant's applications, systems, clients and servers as they were at `at` (the store's
/// as-of read, reconstructed from history).
pub async fn load_inventory_as_of(repo: &dyn Repository, tenant: &str, at: DateTime<Utc>) -> Result<MemoryInventory> {
    let apps = all_of_as_of(repo, tenant, Kind::APPLICATION, at).await?;
    let systems = all_of_as_of(repo, tenant, Kind::SYSTEM, at).await?;
    let clients = all_of_as_of(repo, tenant, Kind::CLIENT, at).await?;
    let servers = all_of_as_of(repo, tenant, Kind::SERVER, at).await?;
    Ok(inventory_from(&apps, &systems, &clients, &servers))
}

/// Draw the change overlay of a business graph: the inventory at `before` against now.
/// Returns the job status and the marks.
///
/// # Errors
/// Database errors and unwritable output files.
pub async fn graph_overlay(args: GraphArgs, before: DateTime<Utc>, out: &mut dyn Write) -> Result<JobStatus> {
    let store = maestro_store::open(&args.database).await?;
    let old = load_inventory_as_of(&*store, &args.tenant, before).await?;
    let new = load_inventory(&*store, &args.tenant).await?;
    let def = GraphDefinition {
        id: "cli".into(),
        name: "maestro graph".into(),
        kind: GraphKind::Business,
        clients: args.clients.clone(),
        systems: args.systems.clone(),
        apps: args.apps.clone(),
    };
    let o = maestro_graph::change_overlay(&old, &new, &def);
    writeln!(out, "change overlay since {before}: {:?} {}", o.job.status, o.job.msg)?;
    let count = |m: Mark| o.marks.nodes.values().filter(|x| **x == m).count();
    let edges = |m: Mark| o.marks.edges.values().filter(|x| **x == m).count();
    writeln!(
        out,
        "  applications: {} added, {} removed, {} changed; dependencies: {} added, {} removed",
        count(Mark::Added),
        count(Mark::Removed),
        count(Mark::Changed),
        edges(Mark::Added),
        edges(Mark::Removed)
    )?;
    for (id, m) in &o.marks.nodes {
        writeln!(out, "  {} {id}", m.as_str())?;
    }
    if let Some(r) = &o.job.result {
        std::fs::write(&args.out, &r.drawing.svg).with_context(|| format!("writing `{}`", args.out.display()))?;
        writeln!(out, "  SVG written to {}", args.out.display())?;
    }
    Ok(o.job.status)
}

fn attr_str(r: &Resource, key: &str) -> Option<String> {
    r.doc.attributes.get(key).and_then(Value::as_str).map(str::to_string)
}

fn port(v: Option<&Value>) -> Option<i64> {
    v.and_then(|x| x.as_i64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The tenant's network (VPCs, subnets, instances with their subnets, addresses and security
/// groups, peerings, and security-group ingress rules) from the store, as the AWS provider
/// normalises it (kind `network` with `family` Vpc / Subnet / SecurityGroup / VpcPeering;
/// kind `server` with `in_subnet` and `secured_by` relations).
pub async fn load_network(repo: &dyn Repository, tenant: &str) -> Result<NetworkInventory> {
    let mut net = NetworkInventory::default();
    for r in all_of(repo, tenant, Kind::new("network")).await? {
        let id = r.key.native_id.clone();
        match attr_str(&r, "family").as_deref() {
            Some("Vpc") => net.vpcs.push((id, r.doc.name.clone())),
            Some("Subnet") => {
                let vpc = attr_str(&r, "vpc_id").or_else(|| related(&r, "in_vpc").next().map(str::to_string));
                net.subnets.push((id, r.doc.name.clone(), vpc.unwrap_or_default()));
            }
            Some("VpcPeering") => {
                if let (Some(a), Some(b)) = (attr_str(&r, "requester_vpc_id"), attr_str(&r, "accepter_vpc_id")) {
                    net.peerings.push((a, b));
                }
            }
            Some("SecurityGroup") => {
                for rule in r.doc.attributes.get("rules_ingress").and_then(Value::as_array).into_iter().flatten() {
                    net.ingress.push(IngressRule {
                        group: id.clone(),
                        protocol: rule.get("protocol").and_then(Value::as_str).unwrap_or("-1").to_string(),
                        from_port: port(rule.get("from_port")),
                        to_port: port(rule.get("to_port")),
                        source_groups: strings(rule.get("groups")),
                        cidrs: strings(rule.get("cidrs")),
                    });
                }
            }
            _ => {}
        }
    }
    for s in all_of(repo, tenant, Kind::SERVER).await? {
        let Some(subnet) = related(&s, "in_subnet").next().map(str::to_string) else { continue };
        let id = s.key.native_id.clone();
        for g in related(&s, "secured_by") {
            net.secured_by.push((id.clone(), g.to_string()));
        }
        if let Some(ip) = attr_str(&s, "ipv4_private") {
            net.private_ips.push((id.clone(), ip));
        }
        net.instances.push((id, s.doc.name.clone(), subnet));
    }
    Ok(net)
}

/// Draw the tenant's network graph (VPC → subnet → instance, with peerings and the flows
/// security groups allow, aggregated between subnets) to `svg`.
///
/// # Errors
/// Database errors and unwritable output files.
pub async fn network(database: &str, tenant: &str, svg: &std::path::Path, out: &mut dyn Write) -> Result<()> {
    let store = maestro_store::open(database).await?;
    let net = load_network(&*store, tenant).await?;
    let g = network_graph(&net);
    let layout = g.layout(LayeredOptions::default());
    let drawing = draw_layered(&g, &layout)?;
    std::fs::write(svg, drawing).with_context(|| format!("writing `{}`", svg.display()))?;
    writeln!(
        out,
        "network graph: {} VPCs, {} subnets, {} instances, {} links ({} edge crossings); SVG written to {}",
        net.vpcs.len(),
        net.subnets.len(),
        net.instances.len(),
        g.links.len(),
        layout.crossings,
        svg.display()
    )?;
    Ok(())
}
