//! Where the graph builder reads the inventory from.

use std::collections::{HashMap, HashSet};

use crate::error::Result;
use crate::model::{App, Client, Server, System};

/// Which systems to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemFilter {
    /// Every system of the tenant.
    All,
    /// Systems with these ids.
    Ids(Vec<String>),
    /// Systems that have at least one of these clients.
    Clients(Vec<String>),
}

/// Read access to an inventory (apps, systems, servers) for the graph builder.
///
/// Required: [`app`](Self::app), [`systems`](Self::systems),
/// [`apps_of_systems`](Self::apps_of_systems), [`servers_of_apps`](Self::servers_of_apps).
/// Defaulted: [`apps`](Self::apps) (calls `app` per id), [`clients`](Self::clients) (empty).
///
/// The engine's repository implements this trait; [`MemoryInventory`] is the in-memory
/// implementation used by tests and the demo dataset.
///
/// An `Err` from any method aborts the graph job and maps to job status `error`
/// (the builder does not retry; the caller may re-run the job). "Not found" is not an
/// error: return `Ok(None)` / an empty list.
///
/// Implementations MUST return only active items of the caller's tenant, and SHOULD NOT
/// cap list sizes (the original silently capped reads at 200 rows).
pub trait InventorySource {
    /// One application by id, `None` when unknown.
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn app(&self, id: &str) -> Result<Option<App>>;

    /// Systems selected by `filter`, in a stable order (insertion or id order).
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn systems(&self, filter: &SystemFilter) -> Result<Vec<System>>;

    /// Applications that belong to any of these systems, in a stable order.
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn apps_of_systems(&self, system_ids: &[String]) -> Result<Vec<App>>;

    /// Servers that run any of these applications (by `Server::applications` or
    /// `App::servers`), in a stable order.
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn servers_of_apps(&self, app_ids: &[String]) -> Result<Vec<Server>>;

    /// Several applications by id; unknown ids are skipped. Defaults to `app` per id.
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn apps(&self, ids: &[String]) -> Result<Vec<App>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = self.app(id)? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Clients by id. Defaults to an empty list (the `iclients` metric then uses the
    /// client references stored on systems).
    ///
    /// # Errors
    /// A failure of the underlying store.
    fn clients(&self, _ids: &[String]) -> Result<Vec<Client>> {
        Ok(Vec::new())
    }
}

/// An in-memory inventory. Lists keep insertion order.
#[derive(Debug, Clone, Default)]
pub struct MemoryInventory {
    apps: Vec<App>,
    app_ix: HashMap<String, usize>,
    systems: Vec<System>,
    servers: Vec<Server>,
    clients: Vec<Client>,
}

impl MemoryInventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace, by id) an application.
    pub fn add_app(&mut self, app: App) -> &mut Self {
        if let Some(&i) = self.app_ix.get(&app.id) {
            self.apps[i] = app;
        } else {
            self.app_ix.insert(app.id.clone(), self.apps.len());
            self.apps.push(app);
        }
        self
    }

    /// Add a system.
    pub fn add_system(&mut self, system: System) -> &mut Self {
        self.systems.push(system);
        self
    }

    /// Add a server.
    pub fn add_server(&mut self, server: Server) -> &mut Self {
        self.servers.push(server);
        self
    }

    /// Add a client.
    pub fn add_client(&mut self, client: Client) -> &mut Self {
        self.clients.push(client);
        self
    }

    /// All applications in insertion order.
    pub fn all_apps(&self) -> &[App] {
        &self.apps
    }

    /// All servers in insertion order.
    pub fn all_servers(&self) -> &[Server] {
        &self.servers
    }

    /// All systems in insertion order.
    pub fn all_systems(&self) -> &[System] {
        &self.systems
    }

    /// All clients in insertion order.
    pub fn all_clients(&self) -> &[Client] {
        &self.clients
    }
}

impl InventorySource for MemoryInventory {
    fn app(&self, id: &str) -> Result<Option<App>> {
        Ok(self.app_ix.get(id).map(|&i| self.apps[i].clone()))
    }

    fn systems(&self, filter: &SystemFilter) -> Result<Vec<System>> {
        Ok(match filter {
            SystemFilter::All => self.systems.clone(),
            SystemFilter::Ids(ids) => {
                let set: HashSet<&str> = ids.iter().map(String::as_str).collect();
                self.systems.iter().filter(|s| set.contains(s.id.as_str())).cloned().collect()
            }
            SystemFilter::Clients(ids) => {
                let set: HashSet<&str> = ids.iter().map(String::as_str).collect();
                self.systems.iter().filter(|s| s.clients.iter().any(|c| set.contains(c.id.as_str()))).cloned().collect()
            }
        })
    }

    fn apps_of_systems(&self, system_ids: &[String]) -> Result<Vec<App>> {
        let set: HashSet<&str> = system_ids.iter().map(String::as_str).collect();
        Ok(self.apps.iter().filter(|a| a.systems.iter().any(|s| set.contains(s.id.as_str()))).cloned().collect())
    }

    fn servers_of_apps(&self, app_ids: &[String]) -> Result<Vec<Server>> {
        let set: HashSet<&str> = app_ids.iter().map(String::as_str).collect();
        let mut by_app: HashSet<&str> = HashSet::new();
        for id in app_ids {
            if let Some(&i) = self.app_ix.get(id) {
                by_app.extend(self.apps[i].servers.iter().map(String::as_str));
            }
        }
        Ok(self
            .servers
            .iter()
            .filter(|s| by_app.contains(s.id.as_str()) || s.applications.iter().any(|a| set.contains(a.as_str())))
            .cloned()
            .collect())
    }

    fn clients(&self, ids: &[String]) -> Result<Vec<Client>> {
        let set: HashSet<&str> = ids.iter().map(String::as_str).collect();
        Ok(self.clients.iter().filter(|c| set.contains(c.id.as_str())).cloned().collect())
    }
}
