use std::time::Duration;

use async_trait::async_trait;

use crate::util::http::{check_response, send_error};
use maestro_core::{Event, PublishError, Publisher};
use serde_json::Value;

use super::config::TixApiConfig;
use crate::tix::event::TIX_RESULT;

/// Posts `tix.result` events to the TiX results API (see the module doc).
pub struct TixApiPublisher {
    name: String,
    config: TixApiConfig,
    client: reqwest::Client,
}

impl std::fmt::Debug for TixApiPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TixApiPublisher").field("name", &self.name).field("config", &self.config).finish()
    }
}

/// What [`TixApiPublisher`] sends for one `tix.result` event.
#[derive(Debug, Clone, PartialEq)]
pub struct TixApiRequest {
    /// The full URL.
    pub url: String,
    /// The original API body (`ReportBody` JSON, keys in the reference order).
    pub body: Value,
    /// The batch's idempotency key (`tix:{user}:{installation}:{first}-{last}`).
    pub idempotency_key: String,
}

impl TixApiPublisher {
    /// Build the client.
    ///
    /// # Errors
    /// A TLS backend that cannot start (rejected: configuration problem).
    pub fn new(config: TixApiConfig) -> Result<Self, PublishError> {
        let name = config.sink_name();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(config.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(config.timeout_secs.min(10.0)))
            .user_agent(concat!("maestro-tix/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PublishError::rejected(&name, format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { name, config, client })
    }

    /// The configuration.
    pub fn config(&self) -> &TixApiConfig {
        &self.config
    }

    /// The request for `event`: `Ok(None)` for events that are not `tix.result` (skipped).
    ///
    /// # Errors
    /// A `tix.result` event whose payload lacks `user`, `installation`, `key` or `body`
    /// (rejected: it can never be delivered).
    pub fn request_for(&self, event: &Event) -> Result<Option<TixApiRequest>, PublishError> {
        if event.kind != TIX_RESULT {
            return Ok(None);
        }
        let p = &event.payload;
        let field = |k: &str| {
            p.get(k).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                PublishError::rejected(&self.name, format!("event {}: payload has no string `{k}`", event.id))
            })
        };
        let user = field("user")?;
        let installation = field("installation")?;
        let idempotency_key = field("key")?;
        let body = match p.get("body") {
            Some(b @ Value::Object(_)) => b.clone(),
            _ => {
                return Err(PublishError::rejected(
                    &self.name,
                    format!("event {}: payload has no `body` object", event.id),
                ));
            }
        };
        Ok(Some(TixApiRequest { url: self.config.reports_url(&user, &installation), body, idempotency_key }))
    }
}

#[async_trait]
impl Publisher for TixApiPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let Some(req) = self.request_for(event)? else {
            return Ok(());
        };
        let mut builder = self
            .client
            .post(&req.url)
            .header("Idempotency-Key", &req.idempotency_key)
            .header("X-Maestro-Event-Id", event.id.to_string())
            .json(&req.body);
        if let (Some(user), Some(password)) = (&self.config.user, &self.config.password) {
            builder = builder.basic_auth(user, Some(password));
        }
        let resp = builder.send().await.map_err(|e| send_error(&self.name, e))?;
        check_response(&self.name, &resp)
    }
}
