//! The exact TiX analysis of one batch (SPEC §1.4): equal-count histograms, the min-RTT clock
//! fixer, usage, the 10-minute meaningful window, Hurst exponents and per-minute quality.
//!
//! # Fixed order
//! The reference kept observations in a hash set, so several outputs depended on the process's
//! hash seed. Here every step runs over one total order: records are deduplicated and sorted by
//! `(day_timestamp, t1, t2, t3, t4, type, size)` ([`Record`]'s `Ord`); histograms sort stably by
//! their key, so ties keep that order; the Hurst series are the newest `2^k` records in that
//! order; the result timestamp is the newest record.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Result, Series, TixError};
use crate::hurst;
use crate::report::Record;
use crate::selection::Batch;

/// Tunables of the analysis; the defaults are the reference constants.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Length of the meaningful window ending at the newest record, in seconds (600).
    pub meaningful_window_seconds: i64,
    /// Weight of bin 0's mid-point in the threshold when bin 0 is not the mode (0.5).
    pub alpha: f64,
    /// Minutes with fewer records are ignored by the quality estimate (30).
    pub quality_min_records: usize,
    /// A minute is congested when its usage is below this (0.5) ...
    pub congestion_usage_threshold: f64,
    /// ... and the mean of the two Hurst estimates is above this (0.7).
    pub hurst_congestion_threshold: f64,
    /// First octave of the wavelet fit (2).
    pub wavelet_octave_min: usize,
    /// Last octave of the wavelet fit (8; lowered automatically for short series).
    pub wavelet_octave_max: usize,
    /// Undo the midnight resets of the nanos-of-day clocks before the analysis (see
    /// [`unwrap_midnight`]). Off by default: the reference does not, and its expected outputs
    /// include batches that cross a server midnight.
    pub unwrap_midnight: bool,
}

impl AnalysisConfig {
    /// The reference constants with the fixes that change results turned on
    /// (`unwrap_midnight`).
    pub fn recommended() -> Self {
        AnalysisConfig { unwrap_midnight: true, ..AnalysisConfig::default() }
    }

    /// Checks every field and reports all problems at once.
    ///
    /// # Errors
    /// [`TixError::InvalidConfig`] listing each offending field.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.meaningful_window_seconds <= 0 {
            problems.push("analysis.meaningful_window_seconds: must be positive".to_owned());
        }
        if !self.alpha.is_finite() {
            problems.push("analysis.alpha: must be a finite number".to_owned());
        }
        if self.quality_min_records < 4 {
            problems.push("analysis.quality_min_records: must be at least 4 (a histogram needs 2 bins)".to_owned());
        }
        if !self.congestion_usage_threshold.is_finite() {
            problems.push("analysis.congestion_usage_threshold: must be a finite number".to_owned());
        }
        if !self.hurst_congestion_threshold.is_finite() {
            problems.push("analysis.hurst_congestion_threshold: must be a finite number".to_owned());
        }
        if self.wavelet_octave_min < 1 || self.wavelet_octave_max <= self.wavelet_octave_min {
            problems.push("analysis.wavelet_octave_min/max: need 1 <= min < max".to_owned());
        }
        if problems.is_empty() { Ok(()) } else { Err(TixError::InvalidConfig { problems }) }
    }
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            meaningful_window_seconds: 600,
            alpha: 0.5,
            quality_min_records: 30,
            congestion_usage_threshold: 0.5,
            hurst_congestion_threshold: 0.7,
            wavelet_octave_min: 2,
            wavelet_octave_max: 8,
            unwrap_midnight: false,
        }
    }
}

/// The two Hurst estimates of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HurstPair {
    /// Abry–Veitch wavelet estimate.
    pub wavelet: f64,
    /// R/S pox-plot estimate.
    pub rs: f64,
}

impl HurstPair {
    /// The mean of both estimates (what the quality rule compares).
    pub fn effective(&self) -> f64 {
        (self.wavelet + self.rs) / 2.0
    }
}

