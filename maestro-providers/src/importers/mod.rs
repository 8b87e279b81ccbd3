//! The `ansible` and `terraform` importers: inventories from Ansible fact files and Terraform
//! state files (format version 4, Terraform ≥ 0.12) read from local paths, translated with
//! declarative mapping rules (YAML files under `rules/`, the engine of [`crate::aws::rules`]).
//!
//! A file that cannot be read or parsed fails its scope with an error naming the file and the
//! line/column, and nothing is deactivated.
//!
//! ```yaml
//! - {type: ansible, connection: ansible-facts, paths: [facts/web-1.json, facts/db-1.json]}
//! - {type: terraform, connection: tf-prod, paths: [terraform.tfstate]}
//! ```
//!
//! SSH and S3 sources are not implemented yet (see `docs/providers/importers.md`).

mod provider;
mod translate;

#[cfg(test)]
mod tests;

pub use provider::{Format, ImportConfig, ImportProvider, items_of};
pub use translate::{RULE_FILES, rules, translator};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

fn build(format: Format, tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: ImportConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    let translator = match translator(&cfg.connection, &cfg.connection) {
        Ok(t) => t,
        Err(e) => {
            errors.push(path.to_string(), format!("the embedded mapping rules do not compile: {e}"));
            return None;
        }
    };
    let connection = cfg.connection.clone();
    Some(Source {
        connection,
        provider: Box::new(ImportProvider::new(tenant, format, cfg)),
        translator: Box::new(translator),
    })
}

/// Registry factory for `type: ansible`.
pub(crate) fn build_ansible(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    build(Format::Ansible, tenant, value, path, errors)
}

/// Registry factory for `type: terraform`.
pub(crate) fn build_terraform(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    build(Format::Terraform, tenant, value, path, errors)
}
