//! Identifiers taken from paths and bodies: checked before they reach the store.

use serde::{Deserialize, Deserializer};

use super::error::ApiError;

/// Longest id accepted.
pub const MAX_ID_LEN: usize = 512;

/// Check an id: non-empty, at most [`MAX_ID_LEN`] bytes, no `/`, `\`, `..`, NUL or other
/// control characters.
///
/// # Errors
/// A 400 naming `what` and the problem.
pub fn check_id(what: &str, s: &str) -> Result<(), ApiError> {
    let problem = if s.is_empty() {
        Some("must not be empty")
    } else if s.len() > MAX_ID_LEN {
        Some("is longer than 512 bytes")
    } else if s.contains('/') || s.contains('\\') {
        Some("must not contain `/` or `\\`")
    } else if s == "." || s.contains("..") {
        Some("must not contain `..`")
    } else if s.chars().any(char::is_control) {
        Some("must not contain NUL or control characters")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ApiError::BadRequest {
            code: "invalid_id",
            message: format!("{what} {p}"),
            field: Some(what.to_string()),
        }),
        None => Ok(()),
    }
}

/// A checked id (see [`check_id`]); deserialising an unsafe one fails.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SafeId(pub String);

impl<'de> Deserialize<'de> for SafeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        check_id("id", &s).map_err(|e| serde::de::Error::custom(e.to_string()))?;
        Ok(SafeId(s))
    }
}

impl std::ops::Deref for SafeId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SafeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_control_characters_are_refused() {
        for bad in ["", "..", "a/../b", "a/b", "a\\b", "a\0b", "x\ny", "."] {
            assert!(check_id("id", bad).is_err(), "{bad:?} accepted");
        }
        for good in ["i-0abc", "aws-prod", "arn:aws:s3:::bucket", "name with spaces", "a.b"] {
            assert!(check_id("id", good).is_ok(), "{good:?} refused");
        }
        assert!(check_id("id", &"x".repeat(513)).is_err());
    }
}
