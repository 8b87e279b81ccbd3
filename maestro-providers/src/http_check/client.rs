//! One HTTP check: request, time to headers, capped body, leaf certificate expiry.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::redirect::Policy;
use reqwest::{Client, Method};

use super::CheckError;
use super::config::CheckerConfig;

/// What one request gave.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// Final status code.
    pub status: Option<u16>,
    /// Milliseconds from sending until the response headers arrived.
    pub response_time_ms: Option<f64>,
    /// The body, at most `max_body_bytes`.
    pub body: Vec<u8>,
    /// The body was longer than the cap; the rest was not read.
    pub body_truncated: bool,
    /// Leaf certificate `notAfter` (https).
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// Why there is no (complete) response.
    pub error: Option<String>,
}

/// The HTTP clients of a checker: one following redirects, one not, and an insecure one used
/// only to read the certificate of a site whose certificate failed verification.
#[derive(Debug, Clone)]
pub struct HttpClient {
    follow: Client,
    no_follow: Client,
    cert_probe: Client,
    max_body_bytes: usize,
}

fn builder(config: &CheckerConfig) -> Result<reqwest::ClientBuilder, CheckError> {
    let mut b = Client::builder()
        .user_agent(config.user_agent.clone())
        .tls_info(true)
        .connect_timeout(Duration::from_millis(config.max_timeout_ms));
    if !config.reuse_connections {
        b = b.pool_max_idle_per_host(0);
    }
    for (i, pem) in config.extra_root_certificates.iter().enumerate() {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| CheckError::Client(format!("extra_root_certificates[{i}]: not a PEM certificate: {e}")))?;
        b = b.tls_certs_merge([cert]);
    }
    Ok(b)
}

impl HttpClient {
    /// Build the clients.
    ///
    /// # Errors
    /// A bad extra root certificate or a TLS backend that fails to initialise.
    pub fn new(config: &CheckerConfig) -> Result<Self, CheckError> {
        let build = |b: reqwest::ClientBuilder| {
            b.build().map_err(|e| CheckError::Client(format!("building the HTTP client: {e}")))
        };
        Ok(Self {
            follow: build(builder(config)?.redirect(Policy::limited(10)))?,
            no_follow: build(builder(config)?.redirect(Policy::none()))?,
            cert_probe: build(
                builder(config)?
                    .redirect(Policy::none())
                    .tls_danger_accept_invalid_certs(true)
                    .pool_max_idle_per_host(0),
            )?,
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// Request `url`. Never fails: every problem ends up in [`Probe::error`]. The whole request
    /// (connect, headers and body) is bounded by `timeout`.
    pub async fn probe(
        &self,
        method: &Method,
        url: &str,
        headers: &[(String, String)],
        follow_redirects: bool,
        timeout: Duration,
    ) -> Probe {
        let client = if follow_redirects { &self.follow } else { &self.no_follow };
        let mut probe = Probe::default();
        let started = Instant::now();
        let work = async {
            let mut req = client.request(method.clone(), url);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let mut resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    probe.error = Some(describe(&e));
                    if is_certificate_error(&e) {
                        probe.cert_expires_at = self.certificate_only(url).await;
                    }
                    return;
                }
            };
            probe.response_time_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            probe.status = Some(resp.status().as_u16());
            probe.cert_expires_at =
                resp.extensions().get::<reqwest::tls::TlsInfo>().and_then(|i| i.peer_certificate()).and_then(not_after);
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = self.max_body_bytes - probe.body.len();
                        if chunk.len() > room {
                            probe.body.extend_from_slice(&chunk[..room]);
                            probe.body_truncated = true;
                            break;
                        }
                        probe.body.extend_from_slice(&chunk);
                        if probe.body.len() == self.max_body_bytes {
                            // Exactly at the cap: truncated only if more follows.
                            probe.body_truncated = !matches!(resp.chunk().await, Ok(None));
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        probe.error = Some(format!("reading the body: {}", describe(&e)));
                        break;
                    }
                }
            }
        };
        if tokio::time::timeout(timeout, work).await.is_err() {
            let phase = if probe.status.is_some() { "reading the body" } else { "waiting for a response" };
            probe.error = Some(format!("timed out after {} ms {phase}", timeout.as_millis()));
        }
        probe
    }

    /// The leaf certificate's `notAfter`, read without verification (only after a verification
    /// failure, so an expired certificate's expiry is still recorded).
    async fn certificate_only(&self, url: &str) -> Option<DateTime<Utc>> {
        let resp = self.cert_probe.head(url).send().await.ok()?;
        resp.extensions().get::<reqwest::tls::TlsInfo>().and_then(|i| i.peer_certificate()).and_then(not_after)
    }
}

fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}

/// The error and its causes, `: `-joined (reqwest's top-level message alone hides the cause).
fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() { "timed out".to_string() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn is_certificate_error(e: &reqwest::Error) -> bool {
    let text = describe(e).to_ascii_lowercase();
    text.contains("certificate") || text.contains("unknownissuer") || text.contains("expired")
}
