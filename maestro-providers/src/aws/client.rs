//! A lean AWS client: SigV4 signing (`aws-sigv4`) over reqwest, a per-connection concurrency
//! limit, and error classification into [`ProviderErrorKind`]s. No per-service SDK.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials as SigningCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use maestro_core::layers::RateLimiter;
use maestro_core::{ProviderError, ProviderErrorKind};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;

/// Access key, secret and optional session token. `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (shown in `Debug`: it is an identifier, not a secret).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One HTTP request to an AWS service, before signing.
#[derive(Debug, Clone)]
pub struct AwsRequest {
    /// Signing name (`ec2`, `elasticloadbalancing`, `s3`, …).
    pub service: &'static str,
    /// Host prefix of the public endpoint (`ec2`, `elasticloadbalancing`, `s3`, …).
    pub host_prefix: &'static str,
    /// Region to sign for.
    pub region: String,
    /// `GET` or `POST`.
    pub method: Method,
    /// Path and query (starts with `/`).
    pub path_and_query: String,
    /// Extra headers (content type, `X-Amz-Target`).
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// What a service answered.
#[derive(Debug, Clone)]
pub struct AwsResponse {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A signed-request client for one connection.
pub struct AwsClient {
    http: reqwest::Client,
    credentials: Credentials,
    endpoint: Option<String>,
    limit: Arc<Semaphore>,
    rate: Option<RateLimiter>,
    requests: AtomicU64,
}

impl std::fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClient")
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl AwsClient {
    /// A client with `max_concurrency` requests in flight at most and `timeout` per request.
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS backend).
    pub fn new(
        credentials: Credentials,
        endpoint: Option<String>,
        max_concurrency: usize,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("maestro/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            credentials,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            limit: Arc::new(Semaphore::new(max_concurrency.max(1))),
            rate: None,
            requests: AtomicU64::new(0),
        })
    }

    /// Start at most `per_second` requests per second (burst: one per concurrency slot).
    #[must_use]
    pub fn with_rate_limit(mut self, per_second: Option<f64>) -> Self {
        let burst = u32::try_from(self.limit.available_permits()).unwrap_or(1);
        self.rate = per_second.filter(|r| r.is_finite() && *r > 0.0).map(|r| RateLimiter::new(r, burst));
        self
    }

    /// Requests sent so far (including failed ones).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn base_url(&self, req: &AwsRequest) -> String {
        match &self.endpoint {
            Some(e) => e.clone(),
            None => match req.host_prefix {
                "cloudfront" => "https://cloudfront.amazonaws.com".to_string(),
                p => format!("https://{p}.{}.amazonaws.com", req.region),
            },
        }
    }

    /// Sign and send `req`; classify failures. Waits for a concurrency permit first.
    ///
    /// # Errors
    /// Classified [`ProviderError`]s: throttling, transient (5xx, timeouts, connection errors),
    /// auth (401/403 and AWS auth codes), invalid (other 4xx).
    pub async fn send(&self, req: &AwsRequest) -> Result<AwsResponse, ProviderError> {
        let _permit = self.limit.acquire().await.map_err(|_| ProviderError::transient("client is shutting down"))?;
        if let Some(rate) = &self.rate {
            rate.acquire().await;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.base_url(req), req.path_and_query);
        let signed = sign_request(&self.credentials, req, &url, SystemTime::now())?;
        let mut builder = self.http.request(req.method.clone(), &url);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v);
        }
        for (k, v, sensitive) in signed {
            let mut hv = reqwest::header::HeaderValue::from_str(&v)
                .map_err(|_| ProviderError::invalid(format!("signed header `{k}` is not valid HTTP")))?;
            hv.set_sensitive(sensitive || k.eq_ignore_ascii_case("authorization"));
            builder = builder.header(k, hv);
        }
        let what = format!("{} {} in {}", req.service, action_of(req), req.region);
        let resp = builder.body(req.body.clone()).send().await.map_err(|e| {
            let kind = if e.is_timeout() { "timed out" } else { "failed" };
            ProviderError::transient(format!("{what}: request {kind}: {}", without_url(&e)))
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp
            .bytes()
            .await
            .map_err(|e| ProviderError::transient(format!("{what}: reading the answer failed: {}", without_url(&e))))?
            .to_vec();
        if (200..300).contains(&status) {
            return Ok(AwsResponse { status, body });
        }
        let mut err = classify(status, &body, &what);
        if let Some(after) = retry_after {
            err = err.with_retry_after(after);
        }
        Err(err)
    }
}

