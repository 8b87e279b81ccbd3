//! The `azure` provider: crawls one Azure subscription through Azure Resource Manager with an
//! OAuth2 client-credentials token (virtual machines, managed disks, snapshots, images, network
//! interfaces, public IPs, route tables, virtual networks) and translates every answer with
//! declarative mapping rules (YAML files under `rules/`, the engine of [`crate::aws::rules`]).
//!
//! Lists follow ARM's `nextLink` (the original chunked one SDK iterator client-side). VM IPs are
//! resolved from the subscription's NICs and public IPs *before* the VMs are returned, so they
//! carry `ipv4_private` when identity and merge need it (the original resolved them in a
//! post-merge hook, so its Azure server import never succeeded). cpu/memory come from the VM
//! sizes catalogue shipped in `vm_sizes.tsv`.
//!
//! ```yaml
//! type: azure
//! connection: azure-prod
//! tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
//! client_id: 1d4d2c6a-...
//! client_secret: ...
//! subscription_id: 0b1f6471-1bf0-4dda-aec3-111122223333
//! ```
//!
//! See `docs/providers/azure.md` for every task and field.

mod config;
mod provider;
mod translate;

#[cfg(test)]
mod tests;

pub use config::AzureConfig;
pub use provider::{AzureProvider, Call, TASKS, Task, resource_group};
pub use translate::{RULE_FILES, VM_SIZES, hook, rules, translator, vm_size};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

/// Registry factory for `type: azure`.
pub(crate) fn build(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: AzureConfig = parse_config(value, path, errors)?;
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
    match AzureProvider::new(tenant, cfg) {
        Ok(p) => Some(Source { connection, provider: Box::new(p), translator: Box::new(translator) }),
        Err(e) => {
            errors.push(path.to_string(), e.message);
            None
        }
    }
}
