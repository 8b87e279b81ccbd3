//! Schedules as data: what to run, when, and what to do about missed or overlapping slots.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SchedulerError;

/// The job a schedule enqueues: a registered job kind and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The job kind, a key of the worker's [`JobRegistry`](super::JobRegistry) (e.g. `crawl`).
    pub kind: String,
    /// Arguments handed to the handler as they are.
    #[serde(default)]
    pub args: Value,
}

/// When a schedule fires. Slots are a pure function of the trigger, so every beat computes the
/// same slot times (and so the same slot keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Every `n` (whole seconds, at least one), aligned to the Unix epoch in UTC: an interval of
    /// 5 minutes fires at :00, :05, :10, …
    Interval(#[serde(with = "secs")] Duration),
    /// A cron expression in UTC (5 fields, or 6 with seconds first), parsed by `croner`.
    Cron(String),
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

impl Trigger {
    /// Check the trigger: a non-zero whole-second interval, or a cron expression that parses.
    ///
    /// # Errors
    /// [`SchedulerError::InvalidTrigger`] naming the problem.
    pub fn validate(&self) -> Result<(), SchedulerError> {
        match self {
            Trigger::Interval(_) => self.interval_micros().map(|_| ()),
            Trigger::Cron(_) => self.cron().map(|_| ()),
        }
    }

    fn interval_micros(&self) -> Result<i64, SchedulerError> {
        match self {
            Trigger::Interval(d) if d.as_secs() >= 1 && d.subsec_nanos() == 0 => i64::try_from(d.as_micros())
                .map_err(|_| SchedulerError::InvalidTrigger(format!("interval {d:?} is too long"))),
            Trigger::Interval(d) => {
                Err(SchedulerError::InvalidTrigger(format!("interval must be whole seconds, at least 1s; got {d:?}")))
            }
            Trigger::Cron(_) => Err(SchedulerError::InvalidTrigger("not an interval".into())),
        }
    }

    fn cron(&self) -> Result<croner::Cron, SchedulerError> {
        match self {
            Trigger::Cron(expr) => expr
                .parse::<croner::Cron>()
                .map_err(|e| SchedulerError::InvalidTrigger(format!("bad cron expression `{expr}`: {e}"))),
            Trigger::Interval(_) => Err(SchedulerError::InvalidTrigger("not a cron expression".into())),
        }
    }

    /// The first slot strictly after `t`.
    ///
    /// # Errors
    /// An invalid trigger, or a cron expression that never matches again.
    pub fn next_slot_after(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, SchedulerError> {
        match self {
            Trigger::Interval(_) => {
                let step = self.interval_micros()?;
                let us = t.timestamp_micros();
                Ok(from_micros(us.div_euclid(step) * step + step))
            }
            Trigger::Cron(_) => self
                .cron()?
                .find_next_occurrence(&t, false)
                .map_err(|e| SchedulerError::InvalidTrigger(format!("no slot after {t}: {e}"))),
        }
    }

    /// The last slot at or before `t`.
    ///
    /// # Errors
    /// An invalid trigger, or a cron expression that never matched before `t`.
    pub fn latest_slot_at_or_before(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, SchedulerError> {
        match self {
            Trigger::Interval(_) => {
                let step = self.interval_micros()?;
                Ok(from_micros(t.timestamp_micros().div_euclid(step) * step))
            }
            Trigger::Cron(_) => self
                .cron()?
                .find_previous_occurrence(&t, true)
                .map_err(|e| SchedulerError::InvalidTrigger(format!("no slot before {t}: {e}"))),
        }
    }
}

fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

/// What the beat does with slots missed while no beat was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Fire the latest missed slot once, however many were missed (the default).
    #[default]
    RunOnce,
    /// Fire nothing for missed slots; wait for the next one.
    Skip,
}

/// What the beat does when a slot comes while the schedule's previous job is unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Do not enqueue; the slot counts as fired (the default: a crawl should not pile up).
    #[default]
    Skip,
    /// Enqueue anyway.
    Queue,
}

fn yes() -> bool {
    true
}

/// A schedule: a job fired on a trigger for a tenant. Identity is `(tenant, name)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Unique per tenant, e.g. `aws-main:server-list`.
    pub name: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// What to enqueue.
    pub job: JobSpec,
    /// When.
    pub trigger: Trigger,
    /// A disabled schedule is kept but never fires.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Missed-slot policy.
    #[serde(default)]
    pub catch_up: CatchUp,
    /// Overlap policy.
    #[serde(default)]
    pub overlap: Overlap,
    /// The last slot that fired (kept by the store; ignored on upsert).
    #[serde(default)]
    pub last_slot: Option<DateTime<Utc>>,
    /// The next slot the beat will look at (kept by the store; `None` until a beat first sees
    /// the schedule or after its trigger changed).
    #[serde(default)]
    pub next_slot: Option<DateTime<Utc>>,
}

