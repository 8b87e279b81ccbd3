//! The input model of the graph library: applications, systems, clients, servers and
//! graph definitions, local to this crate so it does not depend on the engine's model.

use serde::{Deserialize, Serialize};

/// A datacenter reference (name + provider) as attached to apps and servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DatacenterRef {
    /// Datacenter name, e.g. `AWS - US East/West`.
    pub name: String,
    /// Provider, e.g. `AWS`, `OpenStack`, `Azure`; free text.
    #[serde(default)]
    pub provider: Option<String>,
    /// Region, when known.
    #[serde(default)]
    pub region: Option<String>,
    /// Zone, when known.
    #[serde(default)]
    pub zone: Option<String>,
}

/// A dependency edge of an application: `app --endpoint--> dep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dep {
    /// Id of the application depended upon.
    pub id: String,
    /// Protocol or endpoint label (`rest`, `tcp`, `amqp`...).
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// A reference to a system (id + name) as stored on an application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SystemRef {
    /// System id.
    pub id: String,
    /// System name.
    pub name: String,
}

/// A reference to a client (id + name) as stored on a system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientRef {
    /// Client id.
    pub id: String,
    /// Client name.
    pub name: String,
}

/// An application (a node of the business graph).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct App {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Family (`Application`, `Database`, `Broker`, ...). `None` draws as `Application`.
    #[serde(default)]
    pub family: Option<String>,
    /// Size class (`nano` .. `64xlarge`).
    #[serde(default)]
    pub size: Option<String>,
    /// Environment (`Production`...).
    #[serde(default)]
    pub environment: Option<String>,
    /// Provider of a managed service (`DynamoDB (AWS)`...).
    #[serde(default)]
    pub provider: Option<String>,
    /// Language.
    #[serde(default)]
    pub language: Option<String>,
    /// Cluster / runtime description.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Datacenter of a managed service.
    #[serde(default)]
    pub datacenter: Option<DatacenterRef>,
    /// Systems this app belongs to.
    #[serde(default)]
    pub systems: Vec<SystemRef>,
    /// Ids of servers the app runs on (servers may also point back via
    /// [`Server::applications`]; both are merged by the enrichment step).
    #[serde(default)]
    pub servers: Vec<String>,
    /// Outgoing dependencies.
    #[serde(default)]
    pub deps: Vec<Dep>,
    /// Number of instances to draw when the app has no servers (default 1).
    #[serde(default)]
    pub qtd: Option<u32>,
}

impl App {
    /// A minimal app with an id and a name (name = id when empty).
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        App { id: id.into(), name: name.into(), ..Default::default() }
    }

    /// Builder helper: set the family.
    pub fn with_family(mut self, family: &str) -> Self {
        self.family = Some(family.to_string());
        self
    }

    /// Builder helper: add a dependency.
    pub fn with_dep(mut self, id: &str, endpoint: Option<&str>) -> Self {
        self.deps.push(Dep { id: id.to_string(), endpoint: endpoint.map(str::to_string) });
        self
    }
}

/// A system: a group of applications with entry points and clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct System {
    /// Unique id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Entry-point application ids (may be empty: see the family fallback).
    #[serde(default)]
    pub entry: Vec<String>,
    /// Clients of the system.
    #[serde(default)]
    pub clients: Vec<ClientRef>,
}

/// A client (customer) of systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Client {
    /// Unique id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A server (VM, instance) that runs applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Server {
    /// Unique id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Hostname.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Private IPv4.
    #[serde(default)]
    pub ipv4_private: Option<String>,
    /// Environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<String>,
    /// vCPUs; `None` when unknown (drawn as 1).
    #[serde(default)]
    pub cpu: Option<f64>,
    /// Memory in GB; `None` when unknown (drawn as 1).
    #[serde(default)]
    pub memory: Option<f64>,
    /// Datacenter (provider, region, zone).
    #[serde(default)]
    pub datacenter: Option<DatacenterRef>,
    /// Ids of the applications it runs.
    #[serde(default)]
    pub applications: Vec<String>,
}

/// The kind of graph a definition asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphKind {
    /// Business graph: applications and their dependencies (the original's `bussiness`).
    #[serde(alias = "bussiness")]
    Business,
    /// Infrastructure graph (datacenter → region → zone → server → app).
    Infra,
}

/// A graph definition: what to draw.
///
/// The first non-empty of `clients` → `systems` → `apps` selects the entry mode;
/// all empty means "every system".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphDefinition {
    /// Graph id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: GraphKind,
    /// Client ids.
    #[serde(default)]
    pub clients: Vec<String>,
    /// System ids.
    #[serde(default)]
    pub systems: Vec<String>,
    /// Entry app ids.
    #[serde(default)]
    pub apps: Vec<String>,
}