/// Result for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DirectionResult {
    /// Usage ratio, **raw**: it exceeds 1 when bin 0's mid-point is negative (see
    /// [`DirectionResult::usage_clamped`]).
    pub usage: f64,
    /// Share of non-congested minutes, in `[0, 1]`.
    pub quality: f64,
    /// Hurst estimates.
    pub hurst: HurstPair,
}

impl DirectionResult {
    /// The usage clamped to `[0, 1]`, the range the API contract allows.
    pub fn usage_clamped(&self) -> f64 {
        self.usage.clamp(0.0, 1.0)
    }
}

/// Intermediate values, for diagnostics and tests (not part of the API body).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Records in the batch (all types, duplicates included).
    pub n_records: usize,
    /// Unique SHORT records (`S`).
    pub n_short: usize,
    /// Records of the meaningful window (`M`).
    pub n_meaningful: usize,
    /// Oldest `day_timestamp` of `S`.
    pub first_timestamp: i64,
    /// Newest `day_timestamp` of `S`.
    pub last_timestamp: i64,
    /// Mode of the RTT histogram (`tau`, unused by the reference).
    pub rtt_mode: f64,
    /// Threshold of the RTT histogram (unused by the reference).
    pub rtt_threshold: f64,
    /// Number of clock-fixer anchors (RTT bin 0).
    pub n_anchors: usize,
    /// Upstream histogram mode.
    pub up_mode: f64,
    /// Upstream histogram threshold.
    pub up_threshold: f64,
    /// Downstream histogram mode.
    pub down_mode: f64,
    /// Downstream histogram threshold.
    pub down_threshold: f64,
    /// Length of the Hurst series (`2^floor(log2 |M|)`).
    pub hurst_len: usize,
    /// Minutes of `M` with at least `quality_min_records` records.
    pub quality_minutes: usize,
    /// Of those, minutes whose per-minute usage was undefined in some direction (skipped there).
    pub quality_minutes_skipped: usize,
    /// Records changed by [`unwrap_midnight`] (0 unless enabled).
    pub unwrapped_records: usize,
}

/// The analysis of one batch (the reference's `get_results` dict, plus diagnostics).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisResult {
    /// Newest `day_timestamp` of the batch's short records (Unix seconds).
    pub timestamp: i64,
    /// Upstream result.
    pub upstream: DirectionResult,
    /// Downstream result.
    pub downstream: DirectionResult,
    /// Intermediate values.
    #[serde(skip)]
    pub diagnostics: Diagnostics,
}

// ------------------------------------------------------------------------------------------------
// Histogram

/// A histogram key: the RTT (integer nanoseconds) or a corrected delay (float).
pub trait HistKey: Copy + PartialOrd + std::fmt::Debug {
    /// `max - min`.
    fn width(max: Self, min: Self) -> Self;
    /// `min + width // 2` (floor division, as Python's `//`).
    fn mid(min: Self, width: Self) -> Self;
    /// Whether the width is zero.
    fn is_zero(self) -> bool;
    /// `(n_total * range) / (len * width)` with the reference's operation order.
    fn probability(n_total: usize, range: Self, len: usize, width: Self) -> f64;
    /// As a float (Python promotes int to float in the threshold).
    fn to_f64(self) -> f64;
}