impl Schedule {
    /// An enabled schedule with the default policies (catch up once, skip overlaps).
    pub fn new(tenant: &str, name: &str, kind: &str, args: Value, trigger: Trigger) -> Self {
        Self {
            name: name.into(),
            tenant: tenant.into(),
            job: JobSpec { kind: kind.into(), args },
            trigger,
            enabled: true,
            catch_up: CatchUp::default(),
            overlap: Overlap::default(),
            last_slot: None,
            next_slot: None,
        }
    }

    /// The first slot strictly after `t` (see [`Trigger::next_slot_after`]).
    ///
    /// # Errors
    /// An invalid trigger.
    pub fn next_slot_after(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, SchedulerError> {
        self.trigger.next_slot_after(t)
    }

    /// The slot key of `slot`: `tenant/name@RFC3339`. At most one job exists per slot key.
    pub fn slot_key(&self, slot: DateTime<Utc>) -> String {
        slot_key(&self.tenant, &self.name, slot)
    }
}

/// The slot key of schedule `(tenant, name)` at `slot`.
pub fn slot_key(tenant: &str, name: &str, slot: DateTime<Utc>) -> String {
    format!("{tenant}/{name}@{}", slot.to_rfc3339_opts(SecondsFormat::Micros, true))
}

const MIN: u64 = 60;
const HOUR: u64 = 60 * MIN;
const DAY: u64 = 24 * HOUR;

/// Default interval per discovery task, as the original scheduler had them (server-app
/// `migrations/0065-scheduler_rules.js`, SPEC §2.4): task name → seconds.
pub const DEFAULT_INTERVALS: &[(&str, u64)] = &[
    ("server-list", 5 * MIN),
    ("loadbalance-list", 6 * HOUR),
    ("volumes-list", 6 * HOUR),
    ("security-list", 6 * HOUR),
    ("storage-list", 5 * HOUR),
    ("serverless-list", 12 * HOUR),
    ("autoscaling-list", DAY),
    ("dbs-list", DAY),
    ("storage-object-list", DAY),
    ("serverless-support-list", DAY),
    ("smtp-list", DAY),
    ("cache-list", DAY),
    ("container-list", DAY),
    ("dynamodb-list", 3 * DAY),
    ("gateway-list", 3 * DAY),
    ("cdns-list", 5 * DAY),
    ("brokers-list", 5 * DAY),
    ("search-list", 5 * DAY),
    ("network-list", 7 * DAY),
    ("snapshot-list", 14 * DAY),
    ("images-list", 14 * DAY),
    ("flavor-list", 14 * DAY),
];

/// The job kind the default schedules enqueue: crawl one task of one connection.
pub const CRAWL_JOB: &str = "crawl";

/// The default interval of discovery task `task`, if it has one.
pub fn default_interval(task: &str) -> Option<Duration> {
    DEFAULT_INTERVALS.iter().find(|(t, _)| *t == task).map(|(_, s)| Duration::from_secs(*s))
}

/// One schedule per discovery task in [`DEFAULT_INTERVALS`] for `connection` of `tenant`,
/// named `<connection>:<task>`, enqueueing [`CRAWL_JOB`] with `{"connection", "task"}`.
pub fn default_schedules(tenant: &str, connection: &str) -> Vec<Schedule> {
    DEFAULT_INTERVALS
        .iter()
        .map(|(task, secs)| {
            Schedule::new(
                tenant,
                &format!("{connection}:{task}"),
                CRAWL_JOB,
                json!({"connection": connection, "task": task}),
                Trigger::Interval(Duration::from_secs(*secs)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn interval_slots_are_epoch_aligned() {
        let t = Trigger::Interval(Duration::from_secs(300));
        assert_eq!(t.next_slot_after(at("2026-01-01T10:02:03Z")).unwrap(), at("2026-01-01T10:05:00Z"));
        assert_eq!(t.next_slot_after(at("2026-01-01T10:05:00Z")).unwrap(), at("2026-01-01T10:10:00Z"));
        assert_eq!(t.latest_slot_at_or_before(at("2026-01-01T10:05:00Z")).unwrap(), at("2026-01-01T10:05:00Z"));
        assert_eq!(t.latest_slot_at_or_before(at("2026-01-01T10:09:59Z")).unwrap(), at("2026-01-01T10:05:00Z"));
    }

    #[test]
    fn cron_slots() {
        let t = Trigger::Cron("*/15 * * * *".into());
        assert_eq!(t.next_slot_after(at("2026-01-01T10:02:03Z")).unwrap(), at("2026-01-01T10:15:00Z"));
        assert_eq!(t.next_slot_after(at("2026-01-01T10:15:00Z")).unwrap(), at("2026-01-01T10:30:00Z"));
        assert_eq!(t.latest_slot_at_or_before(at("2026-01-01T10:29:00Z")).unwrap(), at("2026-01-01T10:15:00Z"));
        assert_eq!(t.latest_slot_at_or_before(at("2026-01-01T10:30:00Z")).unwrap(), at("2026-01-01T10:30:00Z"));
    }

    #[test]
    fn bad_triggers_are_rejected() {
        assert!(Trigger::Cron("every tuesday".into()).validate().is_err());
        assert!(Trigger::Interval(Duration::ZERO).validate().is_err());
        assert!(Trigger::Interval(Duration::from_millis(1500)).validate().is_err());
        assert!(Trigger::Interval(Duration::from_secs(1)).validate().is_ok());
    }

    #[test]
    fn schedules_parse_from_config() {
        let s: Schedule = serde_json::from_value(json!({
            "name": "nightly", "tenant": "acme", "job": {"kind": "graph", "args": {"id": 1}},
            "trigger": {"cron": "0 3 * * *"}, "catch_up": "skip", "overlap": "queue"
        }))
        .unwrap();
        assert_eq!(s.trigger, Trigger::Cron("0 3 * * *".into()));
        assert_eq!((s.catch_up, s.overlap, s.enabled), (CatchUp::Skip, Overlap::Queue, true));
        let i: Trigger = serde_json::from_value(json!({"interval": 300})).unwrap();
        assert_eq!(i, Trigger::Interval(Duration::from_secs(300)));
        assert!(serde_json::from_value::<Schedule>(json!({"name": "x", "tenant": "t", "bogus": 1})).is_err());
    }

    #[test]
    fn default_intervals_follow_the_spec() {
        assert_eq!(default_interval("server-list"), Some(Duration::from_secs(300)));
        assert_eq!(default_interval("images-list"), Some(Duration::from_secs(14 * DAY)));
        assert_eq!(default_interval("network-list"), Some(Duration::from_secs(7 * DAY)));
        let all = default_schedules("acme", "aws-main");
        assert_eq!(all.len(), DEFAULT_INTERVALS.len());
        let names: std::collections::HashSet<_> = DEFAULT_INTERVALS.iter().map(|(t, _)| *t).collect();
        assert_eq!(names.len(), DEFAULT_INTERVALS.len(), "task names are unique");
        assert!(all.iter().all(|s| s.trigger.validate().is_ok() && s.job.kind == CRAWL_JOB));
    }
}
