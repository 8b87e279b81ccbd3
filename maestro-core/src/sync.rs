//! The write-planning rules every repository backend shares: what an upsert does to one item.
//! Backends fetch state, call these functions, and write what they say.

use std::collections::HashMap;

use crate::checksum::Checksum;
use crate::diff::{Diff, diff};
use crate::model::{Document, Kind, PreparedResource};

/// What a backend knows about a stored resource before writing it (a cheap read: no document).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredState {
    /// Backend row id.
    pub id: i64,
    /// Stored checksum.
    pub checksum: Checksum,
    /// Active flag.
    pub active: bool,
    /// Pending miss count.
    pub missed_runs: u32,
    /// Owning scope.
    pub scope: String,
    /// Row version.
    pub version: i64,
}

/// First decision, from the cheap state alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// No row: insert.
    Create,
    /// Same checksum, active, nothing pending: no write at all.
    Unchanged,
    /// Same checksum but a miss count to clear or a scope move: write bookkeeping only (no
    /// history, no event).
    Touch,
    /// Checksum differs or the row is inactive: read the stored document and call [`finish`].
    Compare,
}

/// Decide from the cheap state.
pub fn plan(existing: Option<&StoredState>, item: &PreparedResource, scope: &str) -> Plan {
    match existing {
        None => Plan::Create,
        Some(e) if e.checksum == item.checksum && e.active => {
            if e.missed_runs == 0 && e.scope == scope {
                Plan::Unchanged
            } else {
                Plan::Touch
            }
        }
        Some(_) => Plan::Compare,
    }
}

/// Final decision once the stored document is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// Content changed: write, record history and a `resource.updated` event.
    Updated(Diff),
    /// Inactive row seen again: write, record history and a `resource.reactivated` event.
    Reactivated(Diff),
    /// The raw checksum changed but the normalised document did not: store the new checksum,
    /// nothing else (counted as unchanged).
    ChecksumOnly,
}

/// Decide for a [`Plan::Compare`] item.
pub fn finish(existing: &StoredState, old: &Document, new: &Document) -> Finish {
    let d = diff(&old.to_value(), &new.to_value());
    if !existing.active {
        Finish::Reactivated(d)
    } else if d.is_empty() {
        Finish::ChecksumOnly
    } else {
        Finish::Updated(d)
    }
}

/// Keep the last occurrence of each (kind, native id) in a batch, in first-seen order.
pub fn last_wins(items: &[PreparedResource]) -> Vec<&PreparedResource> {
    let mut index: HashMap<(&Kind, &str), usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&PreparedResource> = Vec::with_capacity(items.len());
    for it in items {
        match index.get(&(&it.kind, it.native_id.as_str())) {
            Some(&i) => out[i] = it,
            None => {
                index.insert((&it.kind, it.native_id.as_str()), out.len());
                out.push(it);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceDraft;

    fn item(id: &str, sum: u8) -> PreparedResource {
        let d = ResourceDraft::new(Kind::SERVER, id, id);
        PreparedResource { kind: d.kind, native_id: d.native_id, doc: d.doc, checksum: Checksum([sum; 32]) }
    }

    fn state(sum: u8, active: bool, missed: u32, scope: &str) -> StoredState {
        StoredState {
            id: 1,
            checksum: Checksum([sum; 32]),
            active,
            missed_runs: missed,
            scope: scope.into(),
            version: 1,
        }
    }

    #[test]
    fn plans() {
        assert_eq!(plan(None, &item("a", 1), "s"), Plan::Create);
        assert_eq!(plan(Some(&state(1, true, 0, "s")), &item("a", 1), "s"), Plan::Unchanged);
        assert_eq!(plan(Some(&state(1, true, 1, "s")), &item("a", 1), "s"), Plan::Touch);
        assert_eq!(plan(Some(&state(1, true, 0, "t")), &item("a", 1), "s"), Plan::Touch);
        assert_eq!(plan(Some(&state(2, true, 0, "s")), &item("a", 1), "s"), Plan::Compare);
        assert_eq!(plan(Some(&state(1, false, 0, "s")), &item("a", 1), "s"), Plan::Compare);
    }

    #[test]
    fn finishes() {
        let a = item("a", 1).doc;
        let mut b = a.clone();
        b.name = "b".into();
        assert!(matches!(finish(&state(1, true, 0, "s"), &a, &b), Finish::Updated(d) if d.len() == 1));
        assert_eq!(finish(&state(1, true, 0, "s"), &a, &a), Finish::ChecksumOnly);
        assert_eq!(finish(&state(1, false, 0, "s"), &a, &a), Finish::Reactivated(vec![]));
    }

    #[test]
    fn last_one_wins_in_first_seen_order() {
        let items = vec![item("a", 1), item("b", 1), item("a", 2)];
        let out = last_wins(&items);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].native_id, "a");
        assert_eq!(out[0].checksum, Checksum([2; 32]));
        assert_eq!(out[1].native_id, "b");
    }
}
