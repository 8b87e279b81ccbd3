//! The normalised model: resources, their identity and their scope.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::checksum::Checksum;

/// The kind of a resource (`server`, `application`, `volume`, …). Open-ended: providers may
/// introduce kinds of their own; the common ones have constants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kind(Cow<'static, str>);

impl Kind {
    /// A compute instance.
    pub const SERVER: Kind = Kind(Cow::Borrowed("server"));
    /// An application (service, load balancer, database, queue, … distinguished by `family`).
    pub const APPLICATION: Kind = Kind(Cow::Borrowed("application"));
    /// A block volume.
    pub const VOLUME: Kind = Kind(Cow::Borrowed("volume"));
    /// A network (VPC, subnet, security group, …).
    pub const NETWORK: Kind = Kind(Cow::Borrowed("network"));
    /// A volume snapshot.
    pub const SNAPSHOT: Kind = Kind(Cow::Borrowed("snapshot"));
    /// A machine image.
    pub const IMAGE: Kind = Kind(Cow::Borrowed("image"));
    /// A compute size / instance type.
    pub const FLAVOR: Kind = Kind(Cow::Borrowed("flavor"));
    /// A system (a named group of applications).
    pub const SYSTEM: Kind = Kind(Cow::Borrowed("system"));
    /// A client (who a system serves).
    pub const CLIENT: Kind = Kind(Cow::Borrowed("client"));
    /// A datacenter.
    pub const DATACENTER: Kind = Kind(Cow::Borrowed("datacenter"));

    /// A kind from any name (lower-case by convention).
    pub fn new(name: impl Into<String>) -> Self {
        Kind(Cow::Owned(name.into()))
    }
    /// The kind's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Kind {
    fn from(s: &str) -> Self {
        Kind::new(s)
    }
}

/// Who owns data. Every read and write is scoped by tenant.
pub type Tenant = String;

/// The identity of a resource: tenant + connection + kind + the provider's native id.
/// There is no global id: two tenants can hold the same native id without touching each other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    /// The owning tenant.
    pub tenant: Tenant,
    /// The connection (account / credentials) it was collected through.
    pub connection: String,
    /// Its kind.
    pub kind: Kind,
    /// The provider's id for it (for regional ids, the provider includes the region).
    pub native_id: String,
}

impl ResourceKey {
    /// Build a key.
    pub fn new(
        tenant: impl Into<String>,
        connection: impl Into<String>,
        kind: Kind,
        native_id: impl Into<String>,
    ) -> Self {
        Self { tenant: tenant.into(), connection: connection.into(), kind, native_id: native_id.into() }
    }
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}/{}", self.tenant, self.connection, self.kind, self.native_id)
    }
}

/// One unit of collection and of stale detection: connection × task × region.
///
/// A scope that completes deactivates what it did not see; a scope that fails deactivates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// The owning tenant.
    pub tenant: Tenant,
    /// The connection id.
    pub connection: String,
    /// The provider task (`server-list`, `volumes-list`, `import`, …).
    pub task: String,
    /// The region, or `None` for global / region-less tasks.
    pub region: Option<String>,
}

impl Scope {
    /// Build a scope.
    pub fn new(
        tenant: impl Into<String>,
        connection: impl Into<String>,
        task: impl Into<String>,
        region: Option<String>,
    ) -> Self {
        Self { tenant: tenant.into(), connection: connection.into(), task: task.into(), region }
    }
    /// The scope's key within its connection: `task` or `task@region`. Stored with each resource.
    pub fn local_key(&self) -> String {
        match &self.region {
            Some(r) => format!("{}@{}", self.task, r),
            None => self.task.clone(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.connection, self.local_key())
    }
}

/// A typed link from one resource to another of the same tenant and connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relation {
    /// What the link means: `in_subnet`, `in_vpc`, `secured_by`, `attached_volume`, `targets`, `depends_on`, …
    pub rel: String,
    /// The target's kind.
    pub kind: Kind,
    /// The target's native id.
    pub native_id: String,
}

impl Relation {
    /// Build a relation.
    pub fn new(rel: impl Into<String>, kind: Kind, native_id: impl Into<String>) -> Self {
        Self { rel: rel.into(), kind, native_id: native_id.into() }
    }
}

/// The provider-owned part of a resource: what a sync writes and what history diffs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Document {
    /// Display name.
    pub name: String,
    /// Normalised attributes (a JSON object).
    pub attributes: Map<String, Value>,
    /// Links to other resources.
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// Tags (`key → value`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Document {
    /// The document as one JSON value (for diffs and events).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a document always serialises")
    }
}

/// What a [`Translator`](crate::Translator) produces from a raw item: a resource without its
/// bookkeeping. The pipeline adds the scope and the checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDraft {
    /// The kind.
    pub kind: Kind,
    /// The provider's id.
    pub native_id: String,
    /// The provider-owned content.
    #[serde(flatten)]
    pub doc: Document,
}

impl ResourceDraft {
    /// A draft with a name and no attributes.
    pub fn new(kind: Kind, native_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self { kind, native_id: native_id.into(), doc: Document { name: name.into(), ..Document::default() } }
    }
    /// Set one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.doc.attributes.insert(key.into(), value.into());
        self
    }
    /// Add one relation.
    pub fn relate(mut self, rel: impl Into<String>, kind: Kind, native_id: impl Into<String>) -> Self {
        self.doc.relations.push(Relation::new(rel, kind, native_id));
        self
    }
    /// Set one tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.doc.tags.insert(key.into(), value.into());
        self
    }
}

/// A draft ready to be written: identity, scope and checksum attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedResource {
    /// Kind and native id (tenant and connection come from the batch).
    pub kind: Kind,
    /// The provider's id.
    pub native_id: String,
    /// The provider-owned content.
    pub doc: Document,
    /// Checksum of the raw item (minus volatile keys) and the translator version.
    pub checksum: Checksum,
}

/// A stored resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Its identity.
    pub key: ResourceKey,
    /// The scope (`task` or `task@region`) that last wrote it and that may deactivate it.
    pub scope: String,
    /// Whether it was present at the last complete crawl of its scope.
    pub active: bool,
    /// The provider-owned content.
    #[serde(flatten)]
    pub doc: Document,
    /// User-owned fields, set through the API; never touched by a sync.
    pub user_fields: Map<String, Value>,
    /// Checksum of the raw item last written.
    pub checksum: Checksum,
    /// First time any run saw it.
    pub first_seen: DateTime<Utc>,
    /// Last time a run saw it (an unchanged resource is "seen" at the completion of its scope).
    pub last_seen: DateTime<Utc>,
    /// Since when it has been missing (set on deactivation, cleared on reactivation).
    pub missing_since: Option<DateTime<Utc>>,
    /// Complete runs of its scope in a row that did not see it (for the grace policy).
    pub missed_runs: u32,
    /// Last write to this row.
    pub updated_at: DateTime<Utc>,
    /// Version counter, incremented on every write.
    pub version: i64,
}