impl HistKey for i128 {
    fn width(max: Self, min: Self) -> Self {
        max - min
    }
    fn mid(min: Self, width: Self) -> Self {
        min + width.div_euclid(2)
    }
    fn is_zero(self) -> bool {
        self == 0
    }
    fn probability(n_total: usize, range: Self, len: usize, width: Self) -> f64 {
        (n_total as i128 * range) as f64 / (len as i128 * width) as f64
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl HistKey for f64 {
    fn width(max: Self, min: Self) -> Self {
        max - min
    }
    fn mid(min: Self, width: Self) -> Self {
        min + (width / 2.0).floor()
    }
    fn is_zero(self) -> bool {
        self == 0.0
    }
    fn probability(n_total: usize, range: Self, len: usize, width: Self) -> f64 {
        (n_total as f64 * range) / (len as f64 * width)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// One bin of an equal-count histogram: positions `start..start+len` of the sorted data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin<K> {
    /// First position in the sorted data.
    pub start: usize,
    /// Number of values.
    pub len: usize,
    /// Smallest key.
    pub min: K,
    /// Largest key.
    pub max: K,
    /// `max - min`.
    pub width: K,
    /// `min + width // 2`.
    pub mid: K,
}

/// The reference's `FixedSizeBinHistogram`: `floor(√n)` bins of `n / floor(√n)` sorted values,
/// the remainder in the last bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram<K> {
    /// The bins, lowest keys first.
    pub bins: Vec<Bin<K>>,
    /// `p_i` of every bin.
    pub probabilities: Vec<f64>,
    /// Index of the mode bin (first maximum among the `2·⌊√nb⌋` representative bins).
    pub mode_index: usize,
    /// Mid-point of the mode bin.
    pub mode: f64,
    /// `bins[1].mid` if bin 0 is the mode, else `mode + alpha · bins[0].mid`.
    pub threshold: f64,
}

impl<K: HistKey> Histogram<K> {
    /// Builds the histogram over keys **already sorted ascending**.
    ///
    /// # Errors
    /// [`TixError::TooFewObservations`] below 4 values, [`TixError::ZeroWidthBin`] when a bin
    /// holds equal keys (the reference divides by zero there).
    pub fn from_sorted(sorted: &[K], series: Series, alpha: f64) -> Result<Self> {
        let n = sorted.len();
        if n < 4 {
            return Err(TixError::TooFewObservations { what: "histogram", got: n, need: 4 });
        }
        let nb = n.isqrt();
        let per = n / nb;
        let mut bins = Vec::with_capacity(nb);
        for i in 0..nb {
            let start = i * per;
            let end = if i + 1 == nb { n } else { start + per };
            let (min, max) = (sorted[start], sorted[end - 1]);
            let width = K::width(max, min);
            bins.push(Bin { start, len: end - start, min, max, width, mid: K::mid(min, width) });
        }
        if let Some(bin) = bins.iter().position(|b| b.width.is_zero()) {
            return Err(TixError::ZeroWidthBin { series, bin });
        }
        let range = K::width(bins[nb - 1].max, bins[0].min);
        let probabilities: Vec<f64> = bins.iter().map(|b| K::probability(n, range, b.len, b.width)).collect();
        let representative = (2 * nb.isqrt()).min(nb);
        let mut mode_index = 0;
        for (i, p) in probabilities[..representative].iter().enumerate() {
            if *p > probabilities[mode_index] {
                mode_index = i;
            }
        }
        let mode_p = probabilities[mode_index];
        let mode = bins[mode_index].mid.to_f64();
        let threshold =
            if probabilities[0] == mode_p { bins[1].mid.to_f64() } else { mode + alpha * bins[0].mid.to_f64() };
        Ok(Histogram { bins, probabilities, mode_index, mode, threshold })
    }
}

// ------------------------------------------------------------------------------------------------
// Clock fixer

/// `phi(o) = float(t1 - t2) + float((t2 - t1) + (t4 - t3)) / 2` (integer parts exact).
pub fn phi(r: &Record) -> f64 {
    let (t1, t2, t3, t4) = (r.t1 as i128, r.t2 as i128, r.t3 as i128, r.t4 as i128);
    (t1 - t2) as f64 + ((t2 - t1) + (t4 - t3)) as f64 / 2.0
}

/// The min-RTT clock fixer: `phi` of the anchors (RTT bin 0), linearly interpolated in time.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockFixer {
    /// `(day_timestamp, phi)` of the anchors, sorted by timestamp (stable).
    pub anchors: Vec<(i64, f64)>,
    /// The RTT histogram the anchors come from.
    pub rtt_histogram: Histogram<i128>,
}

impl ClockFixer {
    /// Builds the fixer from records in the fixed order.
    ///
    /// # Errors
    /// As [`Histogram::from_sorted`] on the RTTs.
    pub fn new(short: &[Record], alpha: f64) -> Result<Self> {
        let mut by_rtt: Vec<&Record> = short.iter().collect();
        by_rtt.sort_by_key(|r| r.t4 as i128 - r.t1 as i128); // stable: ties keep the fixed order
        let keys: Vec<i128> = by_rtt.iter().map(|r| r.t4 as i128 - r.t1 as i128).collect();
        let rtt_histogram = Histogram::from_sorted(&keys, Series::Rtt, alpha)?;
        let b0 = rtt_histogram.bins[0];
        let mut anchors: Vec<(i64, f64)> =
            by_rtt[b0.start..b0.start + b0.len].iter().map(|r| (r.day_timestamp, phi(r))).collect();
        anchors.sort_by_key(|a| a.0);
        Ok(ClockFixer { anchors, rtt_histogram })
    }

