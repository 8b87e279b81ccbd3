//! Helpers shared by providers and publishers.

#[cfg(any(feature = "webhook", feature = "tix", feature = "ws_notify"))]
pub mod http;
#[cfg(all(test, any(feature = "amqp", feature = "nats")))]
pub(crate) mod tcp_proxy;

use maestro_core::ConfigErrors;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserialize `value` into `T`, recording a failure with its exact field path under `path`.
pub fn parse_config<T: DeserializeOwned>(value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let at = if inner == "." || inner.is_empty() { path.to_string() } else { format!("{path}.{inner}") };
            errors.push(at, e.into_inner().to_string());
            None
        }
    }
}

/// Strip the original services' `#name::` reference prefix.
pub fn strip_ref(s: &str) -> &str {
    s.strip_prefix("#name::").unwrap_or(s)
}

/// `scheme://user:***@host…`: the password of a URL replaced (for logs and `Debug`).
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.rsplit_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

/// Percent-encode one URL path segment (so an id can never add a path segment).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_traverse() {
        assert_eq!(path_segment("../etc/passwd"), "..%2Fetc%2Fpasswd");
        assert_eq!(path_segment("i-0abc"), "i-0abc");
        assert_eq!(path_segment("a b"), "a%20b");
    }

    #[test]
    fn config_errors_carry_paths() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct C {
            a: u32,
        }
        let mut e = ConfigErrors::new();
        assert!(parse_config::<C>(&serde_json::json!({"a": "x"}), "root", &mut e).is_none());
        assert_eq!(e.problems[0].0, "root.a");
        let mut e = ConfigErrors::new();
        assert!(parse_config::<C>(&serde_json::json!({"a": 1, "b": 2}), "root", &mut e).is_none());
        assert!(e.problems[0].1.contains("unknown field `b`"), "{:?}", e);
    }
}
