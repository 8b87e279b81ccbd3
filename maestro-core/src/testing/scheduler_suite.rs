//! The scheduler test suite every backend runs: the [`ScheduleStore`] contract and the fault
//! scenarios of issue 7 (two beats and three workers over 1,000 slots, beat failover, split
//! brain, a worker killed mid-job, a job that always fails, catch-up and overlap policies),
//! all on a [`FakeClock`].
//!
//! ```text
//! maestro_core::scheduler_suite!(my_store_factory());
//! ```
//! expands to one `#[tokio::test]` per case, each with a fresh store from the factory expression
//! (an `async` expression giving an `Arc<S>` where `S: ScheduleStore + LeaseStore + 'static`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::clock::{Clock, FakeClock};
use crate::layers::RetryPolicy;
use crate::repository::{LeaseStore, StoreResult};
use crate::scheduler::*;

/// Generate one `#[tokio::test]` per scheduler suite case, each with a fresh store from `$make`.
#[macro_export]
macro_rules! scheduler_suite {
    ($make:expr) => {
        $crate::scheduler_suite!(@cases $make;
            schedules_roundtrip_list_and_delete,
            upsert_keeps_progress_unless_trigger_changes,
            due_lists_enabled_schedules_whose_slot_passed,
            advance_only_moves_forward,
            claim_slot_has_exactly_one_winner,
            enqueue_is_idempotent_by_slot_key,
            claim_job_is_exclusive_and_redelivers_after_lease,
            stale_worker_cannot_finish,
            list_jobs_filters,
            two_beats_three_workers_thousand_slots,
            standby_takes_over_when_active_beat_dies,
            split_brain_beats_never_double_fire,
            worker_killed_mid_job_is_redelivered_and_completes_once,
            always_failing_job_is_retried_then_dead,
            catch_up_run_once_vs_skip,
            overlap_skip_vs_queue,
            completed_slot_never_runs_again,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $make.await;
                $crate::testing::scheduler_suite::$case(store).await;
            }
        )*
    };
}

/// What a suite store must be.
pub trait SuiteStore: ScheduleStore + LeaseStore + 'static {}
impl<T: ScheduleStore + LeaseStore + 'static> SuiteStore for T {}

const T: &str = "tenant-a";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid time")
}

fn start() -> DateTime<Utc> {
    at("2026-01-01T00:00:30Z")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn every(name: &str, seconds: u64) -> Schedule {
    Schedule::new(T, name, "record", json!({"n": name}), Trigger::Interval(Duration::from_secs(seconds)))
}

fn fast_queue() -> QueueConfig {
    QueueConfig {
        visibility_timeout: Duration::from_secs(120),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(60),
            jitter: 0.0,
        },
    }
}

fn beat_config() -> BeatConfig {
    BeatConfig {
        tick: Duration::from_secs(1),
        lease_ttl: Duration::from_secs(10),
        misfire_grace: Duration::from_secs(10),
        lease_name: "beat".into(),
    }
}

struct Rig<S: SuiteStore> {
    store: Arc<S>,
    clock: Arc<FakeClock>,
    queue: Arc<StoreQueue<S>>,
    /// Job ids in the order their handler completed.
    done: Arc<Mutex<Vec<String>>>,
}

impl<S: SuiteStore> Rig<S> {
    fn new(store: Arc<S>) -> Self {
        let clock = Arc::new(FakeClock::new(start()));
        let queue = Arc::new(StoreQueue::new(store.clone(), clock.clone() as Arc<dyn Clock>, fast_queue()));
        Self { store, clock, queue, done: Arc::default() }
    }

    fn beat(&self, id: &str, config: BeatConfig) -> Beat<S> {
        Beat::new(id, self.store.clone(), self.queue.clone(), self.clock.clone(), config)
    }

    fn recording_registry(&self) -> Arc<JobRegistry> {
        let done = self.done.clone();
        Arc::new(JobRegistry::new().with("record", move |ctx: JobContext| {
            let done = done.clone();
            async move {
                done.lock().expect("poisoned").push(ctx.job.id);
                Ok(())
            }
        }))
    }

    fn worker(&self, id: &str, registry: Arc<JobRegistry>) -> Worker {
        Worker::new(id, self.queue.clone(), registry, WorkerConfig::default())
    }

