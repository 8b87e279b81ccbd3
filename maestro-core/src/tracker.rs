//! The [`Tracker`]: which resources a run saw in a scope, and what that means for the ones it
//! did not see.
//!
//! Seen-sets live with the run that builds them (one per run and scope), so two overlapping runs
//! of the same scope never share or wipe each other's set. The default [`SeenSet`] keeps a
//! 128-bit hash per key: a million resources cost about 16 MB.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::Kind;

/// Records what a run saw in one scope.
///
/// # Contract
/// - `mark_seen` MUST be called only after the resource was durably written (or found unchanged).
/// - `was_seen` MUST never answer `false` for a marked key (false positives are tolerable only at
///   a negligible rate: they keep a vanished resource active one run longer).
pub trait Tracker: Send + Sync {
    /// Record that (`kind`, `native_id`) was seen.
    fn mark_seen(&mut self, kind: &Kind, native_id: &str);
    /// Whether (`kind`, `native_id`) was seen.
    fn was_seen(&self, kind: &Kind, native_id: &str) -> bool;
    /// How many distinct keys were seen.
    fn seen_count(&self) -> u64;
}

/// The default tracker: a set of 128-bit key hashes.
#[derive(Debug, Default, Clone)]
pub struct SeenSet {
    keys: HashSet<u128>,
}

impl SeenSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(kind: &Kind, native_id: &str) -> u128 {
        let mut h = Sha256::new();
        h.update(kind.as_str().as_bytes());
        h.update([0u8]);
        h.update(native_id.as_bytes());
        let d = h.finalize();
        u128::from_le_bytes(d[..16].try_into().expect("sha256 has 32 bytes"))
    }
}

impl Tracker for SeenSet {
    fn mark_seen(&mut self, kind: &Kind, native_id: &str) {
        self.keys.insert(Self::hash(kind, native_id));
    }
    fn was_seen(&self, kind: &Kind, native_id: &str) -> bool {
        self.keys.contains(&Self::hash(kind, native_id))
    }
    fn seen_count(&self) -> u64 {
        self.keys.len() as u64
    }
}

/// How long a resource may be missing before it is deactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SweepPolicy {
    /// Deactivate after this many *complete* runs in a row did not see it (1 = at the first).
    pub deactivate_after_missed_runs: u32,
}

impl Default for SweepPolicy {
    fn default() -> Self {
        Self { deactivate_after_missed_runs: 1 }
    }
}

/// What the store knows about one resource of the scope being completed.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Kind.
    pub kind: Kind,
    /// Native id.
    pub native_id: String,
    /// Currently active?
    pub active: bool,
    /// Complete runs in a row that missed it.
    pub missed_runs: u32,
    /// Last write to the row.
    pub updated_at: DateTime<Utc>,
    /// Since when it is missing.
    pub missing_since: Option<DateTime<Utc>>,
}

/// What completing a scope does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepAction {
    /// Nothing to write.
    Keep,
    /// Not seen, but still within the grace: store the new missed-run count.
    Miss {
        /// The new count.
        missed_runs: u32,
    },
    /// Not seen for long enough: deactivate.
    Deactivate,
    /// Seen by this run but inactive (a concurrent older run deactivated it after we saw it):
    /// reactivate.
    Reactivate,
}

/// Decide what completing a scope does to `row`.
///
/// `run_started` protects overlapping runs: a row written after this run started was written by
/// another run and is left alone when this run did not see it.
///
/// ```
/// use maestro_core::tracker::*;
/// use maestro_core::Kind;
/// let t0 = chrono::Utc::now();
/// let row = SweepRow { kind: Kind::SERVER, native_id: "i-1".into(), active: true, missed_runs: 0,
///                      updated_at: t0 - chrono::Duration::hours(1), missing_since: None };
/// assert_eq!(sweep_action(&row, false, t0, SweepPolicy::default()), SweepAction::Deactivate);
/// assert_eq!(sweep_action(&row, true, t0, SweepPolicy::default()), SweepAction::Keep);
/// let grace = SweepPolicy { deactivate_after_missed_runs: 3 };
/// assert_eq!(sweep_action(&row, false, t0, grace), SweepAction::Miss { missed_runs: 1 });
/// ```
pub fn sweep_action(row: &SweepRow, seen: bool, run_started: DateTime<Utc>, policy: SweepPolicy) -> SweepAction {
    if seen {
        return if row.active { SweepAction::Keep } else { SweepAction::Reactivate };
    }
    if !row.active || row.updated_at >= run_started {
        return SweepAction::Keep;
    }
    let missed = row.missed_runs.saturating_add(1);
    if missed >= policy.deactivate_after_missed_runs.max(1) {
        SweepAction::Deactivate
    } else {
        SweepAction::Miss { missed_runs: missed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(active: bool, missed: u32, updated_at: DateTime<Utc>) -> SweepRow {
        SweepRow {
            kind: Kind::SERVER,
            native_id: "x".into(),
            active,
            missed_runs: missed,
            updated_at,
            missing_since: None,
        }
    }

    #[test]
    fn seen_set_marks_and_counts() {
        let mut s = SeenSet::new();
        s.mark_seen(&Kind::SERVER, "a");
        s.mark_seen(&Kind::SERVER, "a");
        s.mark_seen(&Kind::VOLUME, "a");
        assert!(s.was_seen(&Kind::SERVER, "a"));
        assert!(s.was_seen(&Kind::VOLUME, "a"));
        assert!(!s.was_seen(&Kind::SERVER, "b"));
        assert_eq!(s.seen_count(), 2);
    }

    #[test]
    fn rows_written_after_the_run_started_are_not_deactivated() {
        let t0 = Utc::now();
        let r = row(true, 0, t0 + chrono::Duration::seconds(1));
        assert_eq!(sweep_action(&r, false, t0, SweepPolicy::default()), SweepAction::Keep);
    }

    #[test]
    fn inactive_unseen_stays_and_inactive_seen_reactivates() {
        let t0 = Utc::now();
        let old = t0 - chrono::Duration::hours(1);
        assert_eq!(sweep_action(&row(false, 1, old), false, t0, SweepPolicy::default()), SweepAction::Keep);
        assert_eq!(sweep_action(&row(false, 1, old), true, t0, SweepPolicy::default()), SweepAction::Reactivate);
    }

    #[test]
    fn grace_counts_up_then_deactivates() {
        let t0 = Utc::now();
        let old = t0 - chrono::Duration::hours(1);
        let p = SweepPolicy { deactivate_after_missed_runs: 2 };
        assert_eq!(sweep_action(&row(true, 0, old), false, t0, p), SweepAction::Miss { missed_runs: 1 });
        assert_eq!(sweep_action(&row(true, 1, old), false, t0, p), SweepAction::Deactivate);
        // A zero grace behaves as one.
        let p0 = SweepPolicy { deactivate_after_missed_runs: 0 };
        assert_eq!(sweep_action(&row(true, 0, old), false, t0, p0), SweepAction::Deactivate);
    }
}
