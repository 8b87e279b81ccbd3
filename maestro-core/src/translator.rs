//! The [`Translator`] trait: raw item → normalised resources.

use serde_json::Value;

use crate::error::TranslateError;
use crate::model::{ResourceDraft, Scope};

/// Turns one raw provider item into zero or more resources.
///
/// # Contract
/// - MUST be pure: the same item gives the same drafts (no clock, no I/O).
/// - An `Err` means *this item* cannot be translated: the pipeline reports it with its scope and
///   goes on with the rest of the page, and marks the scope partial (nothing is deactivated).
/// - [`volatile_keys`](Translator::volatile_keys) SHOULD list raw keys that change on every call
///   without a real change (they are left out of the checksum).
/// - [`version`](Translator::version) MUST change when the mapping changes, so that stored
///   resources are rewritten once with the new mapping.
pub trait Translator: Send + Sync {
    /// Translate one item of `scope`.
    fn translate(&self, scope: &Scope, item: &Value) -> Result<Vec<ResourceDraft>, TranslateError>;

    /// Raw keys left out of the checksum (names at any depth, or dotted paths).
    fn volatile_keys(&self) -> &[&str] {
        &[]
    }

    /// The mapping's version, salted into every checksum.
    fn version(&self) -> &str {
        "1"
    }
}
