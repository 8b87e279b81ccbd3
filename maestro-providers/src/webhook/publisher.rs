use std::time::Duration;

use async_trait::async_trait;

use crate::util::http::{check_response, send_error};
use maestro_core::event::kinds;
use maestro_core::{Event, PublishError, Publisher};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::config::{WebhookConfig, WebhookMode};
use crate::util::path_segment;

/// Delivers events over HTTP (see the module doc).
pub struct WebhookPublisher {
    name: String,
    config: WebhookConfig,
    client: reqwest::Client,
}

impl WebhookPublisher {
    /// Build the client.
    ///
    /// # Errors
    /// A header value that is not valid in HTTP, or a TLS backend that cannot start.
    pub fn new(config: WebhookConfig) -> Result<Self, PublishError> {
        let name = config.sink_name();
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let hn = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| PublishError::rejected(&name, format!("header `{k}`: {e}")))?;
            let mut hv = HeaderValue::from_str(v).map_err(|_| {
                PublishError::rejected(&name, format!("header `{k}` has a value that is not valid in HTTP"))
            })?;
            hv.set_sensitive(true);
            headers.insert(hn, hv);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs_f64(config.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(config.timeout_secs.min(10.0)))
            .user_agent(concat!("maestro/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PublishError::rejected(&name, format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { name, config, client })
    }

    /// What to send for `event`: method, URL and body; `None` to skip it.
    fn request_for(&self, event: &Event) -> Option<(Method, String, Value)> {
        match self.config.mode {
            WebhookMode::Events => {
                Some((Method::POST, self.config.url.clone(), serde_json::to_value(event).expect("events serialise")))
            }
            WebhookMode::Audit => {
                let key = &event.payload["key"];
                let kind = key["kind"].as_str()?;
                let id = key["native_id"].as_str()?;
                let url = format!(
                    "{}/audit/{}/{}",
                    self.config.url.trim_end_matches('/'),
                    path_segment(&entity(kind)),
                    path_segment(id)
                );
                match event.kind.as_str() {
                    kinds::RESOURCE_CREATED => Some((Method::POST, url, event.payload["document"].clone())),
                    kinds::RESOURCE_UPDATED => Some((Method::PUT, url, event.payload["document"].clone())),
                    kinds::RESOURCE_DEACTIVATED => Some((
                        Method::PUT,
                        url,
                        json!({"active": false, "missing_since": event.payload["missing_since"]}),
                    )),
                    kinds::RESOURCE_REACTIVATED => Some((Method::PUT, url, json!({"active": true}))),
                    _ => None,
                }
            }
        }
    }
}

/// The original collection name of a kind (`server` → `servers`).
fn entity(kind: &str) -> String {
    format!("{kind}s")
}

#[async_trait]
impl Publisher for WebhookPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let Some((method, url, body)) = self.request_for(event) else {
            return Ok(());
        };
        let resp = self
            .client
            .request(method, &url)
            .header("Idempotency-Key", event.id.to_string())
            .header("X-Maestro-Event", &event.kind)
            .json(&body)
            .send()
            .await
            .map_err(|e| send_error(&self.name, e))?;
        check_response(&self.name, &resp)
    }
}
