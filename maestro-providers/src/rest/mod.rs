//! Shared pieces of the JSON REST cloud providers (`openstack`, `digitalocean`, `azure`):
//! a rate-limited HTTP client that classifies failures into [`ProviderErrorKind`]s, a secret
//! string that never shows in `Debug`, and a translator that runs the declarative mapping rules
//! of [`crate::aws::rules`] (the same engine and vocabulary as the AWS provider).
//!
//! Retries are not done here: the pipeline's retry layer (`maestro_core::layers::retry`) retries
//! every page whose error is throttled or transient, honouring `Retry-After`.
//!
//! [`ProviderErrorKind`]: maestro_core::ProviderErrorKind

mod client;
mod translate;

pub use client::{HttpAnswer, RestClient, check_status, parse_json, same_origin};
pub use translate::{Hook, RulesTranslator, compile_rules};

use serde::{Deserialize, Serialize};

/// A credential (password, token, client secret): `Debug` and `Display` print `<redacted>`.
///
/// ```
/// use maestro_providers::rest::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Validate the limits every REST provider shares; record problems under `path`.
pub(crate) fn validate_limits(
    path: &str,
    max_concurrency: usize,
    timeout_secs: f64,
    rate_limit: f64,
    errors: &mut maestro_core::ConfigErrors,
) {
    if max_concurrency == 0 || max_concurrency > 256 {
        errors.push(format!("{path}.max_concurrency"), format!("must be 1..=256, got {max_concurrency}"));
    }
    if !(timeout_secs.is_finite() && timeout_secs > 0.0 && timeout_secs <= 600.0) {
        errors.push(format!("{path}.timeout_secs"), format!("must be within (0, 600], got {timeout_secs}"));
    }
    if !(rate_limit.is_finite() && rate_limit >= 0.0) {
        errors.push(
            format!("{path}.rate_limit"),
            format!("must be >= 0 requests per second (0 = none), got {rate_limit}"),
        );
    }
}

/// Validate an `http(s)` URL field.
pub(crate) fn validate_url(path: &str, value: &str, errors: &mut maestro_core::ConfigErrors) {
    match reqwest::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        Ok(u) => errors.push(path.to_string(), format!("scheme `{}` is not http or https", u.scheme())),
        Err(e) => errors.push(path.to_string(), format!("`{value}` is not a URL: {e}")),
    }
}