    fn done(&self) -> Vec<String> {
        self.done.lock().expect("poisoned").clone()
    }
}

/// Run the workers (concurrently, round after round) until none finds a job.
async fn drain(workers: &[Worker]) -> usize {
    let mut ran = 0;
    loop {
        let results = futures::future::join_all(workers.iter().map(|w| w.run_once())).await;
        let n = results.into_iter().map(|r| r.expect("worker")).filter(Option::is_some).count();
        if n == 0 {
            return ran;
        }
        ran += n;
    }
}

fn assert_each_once(keys: &[String]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for k in keys {
        *seen.entry(k).or_default() += 1;
    }
    let dup: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "fired more than once: {dup:?}");
}

/// Schedules round-trip, list in (tenant, name) order, and delete.
pub async fn schedules_roundtrip_list_and_delete<S: SuiteStore>(s: Arc<S>) {
    let mut a = every("b-nightly", 60);
    a.trigger = Trigger::Cron("0 3 * * *".into());
    a.catch_up = CatchUp::Skip;
    a.overlap = Overlap::Queue;
    a.enabled = false;
    s.upsert_schedule(&a).await.expect("upsert");
    s.upsert_schedule(&every("a-often", 300)).await.expect("upsert");
    let mut other = every("z", 60);
    other.tenant = "tenant-b".into();
    s.upsert_schedule(&other).await.expect("upsert");

    assert_eq!(s.get_schedule(T, "b-nightly").await.expect("get"), Some(a.clone()));
    assert_eq!(s.get_schedule(T, "missing").await.expect("get"), None);
    let names: Vec<_> = s.list_schedules(Some(T)).await.expect("list").into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["a-often", "b-nightly"]);
    assert_eq!(s.list_schedules(None).await.expect("list").len(), 3);
    assert!(s.delete_schedule(T, "a-often").await.expect("delete"));
    assert!(!s.delete_schedule(T, "a-often").await.expect("delete"));
    assert_eq!(s.list_schedules(Some(T)).await.expect("list").len(), 1);
}

/// Re-upserting (config reload) keeps `last/next_slot`; a changed trigger resets `next_slot`.
pub async fn upsert_keeps_progress_unless_trigger_changes<S: SuiteStore>(s: Arc<S>) {
    let mut sch = every("x", 60);
    sch.next_slot = Some(at("2030-01-01T00:00:00Z")); // ignored on upsert
    s.upsert_schedule(&sch).await.expect("upsert");
    assert_eq!(s.get_schedule(T, "x").await.expect("get").expect("x").next_slot, None);
    s.advance_schedule(T, "x", Some(at("2026-01-01T00:01:00Z")), at("2026-01-01T00:02:00Z")).await.expect("advance");

    sch.job.args = json!({"changed": true});
    s.upsert_schedule(&sch).await.expect("upsert");
    let got = s.get_schedule(T, "x").await.expect("get").expect("x");
    assert_eq!(got.job.args, json!({"changed": true}));
    assert_eq!(got.last_slot, Some(at("2026-01-01T00:01:00Z")));
    assert_eq!(got.next_slot, Some(at("2026-01-01T00:02:00Z")));

    sch.trigger = Trigger::Interval(Duration::from_secs(120));
    s.upsert_schedule(&sch).await.expect("upsert");
    let got = s.get_schedule(T, "x").await.expect("get").expect("x");
    assert_eq!(got.next_slot, None, "a new trigger starts afresh");
    assert_eq!(got.last_slot, Some(at("2026-01-01T00:01:00Z")));
}

/// `due` returns enabled schedules with no next slot yet or a next slot at or before now.
pub async fn due_lists_enabled_schedules_whose_slot_passed<S: SuiteStore>(s: Arc<S>) {
    for name in ["new", "past", "now", "future", "off"] {
        let mut sch = every(name, 60);
        sch.enabled = name != "off";
        s.upsert_schedule(&sch).await.expect("upsert");
    }
    let now = at("2026-01-01T00:05:00Z");
    s.advance_schedule(T, "past", None, at("2026-01-01T00:04:00Z")).await.expect("advance");
    s.advance_schedule(T, "now", None, now).await.expect("advance");
    s.advance_schedule(T, "future", None, at("2026-01-01T00:06:00Z")).await.expect("advance");
    s.advance_schedule(T, "off", None, at("2026-01-01T00:04:00Z")).await.expect("advance");
    let mut names: Vec<_> = s.due(now).await.expect("due").into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, ["new", "now", "past"]);
}

