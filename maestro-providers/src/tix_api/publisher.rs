use std::time::Duration;

use async_trait::async_trait;
use maestro_core::{Event, PublishError, Publisher, Retry};
use reqwest::StatusCode;
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

fn classify(sink: &str, status: StatusCode, retry_after: Option<Duration>) -> PublishError {
    let msg = format!("HTTP {status}");
    if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let mut e = PublishError::transient(sink, msg);
        if let Some(d) = retry_after {
            e.retry = Retry::After(d);
        }
        e
    } else {
        PublishError::rejected(sink, msg)
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
        let resp = builder.send().await.map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            };
            let e = e.without_url();
            PublishError::transient(&self.name, format!("{what}: {e}")).with_source(e)
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Err(classify(&self.name, status, retry_after))
    }
}