    /// `phi_fn(x)`: constant before the first and from the last anchor, linear in between.
    pub fn phi_at(&self, x: i64) -> f64 {
        let a = &self.anchors;
        let (first, last) = (a[0], a[a.len() - 1]);
        if x < first.0 {
            return first.1;
        }
        if x >= last.0 {
            return last.1;
        }
        // The unique i with a[i].ts <= x < a[i+1].ts: the last anchor not after x.
        let i = a.partition_point(|p| p.0 <= x) - 1;
        let (ai, aj) = (a[i], a[i + 1]);
        let slope = (ai.1 - aj.1) / (ai.0 - aj.0) as f64;
        x as f64 * slope + (ai.1 - ai.0 as f64 * slope)
    }

    /// Corrected upstream delay `(t2 + phi) - t1`.
    pub fn upstream(&self, r: &Record) -> f64 {
        (r.t2 as f64 + self.phi_at(r.day_timestamp)) - r.t1 as f64
    }

    /// Corrected downstream delay `t4 - (t3 + phi)`.
    pub fn downstream(&self, r: &Record) -> f64 {
        r.t4 as f64 - (r.t3 as f64 + self.phi_at(r.day_timestamp))
    }
}

// ------------------------------------------------------------------------------------------------
// Usage

/// Usage of one series: `#{v > threshold} / #{v > mode}` over the histogram of `values`.
///
/// # Errors
/// Histogram errors, or [`TixError::NoObservationAboveMode`].
pub fn usage(values: &[f64], series: Series, alpha: f64) -> Result<(f64, Histogram<f64>)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let h = Histogram::from_sorted(&sorted, series, alpha)?;
    let above_threshold = values.iter().filter(|v| **v > h.threshold).count();
    let above_mode = values.iter().filter(|v| **v > h.mode).count();
    if above_mode == 0 {
        return Err(TixError::NoObservationAboveMode { series });
    }
    Ok((above_threshold as f64 / above_mode as f64, h))
}

// ------------------------------------------------------------------------------------------------
// Whole analysis