/// `advance_schedule` never moves `next_slot` backwards.
pub async fn advance_only_moves_forward<S: SuiteStore>(s: Arc<S>) {
    s.upsert_schedule(&every("x", 60)).await.expect("upsert");
    s.advance_schedule(T, "x", Some(at("2026-01-01T00:02:00Z")), at("2026-01-01T00:03:00Z")).await.expect("advance");
    s.advance_schedule(T, "x", Some(at("2026-01-01T00:01:00Z")), at("2026-01-01T00:02:00Z")).await.expect("advance");
    let got = s.get_schedule(T, "x").await.expect("get").expect("x");
    assert_eq!(got.next_slot, Some(at("2026-01-01T00:03:00Z")));
    assert_eq!(got.last_slot, Some(at("2026-01-01T00:02:00Z")));
}

/// Eight concurrent claims of one slot: exactly one wins; other slots are independent.
pub async fn claim_slot_has_exactly_one_winner<S: SuiteStore>(s: Arc<S>) {
    let slot = at("2026-01-01T00:01:00Z");
    let claims = futures::future::join_all((0..8).map(|i| {
        let s = s.clone();
        async move { s.claim_slot(T, "x", slot, &format!("beat-{i}"), slot).await.expect("claim") }
    }))
    .await;
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
    assert!(s.claim_slot(T, "x", at("2026-01-01T00:02:00Z"), "beat-0", slot).await.expect("claim"));
    assert!(s.claim_slot(T, "y", slot, "beat-0", slot).await.expect("claim"));
    assert!(s.claim_slot("tenant-b", "x", slot, "beat-0", slot).await.expect("claim"));
}

/// A slot's job is inserted once; the record round-trips.
pub async fn enqueue_is_idempotent_by_slot_key<S: SuiteStore>(s: Arc<S>) {
    let sch = every("x", 60);
    let slot = at("2026-01-01T00:01:00Z");
    let job = JobRecord::for_slot(&sch, slot, slot);
    assert_eq!(job.id, "tenant-a/x@2026-01-01T00:01:00.000000Z");
    assert!(s.enqueue_job(&job).await.expect("enqueue"));
    assert!(!s.enqueue_job(&JobRecord::for_slot(&sch, slot, slot + secs(5))).await.expect("enqueue"));
    assert_eq!(s.get_job(&job.id).await.expect("get"), Some(job));
    assert_eq!(s.get_job("nope").await.expect("get"), None);
}

/// One worker gets a job at a time; after the lease expires the job is redelivered.
pub async fn claim_job_is_exclusive_and_redelivers_after_lease<S: SuiteStore>(s: Arc<S>) {
    let now = start();
    for i in 0..3 {
        s.enqueue_job(&JobRecord::new(format!("j{i}"), T, "record", json!(i), now + secs(i))).await.expect("enqueue");
    }
    let later = now + secs(10);
    let taken = futures::future::join_all((0..5).map(|w| {
        let s = s.clone();
        async move { s.claim_job(&format!("w{w}"), later, later + secs(60)).await.expect("claim") }
    }))
    .await;
    let mut ids: Vec<_> = taken.iter().flatten().map(|j| j.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["j0", "j1", "j2"], "each job to one worker");
    for j in taken.iter().flatten() {
        assert_eq!((j.state, j.attempts, j.lease_until), (JobState::Running, 1, Some(later + secs(60))));
    }
    assert!(s.claim_job("w9", later + secs(59), later + secs(100)).await.expect("claim").is_none());
    let again = s.claim_job("w9", later + secs(60), later + secs(120)).await.expect("claim").expect("redelivered");
    assert_eq!((again.attempts, again.worker.as_deref()), (2, Some("w9")));
    assert_eq!(again.id, "j0", "oldest first");
}

