//! Authentication and tenancy.
//!
//! - `Authorization: Bearer <jwt>`: HS256, signed with `MAESTRO_SECRETJWT`; `exp` is required
//!   and enforced; the `tenant` claim names the only tenant the caller sees.
//! - `Authorization: JWT <token>`: the original private service token, HS256 signed with
//!   `MAESTRO_SECRETJWT_PRIVATE` (or `MAESTRO_SECRETJWT` when that is unset), accepted when its
//!   `noauth` claim equals `MAESTRO_NOAUTH` (it has no `exp`; one is enforced if present). A
//!   service acts for the tenant in the `X-Maestro-Tenant` header, else its `tenant` claim,
//!   else `default`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::ApiState;
use super::error::ApiError;
use super::ids::check_id;

/// The claims maestro reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Tenant the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Subject (user or service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// The original private service token's shared value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noauth: Option<String>,
}

/// Keys and shared values for verifying tokens.
#[derive(Clone)]
pub struct AuthConfig {
    bearer: Option<DecodingKey>,
    private: Option<DecodingKey>,
    noauth: Option<String>,
    metrics_token: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("bearer", &self.bearer.is_some())
            .field("private", &self.private.is_some())
            .field("noauth", &self.noauth.is_some())
            .field("metrics_token", &self.metrics_token.is_some())
            .finish()
    }
}

impl AuthConfig {
    /// From secrets: the bearer JWT secret, the private-token secret (defaults to the bearer
    /// one), the `noauth` value (private tokens are refused when `None`) and the metrics token.
    pub fn new(
        jwt_secret: Option<&str>,
        private_secret: Option<&str>,
        noauth: Option<&str>,
        metrics_token: Option<&str>,
    ) -> Self {
        let key = |s: &str| DecodingKey::from_secret(s.as_bytes());
        Self {
            bearer: jwt_secret.filter(|s| !s.is_empty()).map(key),
            private: private_secret.or(jwt_secret).filter(|s| !s.is_empty()).map(key),
            noauth: noauth.filter(|s| !s.is_empty()).map(str::to_string),
            metrics_token: metrics_token.filter(|s| !s.is_empty()).map(str::to_string),
        }
    }

    /// From `MAESTRO_SECRETJWT`, `MAESTRO_SECRETJWT_PRIVATE`, `MAESTRO_NOAUTH`, `MAESTRO_METRICS_TOKEN`.
    pub fn from_env() -> Self {
        let v = |k: &str| std::env::var(k).ok();
        Self::new(
            v("MAESTRO_SECRETJWT").as_deref(),
            v("MAESTRO_SECRETJWT_PRIVATE").as_deref(),
            v("MAESTRO_NOAUTH").as_deref(),
            v("MAESTRO_METRICS_TOKEN").as_deref(),
        )
    }

    /// Check the `Authorization` header of a request to `/metrics`.
    ///
    /// # Errors
    /// 401 when a metrics token is configured and not given.
    pub fn check_metrics(&self, header: Option<&str>) -> Result<(), ApiError> {
        match &self.metrics_token {
            None => Ok(()),
            Some(t) => match header.and_then(|h| h.strip_prefix("Bearer ")) {
                Some(given) if constant_eq(given.trim().as_bytes(), t.as_bytes()) => Ok(()),
                _ => Err(ApiError::Unauthorized("metrics need `Authorization: Bearer <MAESTRO_METRICS_TOKEN>`".into())),
            },
        }
    }