/// Unique SHORT records of `records` in the fixed order.
pub fn short_records(records: &[Record]) -> Vec<Record> {
    let mut s: Vec<Record> = records.iter().filter(|r| r.is_short()).copied().collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Analyses a batch with the default configuration.
///
/// # Errors
/// A typed error for degenerate data (see [`analyse_records`]).
pub fn analyse(batch: &Batch) -> Result<AnalysisResult> {
    analyse_records(&batch.records, &AnalysisConfig::default())
}

/// Analyses a batch with the given configuration.
///
/// # Errors
/// See [`analyse_records`].
pub fn analyse_with(batch: &Batch, config: &AnalysisConfig) -> Result<AnalysisResult> {
    analyse_records(&batch.records, config)
}

/// Analyses the records of a batch (any order, duplicates and LONG records allowed).
///
/// # Errors
/// [`TixError::TooFewObservations`], [`TixError::SpanTooShort`] (< 600 s of short records),
/// [`TixError::ZeroWidthBin`], [`TixError::NoObservationAboveMode`], [`TixError::Hurst`],
/// [`TixError::NoQualityMinutes`]. Never panics.
pub fn analyse_records(records: &[Record], config: &AnalysisConfig) -> Result<AnalysisResult> {
    let mut s = short_records(records);
    let unwrapped_records = if config.unwrap_midnight {
        let n = unwrap_midnight(&mut s);
        s.sort_unstable();
        s.dedup();
        n
    } else {
        0
    };
    if s.len() < 4 {
        return Err(TixError::TooFewObservations { what: "analysis", got: s.len(), need: 4 });
    }
    let first = s[0].day_timestamp;
    let last = s[s.len() - 1].day_timestamp;
    let span = last.saturating_sub(first);
    if span < config.meaningful_window_seconds {
        return Err(TixError::SpanTooShort { span, required: config.meaningful_window_seconds });
    }
    let fixer = ClockFixer::new(&s, config.alpha)?;
    let cut = last - config.meaningful_window_seconds;
    let m: Vec<&Record> = s.iter().filter(|r| r.day_timestamp > cut).collect();
    let up: Vec<f64> = m.iter().map(|r| fixer.upstream(r)).collect();
    let down: Vec<f64> = m.iter().map(|r| fixer.downstream(r)).collect();
    let (up_usage, up_h) = usage(&up, Series::Upstream, config.alpha)?;
    let (down_usage, down_h) = usage(&down, Series::Downstream, config.alpha)?;

    // Hurst: the newest 2^floor(log2 |M|) records.
    let hurst_len = 1usize << (usize::BITS - 1 - m.len().leading_zeros());
    let tail = m.len() - hurst_len;
    let up_hurst = hurst_pair(&up[tail..], Series::Upstream, config)?;
    let down_hurst = hurst_pair(&down[tail..], Series::Downstream, config)?;

    // Quality: per UTC minute with enough records.
    let mut minutes: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, r) in m.iter().enumerate() {
        minutes.entry(r.day_timestamp - r.day_timestamp.rem_euclid(60)).or_default().push(i);
    }
    minutes.retain(|_, v| v.len() >= config.quality_min_records);
    let (mut m_up, mut m_down, mut cong_up, mut cong_down, mut skipped) = (0usize, 0usize, 0, 0, 0);
    for idx in minutes.values() {
        let mu: Vec<f64> = idx.iter().map(|&i| up[i]).collect();
        let md: Vec<f64> = idx.iter().map(|&i| down[i]).collect();
        let (ru, rd) = (usage(&mu, Series::Upstream, config.alpha), usage(&md, Series::Downstream, config.alpha));
        if ru.is_err() || rd.is_err() {
            skipped += 1;
        }
        if let Ok((u, _)) = ru {
            m_up += 1;
            if u < config.congestion_usage_threshold && up_hurst.effective() > config.hurst_congestion_threshold {
                cong_up += 1;
            }
        }
        if let Ok((u, _)) = rd {
            m_down += 1;
            if u < config.congestion_usage_threshold && down_hurst.effective() > config.hurst_congestion_threshold {
                cong_down += 1;
            }
        }
    }
    if m_up == 0 || m_down == 0 {
        return Err(TixError::NoQualityMinutes { min_records: config.quality_min_records });
    }
    let quality = |m: usize, c: usize| (m - c) as f64 / m as f64;

    Ok(AnalysisResult {
        timestamp: last,
        upstream: DirectionResult { usage: up_usage, quality: quality(m_up, cong_up), hurst: up_hurst },
        downstream: DirectionResult { usage: down_usage, quality: quality(m_down, cong_down), hurst: down_hurst },
        diagnostics: Diagnostics {
            n_records: records.len(),
            n_short: s.len(),
            n_meaningful: m.len(),
            first_timestamp: first,
            last_timestamp: last,
            rtt_mode: fixer.rtt_histogram.mode,
            rtt_threshold: fixer.rtt_histogram.threshold,
            n_anchors: fixer.anchors.len(),
            up_mode: up_h.mode,
            up_threshold: up_h.threshold,
            down_mode: down_h.mode,
            down_threshold: down_h.threshold,
            hurst_len,
            quality_minutes: minutes.len(),
            quality_minutes_skipped: skipped,
            unwrapped_records,
        },
    })
}

