//! The `file` provider: import an inventory from JSON or YAML files, in the original File
//! template's shape — an object of top-level arrays named by entity (`servers`, `applications`,
//! `volumes`, `snapshots`, `images`, `flavors`, `networks`, `systems`, `clients`,
//! `datacenters`) — or, with `entity` set, a file holding one top-level array.
//!
//! Each entity is one scope (task = the entity name): when an entity's files are read without
//! error, resources of that entity that are no longer in them are deactivated. A file that cannot
//! be read or parsed fails the scopes it feeds (with the file name and line/column), so nothing
//! is deactivated.
//!
//! ```yaml
//! type: file
//! connection: demo-files
//! paths: [examples/data/demo-inventory.json]
//! ```
//!
//! With feature `importers`, `ssh:` or `s3:` read the paths over SFTP (verified host key) or as
//! object keys of an S3 bucket, exactly as for the `ansible` / `terraform` importers (see
//! `docs/providers/importers.md`).

mod config;
mod provider;
mod translate;

#[cfg(test)]
mod tests;

pub use config::FileConfig;
pub use provider::FileProvider;
pub use translate::{ENTITIES, FileTranslator, kind_of_entity};

use maestro_core::ConfigErrors;
use serde_json::Value;

use crate::Source;
use crate::util::parse_config;

/// Registry factory for `type: file`.
pub(crate) fn build(tenant: &str, value: &Value, path: &str, errors: &mut ConfigErrors) -> Option<Source> {
    let cfg: FileConfig = parse_config(value, path, errors)?;
    if !cfg.validate(path, errors) {
        return None;
    }
    Some(Source {
        connection: cfg.connection.clone(),
        provider: Box::new(FileProvider::new(tenant, cfg)),
        translator: Box::new(FileTranslator::default()),
    })
}