/// A worker that lost its job to a redelivery cannot finish it.
pub async fn stale_worker_cannot_finish<S: SuiteStore>(s: Arc<S>) {
    let now = start();
    s.enqueue_job(&JobRecord::new("j", T, "record", json!({}), now)).await.expect("enqueue");
    s.claim_job("old", now, now + secs(10)).await.expect("claim").expect("job");
    s.claim_job("new", now + secs(10), now + secs(20)).await.expect("claim").expect("redelivered");
    assert!(!s.finish_job("j", "old", &JobFinish::Succeeded, now + secs(11)).await.expect("finish"));
    assert_eq!(s.get_job("j").await.expect("get").expect("j").state, JobState::Running);
    let f = JobFinish::Retry { at: now + secs(30), error: "boom".into() };
    assert!(s.finish_job("j", "new", &f, now + secs(12)).await.expect("finish"));
    let j = s.get_job("j").await.expect("get").expect("j");
    assert_eq!((j.state, j.available_at, j.last_error.as_deref()), (JobState::Failed, now + secs(30), Some("boom")));
    assert!(!s.finish_job("j", "new", &JobFinish::Succeeded, now + secs(13)).await.expect("finish"), "not running");
}

/// `list_jobs` filters by tenant, schedule and state, oldest first, with a limit.
pub async fn list_jobs_filters<S: SuiteStore>(s: Arc<S>) {
    let now = start();
    let a = every("a", 60);
    let b = every("b", 60);
    for i in 0..3 {
        s.enqueue_job(&JobRecord::for_slot(&a, now + secs(60 * i), now)).await.expect("enqueue");
        s.enqueue_job(&JobRecord::for_slot(&b, now + secs(60 * i), now)).await.expect("enqueue");
    }
    s.enqueue_job(&JobRecord::new("other", "tenant-b", "record", json!({}), now)).await.expect("enqueue");
    let all = s.list_jobs(&JobFilter::default()).await.expect("list");
    assert_eq!(all.len(), 7);
    let of_a = s.list_jobs(&JobFilter { schedule: Some("a".into()), ..JobFilter::default() }).await.expect("list");
    assert_eq!(of_a.len(), 3);
    assert!(of_a.windows(2).all(|w| w[0].slot < w[1].slot));
    let lim = s.list_jobs(&JobFilter { tenant: Some(T.into()), limit: Some(2), ..JobFilter::default() }).await;
    assert_eq!(lim.expect("list").len(), 2);
    let j = s.claim_job("w", now, now + secs(60)).await.expect("claim").expect("job");
    s.finish_job(&j.id, "w", &JobFinish::Dead { error: "x".into() }, now).await.expect("finish");
    let dead = s.list_jobs(&JobFilter { state: Some(JobState::Dead), ..JobFilter::default() }).await.expect("list");
    assert_eq!(dead.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [j.id.as_str()]);
    assert_eq!(s.unfinished_jobs(T, "a").await.expect("count") + s.unfinished_jobs(T, "b").await.expect("count"), 5);
}

/// Two beats and three workers over 1,000 simulated slots: every slot runs exactly once.
pub async fn two_beats_three_workers_thousand_slots<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    rig.clock.set(at("2026-01-01T00:00:00Z"));
    s.upsert_schedule(&every("often", 60)).await.expect("upsert");
    let beats = [rig.beat("beat-a", beat_config()), rig.beat("beat-b", beat_config())];
    let registry = rig.recording_registry();
    let workers: Vec<_> = ["w1", "w2", "w3"].iter().map(|w| rig.worker(w, registry.clone())).collect();
    for b in &beats {
        b.tick().await.expect("tick");
    }
    let mut fired = Vec::new();
    let mut actives: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..1000 {
        rig.clock.advance(secs(60));
        let (a, b) = futures::join!(beats[0].tick(), beats[1].tick());
        for (beat, r) in beats.iter().zip([a, b]) {
            let r = r.expect("tick");
            assert!(r.caught_up.is_empty() && r.skipped_overlap.is_empty() && r.skipped_missed.is_empty(), "{r:?}");
            if r.active {
                *actives.entry(beat.id().to_string()).or_default() += 1;
            }
            fired.extend(r.fired);
        }
        drain(&workers).await;
    }
    let expected: Vec<String> =
        (1..=1000).map(|i| slot_key(T, "often", at("2026-01-01T00:00:00Z") + secs(60 * i))).collect();
    assert_each_once(&fired);
    let mut done = rig.done();
    assert_each_once(&done);
    done.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(done.len(), 1000, "0 missed");
    assert_eq!(done, want);
    assert_eq!(actives.values().sum::<usize>(), 1000, "exactly one active beat per tick: {actives:?}");
    let jobs = s.list_jobs(&JobFilter { schedule: Some("often".into()), ..JobFilter::default() }).await.expect("list");
    assert_eq!(jobs.len(), 1000);
    assert!(jobs.iter().all(|j| j.state == JobState::Succeeded && j.attempts == 1));
    let sch = s.get_schedule(T, "often").await.expect("get").expect("often");
    assert_eq!(sch.last_slot, Some(at("2026-01-01T00:00:00Z") + secs(60_000)));
}

