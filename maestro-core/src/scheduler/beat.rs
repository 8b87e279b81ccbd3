//! The beat: the clock-driven tick loop that fires due slots.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::SchedulerError;
use super::queue::JobQueue;
use super::schedule::{CatchUp, Overlap, Schedule};
use super::store::{JobRecord, ScheduleStore};
use crate::clock::Clock;
use crate::repository::LeaseStore;

/// Beat settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatConfig {
    /// Time between ticks of [`Beat::run`].
    pub tick: Duration,
    /// How long the active beat's lease lasts without renewal. A standby takes over on its first
    /// tick after the lease expired, so failover takes at most `lease_ttl + tick`.
    pub lease_ttl: Duration,
    /// A slot fired later than this after its time counts as missed (its schedule's
    /// [`CatchUp`] policy decides).
    pub misfire_grace: Duration,
    /// The lease all cooperating beats compete for.
    pub lease_name: String,
}

impl Default for BeatConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(10),
            misfire_grace: Duration::from_secs(30),
            lease_name: "beat".into(),
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    /// Whether this beat held the lease (a standby does nothing else).
    pub active: bool,
    /// Slot keys this beat fired on time and enqueued.
    pub fired: Vec<String>,
    /// Slot keys fired late, as the one catch-up run of missed slots ([`CatchUp::RunOnce`]).
    pub caught_up: Vec<String>,
    /// Slot keys claimed but not enqueued because the previous job still runs ([`Overlap::Skip`]).
    pub skipped_overlap: Vec<String>,
    /// Schedules whose missed slots were skipped ([`CatchUp::Skip`]).
    pub skipped_missed: Vec<String>,
    /// Slots another beat had already claimed.
    pub lost_claims: usize,
    /// Schedules that could not be fired (`tenant/name`, error): a bad trigger or a store or
    /// queue failure. The other schedules of the tick are not affected; a failed schedule is
    /// due again on the next tick.
    pub errors: Vec<(String, String)>,
}

/// A scheduler beat. Run any number of them against one store: the lease makes one active, the
/// slot claims make every slot fire at most once even when two are active at the same time
/// (a paused beat waking up after its lease expired).
pub struct Beat<S: ?Sized> {
    id: String,
    store: Arc<S>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    config: BeatConfig,
}

