//! The `digitalocean` provider: crawls one DigitalOcean account with an API token (droplets,
//! volumes, private images, load balancers, snapshots, firewalls, CDN endpoints, Kubernetes
//! clusters) and translates every answer with declarative mapping rules (YAML files under
//! `rules/`, the engine of [`crate::aws::rules`]).
//!
//! Every list is followed to its end through `links.pages.next` (the original fetched only the
//! first page); a next link must stay on the API host. 429 and 5xx are retried by the pipeline
//! (with `Retry-After`); a refused token fails every scope; a failed scope deactivates nothing.
//! Spaces (S3-compatible object storage) is crawled with the `aws` provider pointed at
//! `https://<region>.digitaloceanspaces.com`.
//!
//! ```yaml
//! type: digitalocean
//! connection: do-prod
//! token: dop_v1_...
//! tasks: [server-list, volumes-list]   # default: every task
//! ```
//!
//! See `docs/providers/digitalocean.md` for every task and field.

mod config;
mod provider;
mod translate;

#[cfg(test)]
mod tests;

pub use config::DigitalOceanConfig;
pub use provider::{DigitalOceanProvider, TASKS, Task};
pub use translate::{RULE_FILES, hook, rules, translator};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

/// Registry factory for `type: digitalocean`.
pub(crate) fn build(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: DigitalOceanConfig = parse_config(value, path, errors)?;
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
    match DigitalOceanProvider::new(tenant, cfg) {
        Ok(p) => Some(Source { connection, provider: Box::new(p), translator: Box::new(translator) }),
        Err(e) => {
            errors.push(path.to_string(), e.message);
            None
        }
    }
}