/// The active beat stops ticking: the standby takes over within `lease_ttl + tick`, fires the
/// next slot, and nothing fires twice or is missed.
pub async fn standby_takes_over_when_active_beat_dies<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    let mut minutely = every("minutely", 60);
    minutely.overlap = Overlap::Queue; // no workers run here
    s.upsert_schedule(&minutely).await.expect("upsert");
    let a = rig.beat("beat-a", beat_config());
    let b = rig.beat("beat-b", beat_config());
    let mut fired_by: Vec<(String, String)> = Vec::new();
    let mut a_alive = true;
    let mut a_last_active = None;
    let mut b_first_active = None;
    for second in 0..600 {
        if second == 200 {
            a_alive = false; // killed: never ticks again
        }
        if a_alive {
            let r = a.tick().await.expect("tick");
            if r.active {
                a_last_active = Some(rig.clock.now());
            }
            fired_by.extend(r.fired.into_iter().map(|k| ("beat-a".to_string(), k)));
        }
        let r = b.tick().await.expect("tick");
        if r.active && b_first_active.is_none() {
            b_first_active = Some(rig.clock.now());
        }
        fired_by.extend(r.fired.into_iter().map(|k| ("beat-b".to_string(), k)));
        rig.clock.advance(secs(1));
    }
    let (a_last, b_first) = (a_last_active.expect("a was active"), b_first_active.expect("b took over"));
    assert!(b_first > a_last && b_first - a_last <= secs(11), "takeover after {:?}", b_first - a_last);
    let keys: Vec<String> = fired_by.iter().map(|(_, k)| k.clone()).collect();
    assert_each_once(&keys);
    // Slots 00:01 … 00:10 all fired (600 s from 00:00:30): 3 by A before it died, the rest by B.
    assert_eq!(keys.len(), 10, "{fired_by:?}");
    let by_a = fired_by.iter().filter(|(b, _)| b == "beat-a").count();
    assert_eq!(by_a, 3, "{fired_by:?}");
    let first_after_death = fired_by.iter().find(|(b, _)| b == "beat-b").expect("b fired");
    assert_eq!(first_after_death.1, slot_key(T, "minutely", at("2026-01-01T00:04:00Z")));
    let jobs = s.list_jobs(&JobFilter::default()).await.expect("list");
    assert_eq!(jobs.len(), 10);
}

/// A view of a store whose `due` is stale: it reports the slot another beat just fired as still
/// due, as a beat that missed the other beat's progress would see it.
struct Stale<S>(Arc<S>);

