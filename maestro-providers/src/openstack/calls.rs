//! The catalogue of OpenStack tasks and the list calls behind each.

/// How a list answer points at its next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// `"<collection>_links": [{"rel": "next", "href": …}]` (Nova, Cinder, Neutron, Octavia).
    Collection(&'static str),
    /// A top-level `"next": "/v2/images?marker=…"`, relative to the endpoint root (Glance).
    Next,
}

/// One paginated list call.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// Name of the call and of its mapping rule file.
    pub name: &'static str,
    /// Catalogue service types that serve it, in order of preference.
    pub service: &'static [&'static str],
    /// Path under the endpoint URL (a version prefix already in the endpoint is not repeated).
    pub path: &'static str,
    /// Key of the item list in the answer.
    pub items: &'static str,
    /// Next-page style.
    pub links: Links,
}

/// A task: one scope per (task, region), its calls run one after the other.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    /// Task name (`server-list`).
    pub name: &'static str,
    /// Its calls.
    pub calls: &'static [Call],
}

const COMPUTE: &[&str] = &["compute"];
const NETWORK: &[&str] = &["network"];
const VOLUME: &[&str] = &["block-storage", "volumev3", "volumev2", "volume"];
const IMAGE: &[&str] = &["image"];
const LB: &[&str] = &["load-balancer"];

/// Every task, in crawl order.
pub static TASKS: &[Task] = &[
    Task {
        name: "server-list",
        calls: &[Call {
            name: "servers",
            service: COMPUTE,
            path: "/servers/detail",
            items: "servers",
            links: Links::Collection("servers_links"),
        }],
    },
    Task {
        name: "flavor-list",
        calls: &[Call {
            name: "flavors",
            service: COMPUTE,
            path: "/flavors/detail",
            items: "flavors",
            links: Links::Collection("flavors_links"),
        }],
    },
    Task {
        name: "images-list",
        calls: &[Call { name: "images", service: IMAGE, path: "/v2/images", items: "images", links: Links::Next }],
    },
    Task {
        name: "volumes-list",
        calls: &[Call {
            name: "volumes",
            service: VOLUME,
            path: "/volumes/detail",
            items: "volumes",
            links: Links::Collection("volumes_links"),
        }],
    },
    Task {
        name: "snapshot-list",
        calls: &[Call {
            name: "snapshots",
            service: VOLUME,
            path: "/snapshots/detail",
            items: "snapshots",
            links: Links::Collection("snapshots_links"),
        }],
    },
    Task {
        name: "security-list",
        calls: &[Call {
            name: "security_groups",
            service: NETWORK,
            path: "/v2.0/security-groups",
            items: "security_groups",
            links: Links::Collection("security_groups_links"),
        }],
    },
    Task {
        name: "network-list",
        calls: &[
            Call {
                name: "networks",
                service: NETWORK,
                path: "/v2.0/networks",
                items: "networks",
                links: Links::Collection("networks_links"),
            },
            Call {
                name: "subnets",
                service: NETWORK,
                path: "/v2.0/subnets",
                items: "subnets",
                links: Links::Collection("subnets_links"),
            },
            Call {
                name: "ports",
                service: NETWORK,
                path: "/v2.0/ports",
                items: "ports",
                links: Links::Collection("ports_links"),
            },
            Call {
                name: "routers",
                service: NETWORK,
                path: "/v2.0/routers",
                items: "routers",
                links: Links::Collection("routers_links"),
            },
        ],
    },
    Task {
        name: "loadbalance-list",
        calls: &[Call {
            name: "loadbalancers",
            service: LB,
            path: "/v2/lbaas/loadbalancers",
            items: "loadbalancers",
            links: Links::Collection("loadbalancers_links"),
        }],
    },
];

/// The task named `name`.
pub fn task(name: &str) -> Option<&'static Task> {
    TASKS.iter().find(|t| t.name == name)
}

/// `base` + `path`, not repeating a version segment the endpoint already ends with
/// (`http://h:9696/v2.0` + `/v2.0/networks` → `http://h:9696/v2.0/networks`).
pub fn join(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix('/')
        && let Some((first, tail)) = rest.split_once('/')
        && base.ends_with(&format!("/{first}"))
    {
        return format!("{base}/{tail}");
    }
    format!("{base}{path}")
}

/// The endpoint root a Glance-style relative `next` link is relative to (the endpoint without
/// a trailing `/v2`).
pub fn root(base: &str) -> &str {
    let b = base.trim_end_matches('/');
    b.strip_suffix("/v2").unwrap_or(b)
}
