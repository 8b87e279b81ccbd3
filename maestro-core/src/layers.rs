//! Cross-cutting policies written once: retry with exponential backoff and jitter, timeouts,
//! and a request-rate limit.
//! The pipeline wraps providers and stores with them; the relay wraps publishers.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Retry, Retryable};

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the second attempt.
    #[serde(with = "millis")]
    pub initial_backoff: Duration,
    /// Upper bound of any delay.
    #[serde(with = "millis")]
    pub max_backoff: Duration,
    /// Fraction of each delay that is randomised (0 = none, 1 = full jitter).
    pub jitter: f64,
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            jitter: 0.5,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The delay after failed attempt number `attempt` (1-based): `initial * 2^(attempt-1)`,
    /// capped, with the jittered fraction drawn uniformly.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self.initial_backoff.saturating_mul(1u32 << exp).min(self.max_backoff);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return base;
        }
        let fixed = base.mul_f64(1.0 - jitter);
        let random = base.mul_f64(jitter * rand::rng().random::<f64>());
        fixed + random
    }
}

/// Run `op` until it succeeds, fails with a non-retriable error, or `policy.max_attempts` is
/// reached. Returns the last error and the number of attempts made.
///
/// ```
/// # tokio_test_block(async {
/// use maestro_core::layers::{retry, RetryPolicy};
/// use maestro_core::{ProviderError};
/// let mut calls = 0;
/// let policy = RetryPolicy { initial_backoff: std::time::Duration::ZERO, ..RetryPolicy::default() };
/// let out: Result<u32, _> = retry(&policy, |_| { calls += 1; let c = calls; async move {
///     if c < 3 { Err(ProviderError::transient("503")) } else { Ok(c) } } }).await;
/// assert_eq!(out.unwrap(), 3);
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f) }
/// ```
pub async fn retry<T, E, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, E>
where
    E: Retryable,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let wait = match e.retry() {
                    Retry::Never => return Err(e),
                    _ if attempt >= policy.max_attempts => return Err(e),
                    Retry::Backoff => policy.delay(attempt),
                    Retry::After(d) => d.max(policy.delay(attempt)).min(policy.max_backoff.max(d)),
                };
                tracing::debug!(attempt, ?wait, "retrying after a retriable error");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// Run `fut` with a time limit; on expiry return `on_timeout()`.
pub async fn with_timeout<T, E>(
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
    on_timeout: impl FnOnce() -> E,
) -> Result<T, E> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(on_timeout()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ProviderError, ProviderErrorKind};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            jitter: 0.0,
        }
    }

    #[test]
    fn delay_doubles_and_caps() {
        let p = fast();
        assert_eq!(p.delay(1), Duration::from_millis(10));
        assert_eq!(p.delay(2), Duration::from_millis(20));
        assert_eq!(p.delay(3), Duration::from_millis(40));
        assert_eq!(p.delay(4), Duration::from_millis(50));
        let j = RetryPolicy { jitter: 1.0, ..p };
        for _ in 0..100 {
            assert!(j.delay(3) <= Duration::from_millis(40));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_until_limit() {
        let calls = AtomicU32::new(0);
        let r: Result<(), ProviderError> = retry(&fast(), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ProviderError::transient("boom")) }
        })
        .await;
        assert_eq!(r.unwrap_err().kind, ProviderErrorKind::Transient);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retries_auth() {
        let calls = AtomicU32::new(0);
        let r: Result<(), ProviderError> = retry(&fast(), |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ProviderError::auth("denied")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_maps_error() {
        let r: Result<(), ProviderError> = with_timeout(
            Duration::from_millis(5),
            async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            },
            || ProviderError::transient("timed out"),
        )
        .await;
        assert_eq!(r.unwrap_err().message, "timed out");
    }
}

/// A request-rate limit shared by every task of one connection: at most `per_second` starts
/// per second on average, with up to `burst` starts at once after an idle spell.
///
/// Each caller reserves the next free start time under a lock and sleeps until it, so waiting
/// callers are served in arrival order and none spins. It runs on tokio's clock, so a test
/// with paused time checks it exactly.
///
/// (A crate like `governor` does the same on its own clock; this one is twenty lines, needs no
/// dependency, and is testable on tokio's virtual time, which is why it is written here.)
///
/// ```
/// # tokio_test_block_on(async {
/// use std::time::Duration;
/// use maestro_core::layers::RateLimiter;
///
/// // (the runtime below starts with tokio's clock paused)
/// let limit = RateLimiter::new(10.0, 1);
/// let start = tokio::time::Instant::now();
/// for _ in 0..5 {
///     limit.acquire().await;
/// }
/// // The first start is free, the next four are 100 ms apart.
/// assert_eq!(start.elapsed(), Duration::from_millis(400));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    burst: u32,
    /// Earliest start time the next caller may take, minus the burst allowance.
    next: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl RateLimiter {
    /// `per_second` starts per second (must be > 0), `burst` at once (at least 1).
    ///
    /// # Panics
    /// If `per_second` is not a positive finite number (configs validate it before).
    pub fn new(per_second: f64, burst: u32) -> Self {
        assert!(per_second.is_finite() && per_second > 0.0, "rate must be positive, got {per_second}");
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second),
            burst: burst.max(1),
            next: tokio::sync::Mutex::new(None),
        }
    }

    /// Wait for a start slot.
    pub async fn acquire(&self) {
        let now = tokio::time::Instant::now();
        let slot = {
            let mut next = self.next.lock().await;
            // After an idle spell the schedule may lag `now` by at most `burst - 1` intervals.
            let floor = now.checked_sub(self.interval * (self.burst - 1)).unwrap_or(now);
            let slot = next.map_or(floor, |n| n.max(floor));
            *next = Some(slot + self.interval);
            slot
        };
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_and_served_in_order() {
        let limit = std::sync::Arc::new(RateLimiter::new(4.0, 1));
        let t0 = tokio::time::Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let l = limit.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                tokio::time::Instant::now() - t0
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort();
        let want: Vec<Duration> = (0..8).map(|i| Duration::from_millis(250 * i)).collect();
        assert_eq!(at, want);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_allowed_after_idle_time_and_no_more() {
        let limit = RateLimiter::new(2.0, 3);
        let t0 = tokio::time::Instant::now();
        for _ in 0..3 {
            limit.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::ZERO, "three starts at once: the burst");
        limit.acquire().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(500), "the fourth waits one interval");
        // Idle for a long time: the allowance refills to the burst, not beyond.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let t1 = tokio::time::Instant::now();
        for _ in 0..4 {
            limit.acquire().await;
        }
        assert_eq!(t1.elapsed(), Duration::from_millis(500));
    }
}