#[async_trait::async_trait]
impl<S: SuiteStore> ScheduleStore for Stale<S> {
    async fn upsert_schedule(&self, schedule: &Schedule) -> StoreResult<()> {
        self.0.upsert_schedule(schedule).await
    }
    async fn get_schedule(&self, tenant: &str, name: &str) -> StoreResult<Option<Schedule>> {
        self.0.get_schedule(tenant, name).await
    }
    async fn list_schedules(&self, tenant: Option<&str>) -> StoreResult<Vec<Schedule>> {
        self.0.list_schedules(tenant).await
    }
    async fn delete_schedule(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        self.0.delete_schedule(tenant, name).await
    }
    async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<Schedule>> {
        let mut all = self.0.list_schedules(None).await?;
        all.retain(|s| s.enabled && s.next_slot.is_some());
        for s in &mut all {
            let latest = s.trigger.latest_slot_at_or_before(now).expect("valid trigger");
            // Due for real, or the slot the other beat just fired: try it (again).
            if s.next_slot.is_some_and(|n| n <= now) || s.last_slot == Some(latest) {
                s.next_slot = Some(latest);
            } else {
                s.enabled = false;
            }
        }
        all.retain(|s| s.enabled);
        Ok(all)
    }
    async fn advance_schedule(
        &self,
        tenant: &str,
        name: &str,
        last_slot: Option<DateTime<Utc>>,
        next_slot: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.0.advance_schedule(tenant, name, last_slot, next_slot).await
    }
    async fn claim_slot(
        &self,
        tenant: &str,
        name: &str,
        slot: DateTime<Utc>,
        beat: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.0.claim_slot(tenant, name, slot, beat, now).await
    }
    async fn enqueue_job(&self, job: &JobRecord) -> StoreResult<bool> {
        self.0.enqueue_job(job).await
    }
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<JobRecord>> {
        self.0.claim_job(worker, now, lease_until).await
    }
    async fn finish_job(&self, id: &str, worker: &str, finish: &JobFinish, now: DateTime<Utc>) -> StoreResult<bool> {
        self.0.finish_job(id, worker, finish, now).await
    }
    async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
        self.0.get_job(id).await
    }
    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        self.0.list_jobs(filter).await
    }
    async fn unfinished_jobs(&self, tenant: &str, name: &str) -> StoreResult<u64> {
        self.0.unfinished_jobs(tenant, name).await
    }
}

#[async_trait::async_trait]
impl<S: SuiteStore> LeaseStore for Stale<S> {
    async fn try_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        self.0.try_lease(name, owner, now, until).await
    }
    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        self.0.release_lease(name, owner).await
    }
    async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        self.0.lease_holder(name, now).await
    }
}

/// Two beats that both believe they are active (different lease names, i.e. split brain), one
/// of them with a stale view that makes it try every slot again: the slot claims still let each
/// slot fire once.
pub async fn split_brain_beats_never_double_fire<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    rig.clock.set(at("2026-01-01T00:00:00Z"));
    for (name, secs) in [("x", 60), ("y", 120)] {
        let mut sch = every(name, secs);
        sch.overlap = Overlap::Queue; // no workers run here
        s.upsert_schedule(&sch).await.expect("upsert");
    }
    let a = rig.beat("beat-a", BeatConfig { lease_name: "beat-1".into(), ..beat_config() });
    let b = Beat::new(
        "beat-b",
        Arc::new(Stale(s.clone())),
        rig.queue.clone(),
        rig.clock.clone(),
        BeatConfig { lease_name: "beat-2".into(), ..beat_config() },
    );
    let mut fired = Vec::new();
    let mut lost = 0;
    a.tick().await.expect("first sight");
    for _ in 0..199 {
        rig.clock.advance(secs(60));
        let (ra, rb) = futures::join!(a.tick(), b.tick());
        for r in [ra.expect("tick"), rb.expect("tick")] {
            assert!(r.active);
            lost += r.lost_claims;
            fired.extend(r.fired);
        }
    }
    assert_each_once(&fired);
    // 199 minutes of slots for x, every other one for y.
    assert_eq!(fired.len(), 199 + 99, "0 missed");
    assert_eq!(s.list_jobs(&JobFilter::default()).await.expect("list").len(), fired.len());
    assert!(lost >= fired.len(), "every slot was claimed by both beats and won by one: {lost}");
}

/// A worker dies in the middle of a job: after the visibility timeout the job is redelivered to
/// another worker and completes exactly once; the dead worker's late ack changes nothing.
pub async fn worker_killed_mid_job_is_redelivered_and_completes_once<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<JobRecord>();
    let done = rig.done.clone();
    let registry = Arc::new(JobRegistry::new().with("record", move |ctx: JobContext| {
        let started = started_tx.clone();
        let done = done.clone();
        async move {
            if ctx.job.attempts == 1 {
                let _ = started.send(ctx.job.clone());
                std::future::pending::<()>().await;
            }
            done.lock().expect("poisoned").push(ctx.job.id);
            Ok(())
        }
    }));
    let job = JobRecord::for_slot(&every("x", 60), at("2026-01-01T00:01:00Z"), start());
    rig.queue.enqueue(job.clone()).await.expect("enqueue");

    let doomed = Arc::new(rig.worker("doomed", registry.clone()));
    let handle = tokio::spawn({
        let doomed = doomed.clone();
        async move { doomed.run_once().await }
    });
    let delivered = started_rx.recv().await.expect("first delivery started");
    handle.abort(); // the worker process dies mid-job
    assert!(handle.await.expect_err("aborted").is_cancelled());
    assert_eq!(s.get_job(&job.id).await.expect("get").expect("job").state, JobState::Running);

    let survivor = rig.worker("survivor", registry);
    assert_eq!(survivor.run_once().await.expect("run"), None, "invisible while leased");
    rig.clock.advance(secs(121));
    let out = survivor.run_once().await.expect("run").expect("redelivered");
    assert_eq!((out.attempt, out.state), (2, JobState::Succeeded));
    assert_eq!(rig.done(), std::slice::from_ref(&job.id), "completed once");
    assert!(!rig.queue.ack(&delivered, "doomed").await.expect("ack"), "a stale ack changes nothing");
    assert_eq!(survivor.run_once().await.expect("run"), None);
    let stored = s.get_job(&job.id).await.expect("get").expect("job");
    assert_eq!((stored.state, stored.attempts), (JobState::Succeeded, 2));
}

