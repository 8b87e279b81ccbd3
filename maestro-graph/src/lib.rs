//! Graphs and drawings of a maestro inventory.
//!
//! The business graph (applications and their dependencies) is built as the original
//! analytics service built it: entry resolution, a breadth-first dependency lookup to
//! depth 40, edge and node weights, the grid placement of SPEC §3.5, metrics, and the
//! isometric SVG drawing of SPEC §3.8, plus GraphML and JSON node-link exports.
//! Everything is deterministic: insertion order replaces the original's Python sets.
//!
//! Infra (datacenter → region → zone → server → application) and network
//! (VPC → subnet → instance) graphs use a layered, Sugiyama-style layout
//! ([`layered`], [`infra`]).
//!
//! Main types: [`InventorySource`] (where data comes from; [`MemoryInventory`] in
//! memory, [`load_demo_dir`] for the demo dataset), [`BusinessGraph`], [`Grid`],
//! [`BusinessInfo`], [`Drawing`], and the top-level [`build_business_graph`] /
//! [`build_infra_graph`] / [`build_graph`] returning a [`GraphJob`].
//!
//! ```
//! use maestro_graph::{App, GraphDefinition, GraphKind, JobStatus, MemoryInventory,
//!     build_business_graph};
//!
//! let mut inv = MemoryInventory::new();
//! inv.add_app(App::new("a", "Web").with_dep("b", Some("rest")).with_dep("c", Some("tcp")));
//! inv.add_app(App::new("b", "Api"));
//! inv.add_app(App::new("c", "Db").with_family("Database"));
//! let def = GraphDefinition {
//!     id: "g1".into(), name: "demo".into(), kind: GraphKind::Business,
//!     clients: vec![], systems: vec![], apps: vec!["a".into()],
//! };
//! let job = build_business_graph(&inv, &def);
//! assert_eq!(job.status, JobStatus::Finished);
//! let result = job.result.unwrap();
//! assert!(result.drawing.svg.starts_with("<svg"));
//! assert_eq!(result.info.connections, 2);
//! ```
//!
//! No cargo features.

pub mod business;
pub mod demo;
pub mod error;
pub mod export;
pub mod grid;
pub mod info;
pub mod infra;
pub mod job;
pub mod layered;
pub mod lookup;
pub mod metrics;
pub mod model;
pub mod overlay;
pub mod source;
pub mod svg;

pub use business::{BusinessEdge, BusinessGraph, BusinessNode};
pub use demo::{DemoDataset, load_demo_dir};
pub use error::{Error, Result};
pub use export::{to_graphml, to_node_link};
pub use grid::{Cell, Grid, LayoutInput, Placement};
pub use info::{BusinessInfo, business_info};
pub use job::{
    BusinessGraphResult, GraphJob, InfraGraphResult, JobStatus, Stage, build_business_graph, build_graph,
    build_infra_graph,
};
pub use lookup::{Entries, graph_lookup, resolve_entries};
pub use model::{App, Client, ClientRef, DatacenterRef, Dep, GraphDefinition, GraphKind, Server, System, SystemRef};
pub use overlay::{ChangeMarks, Mark, OverlayResult, change_overlay};
pub use source::{InventorySource, MemoryInventory, SystemFilter};
pub use svg::{Drawing, draw_business, draw_business_marked};
