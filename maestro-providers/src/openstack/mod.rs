//! The `openstack` provider: crawls one OpenStack project through Keystone v3, Nova, Glance,
//! Cinder, Neutron and Octavia, and translates every answer with declarative mapping rules
//! (YAML files under `rules/`, the same engine as the AWS provider: [`crate::aws::rules`]).
//!
//! - **Auth**: Keystone v3 password method, token scoped to a project (id, or name + domain);
//!   the token comes from `X-Subject-Token`, the endpoints from the token's service catalogue
//!   (by service type, interface and region). The token is renewed a minute before it expires,
//!   and once when an API answers 401.
//! - **Scopes**: one per (task, region); each task's calls run one after the other.
//! - **Pagination**: `limit` + the answer's `next` link (`<collection>_links` or Glance's
//!   `next`), which must stay on the endpoint's host; `marker=<last id>` after a full page
//!   without a link.
//! - **Failures**: 429 and 5xx are retried by the pipeline (with `Retry-After`); a refused login
//!   fails every scope at once; a failed scope deactivates nothing.
//!
//! ```yaml
//! type: openstack
//! connection: os-prod
//! auth_url: https://keystone.example:5000/v3
//! username: maestro
//! password: ...
//! user_domain_id: default
//! project_id: 0c4e939acacf4376bdcd1129f1a054ad
//! regions: [RegionOne]
//! ```
//!
//! See `docs/providers/openstack.md` for every task, call and field.

pub mod calls;
mod config;
pub mod keystone;
mod provider;
mod translate;

#[cfg(test)]
mod tests;

pub use config::OpenStackConfig;
pub use provider::{FLAVOR_CACHE, OpenStackProvider};
pub use translate::{RULE_FILES, hook, rules, translator};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

/// Registry factory for `type: openstack`.
pub(crate) fn build(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: OpenStackConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    let dc = cfg.datacenter.clone().unwrap_or_else(|| cfg.connection.clone());
    let translator = match translator(&cfg.connection, &dc, cfg.compat) {
        Ok(t) => t,
        Err(e) => {
            errors.push(path.to_string(), format!("the embedded mapping rules do not compile: {e}"));
            return None;
        }
    };
    let connection = cfg.connection.clone();
    match OpenStackProvider::new(tenant, cfg) {
        Ok(p) => Some(Source { connection, provider: Box::new(p), translator: Box::new(translator) }),
        Err(e) => {
            errors.push(path.to_string(), e.message);
            None
        }
    }
}
