//! HTTP delivery outcomes shared by the HTTP publishers (`webhook`, `tix_api`).

use std::time::Duration;

use maestro_core::{PublishError, Retry};
use reqwest::{Response, StatusCode};

/// A request that got no answer: transient (the relay retries). The URL is left out of the
/// message, since it may carry credentials.
pub fn send_error(sink: &str, e: reqwest::Error) -> PublishError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    PublishError::transient(sink, format!("{what}: {e}")).with_source(e)
}

/// Any 2xx is success; 408, 429 and 5xx are transient (honouring a `Retry-After` in seconds);
/// every other status rejects the event (it is dead-lettered).
pub fn check_response(sink: &str, resp: &Response) -> Result<(), PublishError> {
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
    Err(classify(sink, status, retry_after))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify("s", StatusCode::SERVICE_UNAVAILABLE, None).retry, Retry::Backoff);
        assert_eq!(
            classify("s", StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(3))).retry,
            Retry::After(Duration::from_secs(3))
        );
        assert_eq!(classify("s", StatusCode::REQUEST_TIMEOUT, None).retry, Retry::Backoff);
        assert_eq!(classify("s", StatusCode::BAD_REQUEST, None).retry, Retry::Never);
        assert_eq!(classify("s", StatusCode::NOT_FOUND, None).retry, Retry::Never);
    }
}
