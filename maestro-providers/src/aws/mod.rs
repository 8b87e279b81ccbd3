//! The `aws` provider: crawls an AWS account (or any AWS-compatible endpoint) region by region
//! with a lean SigV4-signed client, and translates every answer with declarative mapping rules
//! (YAML files under `rules/`, embedded at build time; see [`rules`] for the vocabulary).
//!
//! Each (task, region) is one scope; global tasks (S3, CloudFront) are one region-less scope.
//! Within a scope every call is paginated with its own token style (NextToken, Marker /
//! NextMarker, LastEvaluatedTableName, position, continuation-token). Throttling, 5xx and
//! timeouts are retried by the pipeline; auth errors fail the scope at once; a failed scope
//! deactivates nothing.
//!
//! Identity: the AWS id as is when it is unique per account (`i-…`, `vol-…`, `sg-…`, ARNs, bucket
//! names); `<region>/<name>` for names that are only unique per region (classic ELB, DynamoDB
//! tables, SES identities, API Gateway ids). The core scopes every id by tenant + connection.
//!
//! ```yaml
//! type: aws
//! connection: aws-prod
//! datacenter: AWS production
//! access_key_id: AKIA...
//! secret_access_key: ...
//! regions: [us-east-1, "eu-west-1 (Ireland)"]
//! tasks: [server-list, volumes-list, network-list]   # default: every task
//! endpoint: http://127.0.0.1:5055                     # optional (moto, AWS-compatible clouds)
//! ```
//!
//! See `docs/providers/aws.md` for every task, API call, pagination style and field.

pub mod calls;
pub mod client;
mod config;
mod provider;
pub mod rules;
mod translate;
pub mod xml;

#[cfg(test)]
mod tests;

pub use config::{AwsConfig, region_of};
pub use provider::{AwsProvider, CALL_KEY, items_of};
pub use translate::{AwsTranslator, INSTANCE_TYPES, RULE_FILES, instance_type};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

/// Registry factory for `type: aws`.
pub(crate) fn build(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: AwsConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    let dc = cfg.datacenter.clone().unwrap_or_else(|| cfg.connection.clone());
    let translator = match AwsTranslator::new(&cfg.connection, &dc, cfg.compat) {
        Ok(t) => t,
        Err(e) => {
            errors.push(path.to_string(), format!("the embedded mapping rules do not compile: {e}"));
            return None;
        }
    };
    let connection = cfg.connection.clone();
    match AwsProvider::new(tenant, cfg) {
        Ok(p) => Some(Source { connection, provider: Box::new(p), translator: Box::new(translator) }),
        Err(e) => {
            errors.push(path.to_string(), e.message);
            None
        }
    }
}
