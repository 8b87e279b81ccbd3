//! Deterministic change-detection checksums: SHA-256 over canonical JSON.
//!
//! Canonical JSON here means: object keys sorted byte-wise, no whitespace, numbers as serde_json
//! prints them. Volatile keys (timestamps that change on every call, request ids…) are removed
//! first, at any depth, by key name or by dotted path.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 digest, shown and stored as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// Hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parse the hex form.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Checksum(out))
    }
}

impl std::fmt::Debug for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Checksum({})", &self.to_hex()[..12])
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Checksum::from_hex(&s).ok_or_else(|| serde::de::Error::custom("checksum must be 64 hex characters"))
    }
}

/// Checksum of `raw` after removing `volatile` keys, salted with `salt` (the translator version).
///
/// A volatile entry without a dot removes that key at every depth; an entry with dots
/// (`State.TransitionReason`) removes only that path.
///
/// ```
/// use maestro_core::checksum::checksum_of;
/// let a = serde_json::json!({"b": 1, "a": {"y": 2, "x": 1}, "RequestId": "r1"});
/// let b = serde_json::json!({"a": {"x": 1, "y": 2}, "b": 1, "RequestId": "r2"});
/// assert_eq!(checksum_of(&a, &["RequestId"], "v1"), checksum_of(&b, &["RequestId"], "v1"));
/// assert_ne!(checksum_of(&a, &[], "v1"), checksum_of(&b, &[], "v1"));
/// ```
pub fn checksum_of(raw: &Value, volatile: &[&str], salt: &str) -> Checksum {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    let paths: Vec<Vec<&str>> = volatile.iter().filter(|v| v.contains('.')).map(|v| v.split('.').collect()).collect();
    let names: Vec<&str> = volatile.iter().copied().filter(|v| !v.contains('.')).collect();
    let mut buf = Vec::with_capacity(512);
    write_canonical(raw, &names, &paths, &mut Vec::new(), &mut buf);
    h.update(&buf);
    Checksum(h.finalize().into())
}

fn write_canonical<'a>(v: &'a Value, names: &[&str], paths: &[Vec<&str>], at: &mut Vec<&'a str>, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            let mut first = true;
            for k in keys {
                if names.contains(&k.as_str()) {
                    continue;
                }
                at.push(k.as_str());
                let skip = paths.iter().any(|p| p.len() == at.len() && p.iter().zip(at.iter()).all(|(a, b)| a == b));
                if !skip {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut *out, k).expect("writing to a Vec cannot fail");
                    out.push(b':');
                    write_canonical(&map[k], names, paths, at, out);
                }
                at.pop();
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, names, paths, at, out);
            }
            out.push(b']');
        }
        other => serde_json::to_writer(&mut *out, other).expect("writing to a Vec cannot fail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter() {
        let a = json!({"x": 1, "y": [1, {"b": 2, "a": 1}]});
        let b = json!({"y": [1, {"a": 1, "b": 2}], "x": 1});
        assert_eq!(checksum_of(&a, &[], ""), checksum_of(&b, &[], ""));
    }

    #[test]
    fn array_order_matters() {
        assert_ne!(checksum_of(&json!([1, 2]), &[], ""), checksum_of(&json!([2, 1]), &[], ""));
    }

    #[test]
    fn volatile_names_at_any_depth_and_dotted_paths() {
        let a = json!({"t": 1, "n": {"t": 2, "keep": 1, "s": {"r": 1}}});
        let b = json!({"t": 9, "n": {"t": 8, "keep": 1, "s": {"r": 2}}});
        assert_eq!(checksum_of(&a, &["t", "n.s.r"], ""), checksum_of(&b, &["t", "n.s.r"], ""));
        // Dotted path only removes that path.
        let c = json!({"r": 1, "n": {"s": {"r": 1}}});
        let d = json!({"r": 2, "n": {"s": {"r": 1}}});
        assert_ne!(checksum_of(&c, &["n.s.r"], ""), checksum_of(&d, &["n.s.r"], ""));
    }

    #[test]
    fn salt_changes_checksum_and_hex_roundtrips() {
        let v = json!({"a": 1});
        let c1 = checksum_of(&v, &[], "v1");
        assert_ne!(c1, checksum_of(&v, &[], "v2"));
        assert_eq!(Checksum::from_hex(&c1.to_hex()), Some(c1));
        assert_eq!(Checksum::from_hex("zz"), None);
    }

    #[test]
    fn falsy_values_are_part_of_the_checksum() {
        assert_ne!(checksum_of(&json!({"e": false}), &[], ""), checksum_of(&json!({}), &[], ""));
        assert_ne!(checksum_of(&json!({"e": 0}), &[], ""), checksum_of(&json!({"e": false}), &[], ""));
    }
}
