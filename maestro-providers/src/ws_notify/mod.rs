//! The `ws_notify` publisher: tells the original websocket service (Centrifugo v2 behind
//! `MAESTRO_WEBSOCKET_URI`) what the old crawler told it, for teams that keep that service and
//! its UI.
//!
//! The original (`ws.api`, SPEC §2.8.8) sent, after each synced task:
//!
//! ```text
//! POST {url}/api
//! Authorization: apikey <secret>
//! {"method": "publish", "params": {"channel": "maestro-<owner>", "data": {
//!     "notify": {"title": "<connection>", "msg": "Finish Sync - [<provider>] <task>", "type": "success|warning|danger"},
//!     "event": {"caller": ["connections-update", "connections-<connection>"]}}}}
//! ```
//!
//! This publisher sends exactly that for `run.finished` (`success` for a complete run,
//! `warning` partial, `danger` failed) and, for `graph.finished`, the analytics callers
//! `["analytics-update", "analytics-<graph id>"]`. Other events are skipped (counted as
//! delivered). The channel is `<channel_prefix><tenant>`.
//!
//! Outcomes: any 2xx without an `error` in the body is success; Centrifugo's `error` with code
//! 100 (internal) is transient, any other error code rejects the event; HTTP statuses as the
//! webhook publisher (408, 429, 5xx and network errors transient; other 4xx rejected).
//!
//! ```yaml
//! type: ws_notify
//! url: http://localhost:8000          # MAESTRO_WEBSOCKET_URI
//! secret: wsSecretKey                 # MAESTRO_WEBSOCKET_SECRET (never logged)
//! channel_prefix: maestro-            # default
//! timeout_secs: 10
//! ```

mod config;
mod publisher;

#[cfg(test)]
mod tests;

pub use config::WsNotifyConfig;
pub use publisher::WsNotifyPublisher;

use std::sync::Arc;

use maestro_core::{ConfigErrors, Publisher};
use serde_json::Value;

use crate::util::parse_config;

pub(crate) fn build(_tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Arc<dyn Publisher>> {
    let cfg: WsNotifyConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    match WsNotifyPublisher::new(cfg) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            errors.push(path, e.to_string());
            None
        }
    }
}