const DAY_NS: i128 = 86_400_000_000_000;

/// `x / DAY_NS` rounded to the nearest integer.
fn days(x: i128) -> i128 {
    (x + DAY_NS / 2).div_euclid(DAY_NS)
}

/// Undoes the midnight resets of the nanos-of-day clocks (weakness 7), in place; returns how
/// many records changed.
///
/// The client's `t1`/`t4` restart at its local midnight: `day_timestamp·10⁹ − t4` (the client's
/// midnight in epoch ns) then jumps by a day, and whole days are added back relative to the
/// first record. A probe that left before and returned after midnight gets `t1` moved by a day
/// too. The server's `t2`/`t3` restart at the server's midnight: their offset to `t1` jumps by a
/// day relative to the first record's, and is brought back. Shifting every record by the same
/// number of days changes nothing (the clock fixer absorbs constant offsets), so the first
/// record is a valid reference. Values that would overflow are left alone.
pub fn unwrap_midnight(records: &mut [Record]) -> usize {
    let Some(first) = records.first().copied() else { return 0 };
    let base = |r: &Record| r.day_timestamp as i128 * 1_000_000_000 - r.t4 as i128;
    let ref_base = base(&first);
    let client = |r: &Record| -> (i128, i128) {
        let k = days(base(r) - ref_base);
        let t4 = r.t4 as i128 + k * DAY_NS;
        let mut t1 = r.t1 as i128 + k * DAY_NS;
        if t1 - t4 > DAY_NS / 2 {
            t1 -= DAY_NS;
        } else if t4 - t1 > DAY_NS / 2 {
            t1 += DAY_NS;
        }
        (t1, t4)
    };
    let (ref_t1, _) = client(&first);
    let ref_offset = first.t2 as i128 - ref_t1;
    let mut changed = 0;
    for r in records.iter_mut() {
        let (t1, t4) = client(r);
        let t2 = r.t2 as i128 - days(r.t2 as i128 - t1 - ref_offset) * DAY_NS;
        let t3 = r.t3 as i128 - days(r.t3 as i128 - t1 - ref_offset) * DAY_NS;
        if let (Ok(t1), Ok(t2), Ok(t3), Ok(t4)) =
            (i64::try_from(t1), i64::try_from(t2), i64::try_from(t3), i64::try_from(t4))
            && (t1, t2, t3, t4) != (r.t1, r.t2, r.t3, r.t4)
        {
            (r.t1, r.t2, r.t3, r.t4) = (t1, t2, t3, t4);
            changed += 1;
        }
    }
    changed
}