fn without_url(e: &reqwest::Error) -> String {
    // reqwest errors carry the URL; ours never hold secrets, but keep messages short.
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<endpoint>");
    }
    s
}

fn action_of(req: &AwsRequest) -> String {
    if let Some((_, t)) = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")) {
        return t.clone();
    }
    let body = String::from_utf8_lossy(&req.body);
    for part in body.split('&') {
        if let Some(a) = part.strip_prefix("Action=") {
            return a.to_string();
        }
    }
    format!("{} {}", req.method, req.path_and_query.split('?').next().unwrap_or(""))
}

/// Sign `req` for `url`; returns the headers to add (name, value, sensitive).
///
/// # Errors
/// The request cannot be signed (invalid URL or header).
pub fn sign_request(
    credentials: &Credentials,
    req: &AwsRequest,
    url: &str,
    at: SystemTime,
) -> Result<Vec<(&'static str, String, bool)>, ProviderError> {
    let identity: Identity = SigningCredentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "maestro-connection",
    )
    .into();
    let mut settings = SigningSettings::default();
    if req.service == "s3" {
        // S3 signs the payload hash in `x-amz-content-sha256`, and its canonical URI is the path
        // as sent: encoded once, never normalised (an object key may hold `//` or `..`).
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&req.region)
        .name(req.service)
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| ProviderError::invalid(format!("cannot sign: {e}")))?
        .into();
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signable = SignableRequest::new(req.method.as_str(), url, headers.into_iter(), SignableBody::Bytes(&req.body))
        .map_err(|e| ProviderError::invalid(format!("cannot sign: {e}")))?;
    let (instructions, _signature) =
        sign(signable, &params).map_err(|e| ProviderError::invalid(format!("cannot sign: {e}")))?.into_parts();
    let (headers, _params) = instructions.into_parts();
    Ok(headers.into_iter().map(|h| (h.name(), h.value().to_string(), h.sensitive())).collect())
}

/// AWS error codes that mean "slow down".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// AWS error codes that mean "your credentials are wrong".
const AUTH: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "OptInRequired",
];

/// The AWS error code and message of an error body (Query XML, REST XML or JSON).
pub fn error_code(body: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
            let code = v
                .get("__type")
                .or_else(|| v.get("code"))
                .or_else(|| v.get("Code"))
                .and_then(Value::as_str)
                .map(|t| t.rsplit('#').next().unwrap_or(t).split(':').next().unwrap_or(t).to_string());
            let msg = v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).map(str::to_string);
            return (code, msg);
        }
        return (None, None);
    }
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&close)? + start;
        Some(text[start..end].to_string())
    };
    (tag("Code"), tag("Message"))
}

/// Classify a non-2xx answer.
pub fn classify(status: u16, body: &[u8], what: &str) -> ProviderError {
    let (code, message) = error_code(body);
    let detail = match (&code, &message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, _) => {
            let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
            if snippet.trim().is_empty() { "no error body".to_string() } else { snippet }
        }
    };
    let msg = format!("{what}: HTTP {status}: {detail}");
    let code = code.as_deref().unwrap_or("");
    let kind = if THROTTLING.contains(&code) || status == 429 || status == 503 {
        ProviderErrorKind::Throttled
    } else if AUTH.contains(&code) || status == 401 || status == 403 {
        ProviderErrorKind::Auth
    } else if status >= 500 {
        ProviderErrorKind::Transient
    } else {
        ProviderErrorKind::Invalid
    };
    ProviderError::new(kind, msg)
}