/// A job that always fails is retried with backoff up to `max_attempts`, then dead and listed;
/// a permanent error is dead at once.
pub async fn always_failing_job_is_retried_then_dead<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    let registry = Arc::new(
        JobRegistry::new()
            .with("flaky", |_c: JobContext| async { Err(JobError::transient("upstream 503")) })
            .with("broken", |_c: JobContext| async { Err(JobError::permanent("bad credentials")) }),
    );
    let w = rig.worker("w", registry);
    rig.queue.enqueue(JobRecord::new("flaky-1", T, "flaky", json!({}), start())).await.expect("enqueue");
    let o = w.run_once().await.expect("run").expect("job");
    assert_eq!((o.attempt, o.state, o.error.as_deref()), (1, JobState::Failed, Some("upstream 503")));
    assert_eq!(w.run_once().await.expect("run"), None, "backing off");
    rig.clock.advance(secs(10));
    let o = w.run_once().await.expect("run").expect("job");
    assert_eq!((o.attempt, o.state), (2, JobState::Failed));
    rig.clock.advance(secs(19));
    assert_eq!(w.run_once().await.expect("run"), None, "backoff doubled");
    rig.clock.advance(secs(1));
    let o = w.run_once().await.expect("run").expect("job");
    assert_eq!((o.attempt, o.state), (3, JobState::Dead));
    rig.clock.advance(secs(3600));
    assert_eq!(w.run_once().await.expect("run"), None, "dead jobs never run");

    rig.queue.enqueue(JobRecord::new("broken-1", T, "broken", json!({}), rig.clock.now())).await.expect("enqueue");
    rig.queue.enqueue(JobRecord::new("unknown-1", T, "nope", json!({}), rig.clock.now())).await.expect("enqueue");
    assert_eq!(w.run_once().await.expect("run").expect("job").state, JobState::Dead);
    assert_eq!(w.run_once().await.expect("run").expect("job").state, JobState::Dead);

    let dead = s.list_jobs(&JobFilter { state: Some(JobState::Dead), ..JobFilter::default() }).await.expect("list");
    let summary: Vec<_> =
        dead.iter().map(|j| (j.id.as_str(), j.attempts, j.last_error.clone().unwrap_or_default())).collect();
    assert_eq!(summary[0], ("flaky-1", 3, "upstream 503".to_string()));
    assert_eq!(summary[1], ("broken-1", 1, "bad credentials".to_string()));
    assert_eq!((summary[2].0, summary[2].1), ("unknown-1", 1));
    assert!(summary[2].2.contains("no job kind named `nope`"), "{summary:?}");
    assert!(dead.iter().all(|j| j.finished_at.is_some()));
}

