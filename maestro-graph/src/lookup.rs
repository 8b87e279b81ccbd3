//! Entry resolution (which apps a graph starts from) and the dependency lookup
//! (a breadth-first equivalent of the original's Mongo `$graphLookup`).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::Result;
use crate::model::{App, GraphDefinition};
use crate::source::{InventorySource, SystemFilter};

/// Maximum lookup depth (`maxDepth` of the original `$graphLookup`).
pub const MAX_LOOKUP_DEPTH: u32 = 40;

/// The fallback family hierarchy used when a system has no explicit entry apps
/// (the original's `GuestEntry`). Families are compared case-insensitively.
pub const FAMILY_HIERARCHY: [&str; 21] = [
    "CDN",
    "ApiGateway",
    "Loadbalance",
    "NAS",
    "Application",
    "Serverless",
    "ObjectStorage",
    "ServiceDiscovery",
    "VPN",
    "CI/CD",
    "Monitor",
    "Cache",
    "Logs",
    "SMTP",
    "Auth",
    "Broker",
    "Repository",
    "Database",
    "ContainerOrchestration",
    "ServiceMesh",
    "DNS",
];

/// Outcome of entry resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entries {
    /// Entry app ids, de-duplicated, in first-seen order.
    Found(Vec<String>),
    /// No system matched the definition (the original raised an error).
    NoSystems,
    /// Systems were found but none yielded an entry app (the original warned).
    NoEntries,
}

fn family_rank(family: Option<&str>) -> usize {
    let f = family.unwrap_or("Application");
    FAMILY_HIERARCHY.iter().position(|h| h.eq_ignore_ascii_case(f)).unwrap_or(FAMILY_HIERARCHY.len())
}

/// The fallback entry choice for apps of systems without explicit entries.
///
/// Apps are sorted (stably) by their family's rank in [`FAMILY_HIERARCHY`]; families
/// outside it rank after all known families instead of failing (the original raised
/// `ValueError`). The kept apps are the sorted prefix whose family lies in the band of
/// three hierarchy families that holds the top-most family; when the top-most family is
/// outside the hierarchy, the apps of exactly that family are kept.
pub fn guess_entries(apps: &[App]) -> Vec<String> {
    let mut sorted: Vec<&App> = apps.iter().collect();
    sorted.sort_by_key(|a| family_rank(a.family.as_deref()));
    let Some(first) = sorted.first() else {
        return Vec::new();
    };
    let top = family_rank(first.family.as_deref());
    if top >= FAMILY_HIERARCHY.len() {
        let fam = first.family.as_deref().unwrap_or("").to_ascii_lowercase();
        return sorted
            .iter()
            .filter(|a| a.family.as_deref().unwrap_or("").to_ascii_lowercase() == fam)
            .map(|a| a.id.clone())
            .collect();
    }
    let idx = top + 1;
    let cut = idx.div_ceil(3) * 3;
    let band = (cut - 3)..cut;
    sorted.iter().take_while(|a| band.contains(&family_rank(a.family.as_deref()))).map(|a| a.id.clone()).collect()
}

/// Resolve the entry apps of a graph definition.
///
/// Mode: the first non-empty of `clients` (systems having those clients), `systems`
/// (those systems), `apps` (those apps, used directly); all empty means every system.
/// Systems contribute their `entry` lists; systems without entries fall back to
/// [`guess_entries`] over all their apps together.
///
/// # Errors
/// Errors of the source.
pub fn resolve_entries(source: &dyn InventorySource, def: &GraphDefinition) -> Result<Entries> {
    let filter = if !def.clients.is_empty() {
        SystemFilter::Clients(def.clients.clone())
    } else if !def.systems.is_empty() {
        SystemFilter::Ids(def.systems.clone())
    } else if !def.apps.is_empty() {
        return Ok(dedup(def.apps.iter().cloned()));
    } else {
        SystemFilter::All
    };
    let systems = source.systems(&filter)?;
    if systems.is_empty() {
        return Ok(Entries::NoSystems);
    }
    let mut ids = Vec::new();
    let mut fallen = Vec::new();
    for s in &systems {
        if s.entry.is_empty() {
            fallen.push(s.id.clone());
        } else {
            ids.extend(s.entry.iter().cloned());
        }
    }
    if !fallen.is_empty() {
        let apps = source.apps_of_systems(&fallen)?;
        ids.extend(guess_entries(&apps));
    }
    Ok(dedup(ids.into_iter()))
}

