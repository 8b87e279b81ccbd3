use std::time::Duration;

use async_trait::async_trait;
use maestro_core::event::kinds;
use maestro_core::{Event, PublishError, Publisher};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::config::WsNotifyConfig;
use crate::util::http::{check_response, send_error};

/// Publishes run and graph notifications to the original websocket service (see the module doc).
pub struct WsNotifyPublisher {
    name: String,
    endpoint: String,
    prefix: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for WsNotifyPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsNotifyPublisher").field("name", &self.name).field("endpoint", &self.endpoint).finish()
    }
}

impl WsNotifyPublisher {
    /// Build the client.
    ///
    /// # Errors
    /// A secret that is not a valid header value, or a TLS backend that cannot start.
    pub fn new(config: WsNotifyConfig) -> Result<Self, PublishError> {
        let name = config.sink_name();
        let mut auth = HeaderValue::from_str(&format!("apikey {}", config.secret))
            .map_err(|_| PublishError::rejected(&name, "the secret is not valid in an HTTP header"))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs_f64(config.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(config.timeout_secs.min(10.0)))
            .user_agent(concat!("maestro/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PublishError::rejected(&name, format!("cannot build the HTTP client: {e}")))?;
        let endpoint = format!("{}/api", config.url.trim_end_matches('/'));
        Ok(Self { name, endpoint, prefix: config.channel_prefix, client })
    }

    /// The Centrifugo `publish` command for `event`, or `None` to skip it.
    pub fn command_for(&self, event: &Event) -> Option<Value> {
        let channel = format!("{}{}", self.prefix, event.tenant);
        let data = match event.kind.as_str() {
            kinds::RUN_FINISHED => {
                let p = &event.payload;
                let connection = p["connection"].as_str().unwrap_or("");
                let provider = p["provider"].as_str().unwrap_or("");
                let kind = match p["status"].as_str().unwrap_or("") {
                    "complete" => "success",
                    "partial" => "warning",
                    _ => "danger",
                };
                json!({
                    "notify": {"title": connection, "msg": format!("Finish Sync - [{provider}] {connection}"), "type": kind},
                    "event": {"caller": ["connections-update", format!("connections-{connection}")]},
                })
            }
            "graph.finished" => {
                let kind = match event.payload["status"].as_str().unwrap_or("") {
                    "Finished" => "success",
                    "Warning" => "warning",
                    _ => "danger",
                };
                json!({
                    "notify": {"title": event.subject, "msg": event.payload["msg"], "type": kind},
                    "event": {"caller": ["analytics-update", format!("analytics-{}", event.subject)]},
                })
            }
            _ => return None,
        };
        Some(json!({"method": "publish", "params": {"channel": channel, "data": data}}))
    }
}

#[async_trait]
impl Publisher for WsNotifyPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let Some(command) = self.command_for(event) else {
            return Ok(());
        };
        let resp =
            self.client.post(&self.endpoint).json(&command).send().await.map_err(|e| send_error(&self.name, e))?;
        check_response(&self.name, &resp)?;
        // Centrifugo answers API errors with 200 and `{"error": {"code", "message"}}`.
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        match body.get("error") {
            None | Some(Value::Null) => Ok(()),
            Some(err) => {
                let code = err["code"].as_u64().unwrap_or(0);
                let msg = format!("websocket service error {code}: {}", err["message"].as_str().unwrap_or(""));
                if code == 100 {
                    Err(PublishError::transient(&self.name, msg))
                } else {
                    Err(PublishError::rejected(&self.name, msg))
                }
            }
        }
    }
}
