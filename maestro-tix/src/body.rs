//! The body the processor posts to tix-api, and the idempotency key of a batch.

use serde::Serialize;

use crate::analysis::AnalysisResult;

/// The API version string of the reference body.
pub const API_VERSION: &str = "1.0.0";

/// `POST /api/user/{u}/installation/{i}/reports` body, keys in the reference order and with
/// the reference names.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportBody {
    /// Newest record of the batch, Unix seconds.
    pub timestamp: i64,
    /// Always `"1.0.0"`.
    pub version: String,
    /// Upstream usage.
    pub up_usage: f64,
    /// Upstream quality.
    pub up_quality: f64,
    /// Downstream usage.
    pub down_usage: f64,
    /// Downstream quality.
    pub down_quality: f64,
    /// Upstream Hurst, R/S.
    pub hurst_up_rs: f64,
    /// Upstream Hurst, wavelet.
    pub hurst_up_wavelet: f64,
    /// Downstream Hurst, R/S.
    pub hurst_down_rs: f64,
    /// Downstream Hurst, wavelet.
    pub hurst_down_wavelet: f64,
    /// Client IP (or host name) the batch came from.
    pub ip: String,
}

/// How [`ReportBody::new`] writes usages above 1 (weakness 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsagePolicy {
    /// Clamp to `[0, 1]`, the range of the API contract (default; the raw value stays in
    /// [`AnalysisResult`]).
    #[default]
    Clamp,
    /// Send the raw value, as the reference did.
    Raw,
}

impl ReportBody {
    /// Builds the body from a result and the client address.
    pub fn new(result: &AnalysisResult, ip: impl Into<String>, policy: UsagePolicy) -> ReportBody {
        let usage = |d: &crate::analysis::DirectionResult| match policy {
            UsagePolicy::Clamp => d.usage_clamped(),
            UsagePolicy::Raw => d.usage,
        };
        ReportBody {
            timestamp: result.timestamp,
            version: API_VERSION.to_owned(),
            up_usage: usage(&result.upstream),
            up_quality: result.upstream.quality,
            down_usage: usage(&result.downstream),
            down_quality: result.downstream.quality,
            hurst_up_rs: result.upstream.hurst.rs,
            hurst_up_wavelet: result.upstream.hurst.wavelet,
            hurst_down_rs: result.downstream.hurst.rs,
            hurst_down_wavelet: result.downstream.hurst.wavelet,
            ip: ip.into(),
        }
    }

    /// The body as compact JSON (keys in the reference order).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl From<(&AnalysisResult, &str)> for ReportBody {
    /// Clamped body for `(result, ip)`.
    fn from((result, ip): (&AnalysisResult, &str)) -> Self {
        ReportBody::new(result, ip, UsagePolicy::Clamp)
    }
}

impl From<(&AnalysisResult, &crate::selection::Batch)> for ReportBody {
    /// Clamped body for a result and the batch it came from (`ip` = the batch's host).
    fn from((result, batch): (&AnalysisResult, &crate::selection::Batch)) -> Self {
        ReportBody::new(result, batch.host().to_string(), UsagePolicy::Clamp)
    }
}

/// Idempotency key of a batch result: `tix:{user}:{installation}:{first_ts}-{last_ts}`, where the
/// timestamps are the oldest and newest record of the batch. Re-running the same batch after a
/// crash yields the same key, so a publisher can drop the duplicate.
pub fn idempotency_key(user_id: i64, installation_id: i64, first_ts: i64, last_ts: i64) -> String {
    format!("tix:{user_id}:{installation_id}:{first_ts}-{last_ts}")
}
