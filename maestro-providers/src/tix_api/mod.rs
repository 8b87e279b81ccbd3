//! The `tix_api` publisher: delivers TiX results to the results API (`tix-api`).
//!
//! For every `tix.result` event (written by the [TiX processor](crate::tix)) it sends
//! `POST {proto}://{host}[:{port}]/api/user/{user}/installation/{installation}/reports` with the
//! original JSON body (`ReportBody`: `timestamp, version, upUsage, upQuality, downUsage,
//! downQuality, hurstUpRs, hurstUpWavelet, hurstDownRs, hurstDownWavelet, ip`, in that order),
//! HTTP Basic auth, and the headers `Idempotency-Key: tix:{user}:{installation}:{first}-{last}`
//! and `X-Maestro-Event-Id`. Other events (`tix.quarantined`, `tix.dropped`, resource events…)
//! are skipped and count as delivered.
//!
//! Any 2xx is success (the original counted 201 as a failure). 408, 429, 5xx, timeouts and
//! connection errors are transient: the relay keeps the event and retries with backoff, in
//! order. Other 4xx reject the event (dead-lettered, replayable). A `tix.result` event without
//! the fields above is rejected.
//!
//! ```yaml
//! type: tix_api
//! host: api.tix.example
//! port: 3001          # omitted from the URL when it is 80 (http) / 443 (https)
//! ssl: true
//! user: admin
//! password: "…"
//! timeout_secs: 10
//! ```
//!
//! The original environment variables map onto this config with [`TixApiConfig::from_env`].

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::TixApiConfig;
pub(crate) use config::parse_bool;
pub use publisher::{TixApiPublisher, TixApiRequest};

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: TixApiConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    match TixApiPublisher::new(cfg) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            errors.push(path, e.to_string());
            None
        }
    }
}