fn hurst_pair(series_values: &[f64], series: Series, config: &AnalysisConfig) -> Result<HurstPair> {
    let wavelet = hurst::wavelet(series_values, config.wavelet_octave_min, config.wavelet_octave_max)
        .map_err(|reason| TixError::Hurst { series, estimator: "wavelet", reason })?;
    let rs = hurst::rs(series_values).map_err(|reason| TixError::Hurst { series, estimator: "rs", reason })?;
    Ok(HurstPair { wavelet, rs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_remainder_and_threshold_rule() {
        // 10 values: nb = 3 bins of 3, the remainder (1) goes to the last bin.
        let v: Vec<f64> = vec![0.0, 1.0, 3.0, 10.0, 11.0, 15.0, 30.0, 40.0, 41.0, 100.0];
        let h = Histogram::from_sorted(&v, Series::Upstream, 0.5).unwrap();
        assert_eq!(h.bins.iter().map(|b| b.len).collect::<Vec<_>>(), [3, 3, 4]);
        assert_eq!(h.bins.iter().map(|b| b.mid).collect::<Vec<_>>(), [1.0, 12.0, 65.0]);
        // p = 10·100 / (len·width): 333.3, 66.7, 3.57; representative = 2·⌊√3⌋ = 2 bins.
        assert_eq!(h.mode_index, 0);
        assert_eq!(h.threshold, 12.0, "bin 0 is the mode: threshold = bins[1].mid");

        // Bin 1 is the densest: threshold = mode + alpha · bins[0].mid.
        let v: Vec<f64> = vec![-50.0, -10.0, 0.0, 10.0, 10.5, 11.0, 30.0, 40.0, 41.0];
        let h = Histogram::from_sorted(&v, Series::Upstream, 0.5).unwrap();
        assert_eq!(h.mode_index, 1);
        assert_eq!(h.mode, 10.0 + (1.0f64 / 2.0).floor());
        assert_eq!(h.bins[0].mid, -50.0 + 25.0);
        assert_eq!(h.threshold, 10.0 + 0.5 * -25.0);
    }

    #[test]
    fn float_mid_uses_floor_division() {
        assert_eq!(<f64 as HistKey>::mid(1.0, 3.0), 2.0);
        assert_eq!(<f64 as HistKey>::mid(-7.5, 2.5), -6.5);
        assert_eq!(<i128 as HistKey>::mid(10, 5), 12);
    }

    #[test]
    fn mode_is_searched_in_representative_bins_only() {
        // 16 values: 4 bins, representative = 2·⌊√4⌋ = 4 → all; 25 values: 5 bins, 4 representative.
        let mut v: Vec<f64> = (0..20).map(|i| f64::from(i) * 10.0).collect();
        v.extend([200.0, 200.1, 200.2, 200.3, 200.4]); // a very dense last bin
        let h = Histogram::from_sorted(&v, Series::Downstream, 0.5).unwrap();
        assert_eq!(h.bins.len(), 5);
        assert!(h.probabilities[4] > h.probabilities[0]);
        assert!(h.mode_index < 4, "the dense fifth bin is not representative");
    }

    #[test]
    fn degenerate_histograms_are_errors() {
        assert!(matches!(
            Histogram::from_sorted(&[1.0, 2.0, 3.0], Series::Upstream, 0.5),
            Err(TixError::TooFewObservations { got: 3, .. })
        ));
        assert!(matches!(
            Histogram::from_sorted(&[1.0, 2.0, 5.0, 5.0], Series::Upstream, 0.5),
            Err(TixError::ZeroWidthBin { bin: 1, .. })
        ));
        assert!(matches!(usage(&[5.0, 6.0, 7.0, 8.0], Series::Upstream, 0.5), Ok((_, _))));
    }

    #[test]
    fn phi_interpolates_between_anchors() {
        let f = ClockFixer {
            anchors: vec![(100, 10.0), (110, 20.0), (110, 30.0), (130, 50.0)],
            rtt_histogram: Histogram::from_sorted(&[1i128, 2, 3, 4], Series::Rtt, 0.5).unwrap(),
        };
        assert_eq!(f.phi_at(50), 10.0);
        assert_eq!(f.phi_at(105), 15.0);
        assert_eq!(f.phi_at(110), 30.0, "equal timestamps: the last anchor not after x");
        assert_eq!(f.phi_at(120), 40.0);
        assert_eq!(f.phi_at(130), 50.0);
        assert_eq!(f.phi_at(999), 50.0);
    }
}
