//! The `ansible` and `terraform` importers: inventories from Ansible fact files and Terraform
//! state files (format version 4, Terraform ≥ 0.12) read from local paths, over SSH (SFTP, host
//! key verified against a known_hosts file) or from S3 (signed `GetObject`) — see [`FileSource`] —
//! translated with declarative mapping rules (YAML files under `rules/`, the engine of
//! [`crate::aws::rules`]).
//!
//! A file that cannot be read or parsed fails its scope with an error naming the file and the
//! line/column, and nothing is deactivated.
//!
//! ```yaml
//! - {type: ansible, connection: ansible-facts, paths: [facts/web-1.json, facts/db-1.json]}
//! - {type: terraform, connection: tf-prod, paths: [terraform.tfstate]}
//! - type: terraform
//!   connection: tf-remote
//!   ssh: {host: 10.0.0.5, user: deploy, private_key_file: keys/id_ed25519, known_hosts_file: keys/known_hosts}
//!   paths: [/srv/terraform/terraform.tfstate]
//! - type: ansible
//!   connection: facts-s3
//!   s3: {bucket: inventories, region: us-east-1, access_key_id: AKIA..., secret_access_key: ...}
//!   paths: [facts/web-1.json]
//! ```
//!
//! An unknown or changed SSH host key fails the scope before anything is read (see
//! `docs/providers/importers.md`).

mod provider;
mod source;
mod translate;

#[cfg(test)]
mod tests;

pub use provider::{Format, ImportConfig, ImportProvider, items_of};
pub use source::{FileSource, S3Reader, S3Source, SshReader, SshSource, encode_key};
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
    let provider = match ImportProvider::new(tenant, format, cfg) {
        Ok(p) => p,
        Err(e) => {
            errors.push(path.to_string(), e.message);
            return None;
        }
    };
    Some(Source { connection, provider: Box::new(provider), translator: Box::new(translator) })
}

/// Registry factory for `type: ansible`.
pub(crate) fn build_ansible(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    build(Format::Ansible, tenant, value, path, errors)
}

/// Registry factory for `type: terraform`.
pub(crate) fn build_terraform(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    build(Format::Terraform, tenant, value, path, errors)
}