impl<S: ?Sized> std::fmt::Debug for Beat<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beat").field("id", &self.id).field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S: ScheduleStore + LeaseStore + ?Sized> Beat<S> {
    /// A beat named `id` (unique among beats).
    pub fn new(id: &str, store: Arc<S>, queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>, config: BeatConfig) -> Self {
        Self { id: id.to_string(), store, queue, clock, config }
    }

    /// The beat's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// One tick: take or renew the lease; if active, fire every due slot once and move each due
    /// schedule to its next slot.
    ///
    /// # Errors
    /// Failing to take the lease or to list due schedules. Failures of one schedule (bad trigger,
    /// store or queue error) are reported in [`TickReport::errors`] and do not stop the others;
    /// a slot claimed but not enqueued because of such an error is not fired again.
    pub async fn tick(&self) -> Result<TickReport, SchedulerError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        let until = super::after(now, self.config.lease_ttl);
        if !self.store.try_lease(&self.config.lease_name, &self.id, now, until).await? {
            return Ok(report);
        }
        report.active = true;
        for s in self.store.due(now).await? {
            if let Err(e) = self.fire(&s, now, &mut report).await {
                tracing::error!(schedule = %s.name, tenant = %s.tenant, error = %e, "schedule not fired");
                report.errors.push((format!("{}/{}", s.tenant, s.name), e.to_string()));
            }
        }
        Ok(report)
    }

    /// Fire the due slot of one schedule (or skip it) and move the schedule on.
    async fn fire(&self, s: &Schedule, now: DateTime<Utc>, report: &mut TickReport) -> Result<(), SchedulerError> {
        let Some(first) = s.next_slot else {
            // First sight (or a changed trigger): start at the next slot.
            let next = s.trigger.next_slot_after(now)?;
            self.store.advance_schedule(&s.tenant, &s.name, None, next).await?;
            return Ok(());
        };
        let latest = s.trigger.latest_slot_at_or_before(now)?.max(first);
        let on_time = now < super::after(latest, self.config.misfire_grace);
        let fire = on_time || s.catch_up == CatchUp::RunOnce;
        if fire {
            let key = s.slot_key(latest);
            if !self.store.claim_slot(&s.tenant, &s.name, latest, &self.id, now).await? {
                report.lost_claims += 1;
            } else if s.overlap == Overlap::Skip && self.store.unfinished_jobs(&s.tenant, &s.name).await? > 0 {
                tracing::info!(slot = %key, "previous run still going; slot skipped");
                report.skipped_overlap.push(key);
            } else {
                self.queue.enqueue(JobRecord::for_slot(s, latest, now)).await?;
                if on_time { report.fired.push(key) } else { report.caught_up.push(key) }
            }
        } else {
            tracing::info!(schedule = %s.name, tenant = %s.tenant, from = %first, "missed slots skipped");
            report.skipped_missed.push(s.name.clone());
        }
        let next = s.trigger.next_slot_after(latest)?;
        self.store.advance_schedule(&s.tenant, &s.name, fire.then_some(latest), next).await?;
        Ok(())
    }

    /// Tick every `config.tick` until `shutdown` completes, then give the lease up so a standby
    /// takes over at once. Tick errors are logged and the loop goes on.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(beat = %self.id, error = %e, "beat tick failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.config.tick) => {}
            }
        }
        if let Err(e) = self.store.release_lease(&self.config.lease_name, &self.id).await {
            tracing::warn!(beat = %self.id, error = %e, "could not release the beat lease");
        }
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::scheduler::{QueueConfig, StoreQueue};
    use crate::testing::MemoryRepository;

    #[tokio::test(start_paused = true)]
    async fn run_releases_the_lease_on_shutdown() {
        let store = Arc::new(MemoryRepository::new());
        let clock = Arc::new(FakeClock::new("2026-01-01T00:00:00Z".parse().expect("time")));
        let queue = Arc::new(StoreQueue::new(store.clone(), clock.clone(), QueueConfig::default()));
        let beat = Beat::new("b1", store.clone(), queue, clock.clone(), BeatConfig::default());
        beat.tick().await.expect("tick");
        assert_eq!(store.lease_holder("beat", clock.now()).await.expect("holder").map(|h| h.0).as_deref(), Some("b1"));
        beat.run(async {}).await;
        assert_eq!(
            store.lease_holder("beat", clock.now()).await.expect("holder"),
            None,
            "a standby takes over at once"
        );
    }

    #[tokio::test]
    async fn a_bad_schedule_does_not_stop_the_others() {
        use crate::scheduler::{ScheduleStore, Trigger};
        let store = Arc::new(MemoryRepository::new());
        let clock = Arc::new(FakeClock::new("2026-01-01T00:00:00Z".parse().expect("time")));
        let queue = Arc::new(StoreQueue::new(store.clone(), clock.clone(), QueueConfig::default()));
        let beat = Beat::new("b1", store.clone(), queue, clock.clone(), BeatConfig::default());
        let json = serde_json::json!({});
        let good = Schedule::new("t", "good", "k", json.clone(), Trigger::Interval(Duration::from_secs(60)));
        let bad = Schedule::new("t", "bad", "k", json, Trigger::Cron("not a cron".into()));
        store.upsert_schedule(&good).await.expect("upsert");
        store.upsert_schedule(&bad).await.expect("upsert");
        let r = beat.tick().await.expect("tick");
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].0, "t/bad");
        assert!(r.errors[0].1.contains("bad cron expression `not a cron`"), "{:?}", r.errors);
        clock.advance(chrono::Duration::seconds(60));
        let r = beat.tick().await.expect("tick");
        assert_eq!(r.fired, ["t/good@2026-01-01T00:01:00.000000Z"]);
        assert_eq!(r.errors.len(), 1, "the bad one keeps being reported");
    }
}