/// After downtime, a `RunOnce` schedule fires its latest missed slot once; a `Skip` schedule
/// fires nothing until its next slot. Both then continue on time.
pub async fn catch_up_run_once_vs_skip<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    let mut once = every("once", 60);
    once.overlap = Overlap::Queue; // no workers run here
    let mut skip = every("skip", 60);
    skip.catch_up = CatchUp::Skip;
    skip.overlap = Overlap::Queue;
    s.upsert_schedule(&once).await.expect("upsert");
    s.upsert_schedule(&skip).await.expect("upsert");
    let beat = rig.beat("beat", beat_config());
    beat.tick().await.expect("tick"); // 00:00:30, first sight
    rig.clock.advance(secs(30)); // 00:01:00
    assert_eq!(beat.tick().await.expect("tick").fired.len(), 2);

    rig.clock.advance(secs(10 * 60 + 20)); // down until 00:11:20: slots 00:02 … 00:11 missed
    let r = beat.tick().await.expect("tick");
    assert_eq!(r.caught_up, [slot_key(T, "once", at("2026-01-01T00:11:00Z"))]);
    assert_eq!(r.skipped_missed, ["skip"]);
    assert!(r.fired.is_empty());
    assert!(beat.tick().await.expect("tick").caught_up.is_empty(), "caught up once");

    rig.clock.set(at("2026-01-01T00:12:00Z"));
    let mut fired = beat.tick().await.expect("tick").fired;
    fired.sort();
    assert_eq!(
        fired,
        [slot_key(T, "once", at("2026-01-01T00:12:00Z")), slot_key(T, "skip", at("2026-01-01T00:12:00Z"))]
    );
    let count = |name: &str| {
        let s = s.clone();
        let f = JobFilter { schedule: Some(name.into()), ..JobFilter::default() };
        async move { s.list_jobs(&f).await.expect("list").len() }
    };
    assert_eq!(count("once").await, 3);
    assert_eq!(count("skip").await, 2);
    let sk = s.get_schedule(T, "skip").await.expect("get").expect("skip");
    assert_eq!((sk.last_slot, sk.next_slot), (Some(at("2026-01-01T00:12:00Z")), Some(at("2026-01-01T00:13:00Z"))));

    // A slot only a little late (within the grace) is not "missed": both policies fire it.
    rig.clock.set(at("2026-01-01T00:13:05Z"));
    assert_eq!(beat.tick().await.expect("tick").fired.len(), 2);
}

/// `Overlap::Skip` does not enqueue while the previous job is unfinished; `Overlap::Queue` does.
pub async fn overlap_skip_vs_queue<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    rig.clock.set(at("2026-01-01T00:00:00Z"));
    let mut queue = every("queue", 60);
    queue.overlap = Overlap::Queue;
    s.upsert_schedule(&every("skip", 60)).await.expect("upsert");
    s.upsert_schedule(&queue).await.expect("upsert");
    let beat = rig.beat("beat", beat_config());
    beat.tick().await.expect("tick");
    for _ in 0..3 {
        rig.clock.advance(secs(60));
        beat.tick().await.expect("tick");
    }
    assert_eq!(s.unfinished_jobs(T, "skip").await.expect("count"), 1);
    assert_eq!(s.unfinished_jobs(T, "queue").await.expect("count"), 3);
    let w = rig.worker("w", rig.recording_registry());
    assert_eq!(drain(std::slice::from_ref(&w)).await, 4);
    rig.clock.advance(secs(60));
    let r = beat.tick().await.expect("tick");
    assert_eq!(r.fired.len(), 2, "skip fires again once the previous run finished: {r:?}");
}

/// Idempotency: a slot whose job succeeded is never run again, even if a beat enqueues it again.
pub async fn completed_slot_never_runs_again<S: SuiteStore>(s: Arc<S>) {
    let rig = Rig::new(s.clone());
    let sch = every("x", 60);
    let slot = at("2026-01-01T00:01:00Z");
    let w = rig.worker("w", rig.recording_registry());
    assert!(rig.queue.enqueue(JobRecord::for_slot(&sch, slot, start())).await.expect("enqueue"));
    assert_eq!(w.run_once().await.expect("run").expect("job").state, JobState::Succeeded);
    assert!(!rig.queue.enqueue(JobRecord::for_slot(&sch, slot, start() + secs(5))).await.expect("enqueue"));
    rig.clock.advance(secs(3600));
    assert_eq!(w.run_once().await.expect("run"), None);
    assert_eq!(rig.done().len(), 1);
    let j = s.get_job(&sch.slot_key(slot)).await.expect("get").expect("job");
    assert_eq!((j.state, j.attempts), (JobState::Succeeded, 1));
    assert_eq!(j.run_id, JobRecord::for_slot(&sch, slot, start()).run_id, "run id is stable per slot");
}