fn dedup(ids: impl Iterator<Item = String>) -> Entries {
    let mut seen = HashSet::new();
    let v: Vec<String> = ids.filter(|i| seen.insert(i.clone())).collect();
    if v.is_empty() { Entries::NoEntries } else { Entries::Found(v) }
}

/// One entry and what its lookup reached.
#[derive(Debug, Clone)]
pub struct EntryLookup {
    /// The entry application.
    pub entry: App,
    /// Reached applications with the BFS depth of first reach (0 = direct dependency of
    /// the entry), in BFS order. The entry itself is never included.
    pub nodes: Vec<(App, u32)>,
}

/// Breadth-first dependency lookup from each entry, to depth [`MAX_LOOKUP_DEPTH`].
///
/// Unknown entry ids are skipped (reported in the second value). Dependencies on
/// unknown apps are not followed.
///
/// # Errors
/// Errors of the source.
pub fn graph_lookup(
    source: &dyn InventorySource,
    entries: &[String],
    max_depth: u32,
) -> Result<(Vec<EntryLookup>, Vec<String>)> {
    let mut cache: HashMap<String, Option<App>> = HashMap::new();
    let mut fetch = |id: &str| -> Result<Option<App>> {
        if let Some(a) = cache.get(id) {
            return Ok(a.clone());
        }
        let a = source.app(id)?;
        cache.insert(id.to_string(), a.clone());
        Ok(a)
    };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for e in entries {
        let Some(entry) = fetch(e)? else {
            missing.push(e.clone());
            continue;
        };
        let mut seen: HashSet<String> = HashSet::new();
        seen.insert(entry.id.clone());
        let mut queue: VecDeque<(String, u32)> = entry.deps.iter().map(|d| (d.id.clone(), 0)).collect();
        let mut nodes = Vec::new();
        while let Some((id, depth)) = queue.pop_front() {
            if depth > max_depth || seen.contains(&id) {
                continue;
            }
            seen.insert(id.clone());
            let Some(app) = fetch(&id)? else { continue };
            for d in &app.deps {
                if !seen.contains(&d.id) {
                    queue.push_back((d.id.clone(), depth + 1));
                }
            }
            nodes.push((app, depth));
        }
        out.push(EntryLookup { entry, nodes });
    }
    Ok((out, missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemoryInventory;

    fn inv(apps: Vec<App>) -> MemoryInventory {
        let mut i = MemoryInventory::new();
        for a in apps {
            i.add_app(a);
        }
        i
    }

    #[test]
    fn bfs_depth_of_first_reach_and_cycles() {
        let i = inv(vec![
            App::new("A", "A").with_dep("B", None).with_dep("C", None),
            App::new("B", "B").with_dep("C", None).with_dep("A", None),
            App::new("C", "C").with_dep("D", None).with_dep("ghost", None),
            App::new("D", "D"),
        ]);
        let (l, missing) = graph_lookup(&i, &["A".into(), "nope".into()], 40).unwrap();
        assert_eq!(missing, vec!["nope".to_string()]);
        let got: Vec<(&str, u32)> = l[0].nodes.iter().map(|(a, d)| (a.id.as_str(), *d)).collect();
        // C is a direct dependency (depth 0) even though B also reaches it; A is never a node
        assert_eq!(got, vec![("B", 0), ("C", 0), ("D", 1)]);
        let (l, _) = graph_lookup(&i, &["A".into()], 0).unwrap();
        assert_eq!(l[0].nodes.len(), 2, "depth cap 0 keeps only direct dependencies");
    }

    #[test]
    fn guess_entries_keeps_the_top_band() {
        let apps = vec![
            App::new("db", "db").with_family("Database"),
            App::new("web", "web").with_family("Application"),
            App::new("nas", "nas").with_family("NAS"),
            App::new("srv", "srv").with_family("Serverless"),
            App::new("x", "x").with_family("Corporate"),
        ];
        // top-most is NAS (index 3) → band [NAS, Application, Serverless]
        assert_eq!(guess_entries(&apps), vec!["nas", "web", "srv"]);
        assert!(guess_entries(&[]).is_empty());
    }
}