    /// Authenticate an `Authorization` header value (and the `X-Maestro-Tenant` header for
    /// service tokens).
    ///
    /// # Errors
    /// 401 naming the problem (missing, bad scheme, bad signature, expired, missing tenant).
    pub fn authenticate(&self, header: Option<&str>, tenant_header: Option<&str>) -> Result<Principal, ApiError> {
        let Some(h) = header else {
            return Err(ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into()));
        };
        if let Some(token) = h.strip_prefix("Bearer ") {
            let key = self.bearer.as_ref().ok_or_else(|| {
                ApiError::Unauthorized("bearer tokens are disabled: MAESTRO_SECRETJWT is not set".into())
            })?;
            let mut v = Validation::new(Algorithm::HS256);
            v.set_required_spec_claims(&["exp"]);
            v.leeway = 0;
            let claims = decode(token.trim(), key, &v)?;
            let tenant = claims.tenant.ok_or_else(|| ApiError::Unauthorized("token has no `tenant` claim".into()))?;
            check_id("tenant", &tenant).map_err(|e| ApiError::Unauthorized(format!("token: {e}")))?;
            Ok(Principal { tenant, service: false })
        } else if let Some(token) = h.strip_prefix("JWT ") {
            let (Some(key), Some(noauth)) = (&self.private, &self.noauth) else {
                return Err(ApiError::Unauthorized("service tokens are disabled: MAESTRO_NOAUTH is not set".into()));
            };
            let mut v = Validation::new(Algorithm::HS256);
            v.set_required_spec_claims::<&str>(&[]);
            v.leeway = 0;
            let claims = decode(token.trim(), key, &v)?;
            match claims.noauth.as_deref() {
                Some(n) if constant_eq(n.as_bytes(), noauth.as_bytes()) => {}
                _ => return Err(ApiError::Unauthorized("service token: `noauth` does not match".into())),
            }
            let tenant = tenant_header.map(str::to_string).or(claims.tenant).unwrap_or_else(|| "default".into());
            check_id("tenant", &tenant)?;
            Ok(Principal { tenant, service: true })
        } else {
            Err(ApiError::Unauthorized("unsupported Authorization scheme: use `Bearer <token>`".into()))
        }
    }
}

fn decode(token: &str, key: &DecodingKey, v: &Validation) -> Result<Claims, ApiError> {
    use jsonwebtoken::errors::ErrorKind;
    jsonwebtoken::decode::<Claims>(token, key, v).map(|d| d.claims).map_err(|e| {
        ApiError::Unauthorized(
            match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::InvalidSignature => "token signature is invalid",
                ErrorKind::MissingRequiredClaim(_) => "token has no `exp` claim",
                ErrorKind::InvalidAlgorithm => "token algorithm must be HS256",
                _ => "token is malformed",
            }
            .into(),
        )
    })
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who is calling: the tenant every read and write is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant.
    pub tenant: String,
    /// A service token (`Authorization: JWT …`) rather than a user bearer token.
    pub service: bool,
}

impl Principal {
    /// Refuse a path that names another tenant.
    ///
    /// # Errors
    /// 403.
    pub fn same_tenant(&self, tenant: &str) -> Result<(), ApiError> {
        if tenant == self.tenant {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this token is for tenant `{}`, not `{tenant}`", self.tenant)))
        }
    }
}

impl FromRequestParts<ApiState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let tenant = parts.headers.get("x-maestro-tenant").and_then(|v| v.to_str().ok());
        state.inner.auth.authenticate(header, tenant)
    }
}

/// Sign a bearer token (for tests, tools and the benchmark).
///
/// # Errors
/// Never for HS256 with these claims.
///
/// # Examples
/// ```
/// use maestro_server::api::auth::{AuthConfig, issue_token};
/// let token = issue_token("secret", "acme", 3600).unwrap();
/// let auth = AuthConfig::new(Some("secret"), None, None, None);
/// let who = auth.authenticate(Some(&format!("Bearer {token}")), None).unwrap();
/// assert_eq!(who.tenant, "acme");
/// ```
pub fn issue_token(secret: &str, tenant: &str, ttl_secs: i64) -> Result<String, jsonwebtoken::errors::Error> {
    let exp = (chrono::Utc::now().timestamp() + ttl_secs).max(0) as u64;
    let claims = Claims { tenant: Some(tenant.into()), sub: None, exp: Some(exp), noauth: None };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
}
