//! A JSON REST client for one connection: a concurrency limit, a request-rate limit, a timeout
//! on every request, and classification of failures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use maestro_core::{ProviderError, ProviderErrorKind};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

/// What a server answered (any status).
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A rate-limited HTTP client for one connection.
///
/// At most `max_concurrency` requests are in flight, request starts are spaced by
/// `1 / rate_limit` seconds (0 = no spacing), and every request has a time limit.
pub struct RestClient {
    http: reqwest::Client,
    limit: Semaphore,
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
    requests: AtomicU64,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("interval", &self.interval)
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client; `rate_limit` is in requests per second (0 = unlimited).
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS backend).
    pub fn new(max_concurrency: usize, timeout: Duration, rate_limit: f64) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("maestro/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry our bearer token elsewhere: never follow them.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::invalid(format!("cannot build the HTTP client: {e}")))?;
        let interval = (rate_limit > 0.0).then(|| Duration::from_secs_f64(1.0 / rate_limit));
        Ok(Self {
            http,
            limit: Semaphore::new(max_concurrency.max(1)),
            interval,
            next_slot: Mutex::new(Instant::now()),
            requests: AtomicU64::new(0),
        })
    }

    /// The underlying reqwest client (to build requests).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Requests sent so far (including failed ones).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    async fn pace(&self) {
        let Some(interval) = self.interval else { return };
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + interval;
    }

    /// Send `req` (after a concurrency permit and a rate slot). Any HTTP status is returned as
    /// an answer; only a request that got no answer is an error (transient). `what` names the
    /// call in messages; the URL is never put in messages (it may carry a signature).
    ///
    /// # Errors
    /// Timeouts and connection failures ([`ProviderErrorKind::Transient`]).
    pub async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<HttpAnswer, ProviderError> {
        let _permit = self.limit.acquire().await.map_err(|_| ProviderError::transient("client is shutting down"))?;
        self.pace().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(|e| {
            let kind = if e.is_timeout() { "timed out" } else { "failed" };
            ProviderError::transient(format!("{what}: request {kind}: {}", e.without_url()))
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ProviderError::transient(format!("{what}: reading the answer failed: {}", e.without_url())))?
            .to_vec();
        Ok(HttpAnswer { status, headers, body })
    }
}

/// The server's own error message, from the usual JSON error shapes (OpenStack
/// `{"itemNotFound": {"message"}}`, `{"error": {"message"}}`, DigitalOcean `{"id", "message"}`,
/// Azure `{"error": {"code", "message"}}`, OAuth `{"error_description"}`, Octavia
/// `{"faultstring"}`), else the first 200 characters of the body.
fn error_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let direct = ["message", "error_description", "faultstring"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string));
        if let Some(m) = direct {
            return m;
        }
        if let Some(o) = v.as_object() {
            for (k, inner) in o {
                if let Some(m) = inner.get("message").and_then(Value::as_str) {
                    let code = inner.get("code").and_then(Value::as_str).unwrap_or(k);
                    return format!("{code}: {m}");
                }
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                return e.to_string();
            }
        }
    }
    let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
    if snippet.trim().is_empty() { "no error body".to_string() } else { snippet }
}

/// `Ok` for a 2xx answer; else a classified error: 429 → throttled (with `Retry-After`),
/// 5xx and 408 → transient, 401/403 → auth, other 4xx → invalid.
///
/// # Errors
/// The classified error, naming `what`, the status and the server's message.
pub fn check_status(ans: &HttpAnswer, what: &str) -> Result<(), ProviderError> {
    let status = ans.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let kind = match status {
        429 => ProviderErrorKind::Throttled,
        401 | 403 => ProviderErrorKind::Auth,
        408 | 500..=599 => ProviderErrorKind::Transient,
        _ => ProviderErrorKind::Invalid,
    };
    let mut err = ProviderError::new(kind, format!("{what}: HTTP {status}: {}", error_detail(&ans.body)));
    let retry_after = ans
        .headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if let Some(after) = retry_after {
        err = err.with_retry_after(after);
    }
    Err(err)
}

/// Parse a JSON body.
///
/// # Errors
/// [`ProviderErrorKind::Malformed`] with the parser's line and column.
pub fn parse_json(body: &[u8], what: &str) -> Result<Value, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::malformed(format!("{what}: invalid JSON: {e}")))
}

/// Whether two URLs have the same scheme, host and port (a `next` link must stay on the
/// endpoint the token was meant for).
pub fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str, retry_after: Option<&str>) -> HttpAnswer {
        let mut headers = HeaderMap::new();
        if let Some(r) = retry_after {
            headers.insert(reqwest::header::RETRY_AFTER, r.parse().unwrap());
        }
        HttpAnswer { status, headers, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn statuses_are_classified_with_the_server_message() {
        assert!(check_status(&answer(200, "{}", None), "x").is_ok());
        let e = check_status(&answer(429, "{}", Some("7")), "list").unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        let e = check_status(&answer(401, r#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#, None), "auth").unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Auth);
        assert!(e.message.contains("requires authentication"), "{}", e.message);
        let e = check_status(&answer(503, "", None), "x").unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Transient);
        assert!(e.message.contains("no error body"));
        let e =
            check_status(&answer(404, r#"{"itemNotFound": {"message": "gone", "code": 404}}"#, None), "x").unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Invalid);
        assert!(e.message.contains("gone"), "{}", e.message);
        let e = check_status(
            &answer(
                400,
                r#"{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}"#,
                None,
            ),
            "x",
        )
        .unwrap_err();
        assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
    }

    #[test]
    fn malformed_json_names_the_position() {
        let e = parse_json(b"{\"servers\": [1,", "nova servers").unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Malformed);
        assert!(e.message.contains("nova servers") && e.message.contains("line 1"), "{}", e.message);
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(same_origin(&u("https://a.example/v2/x"), &u("https://a.example:443/y?z=1")));
        assert!(!same_origin(&u("https://a.example/"), &u("https://b.example/")));
        assert!(!same_origin(&u("http://a.example/"), &u("https://a.example/")));
        assert!(!same_origin(&u("http://127.0.0.1:1/"), &u("http://127.0.0.1:2/")));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_rate_limit() {
        let c = RestClient::new(4, Duration::from_secs(1), 2.0).unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            c.pace().await;
        }
        // Three starts at 2/s: the third waits until 1 s (paused clock: exact).
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }
}
