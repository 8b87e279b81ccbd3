//! Credentials at rest: sealed with XChaCha20-Poly1305 under a 32-byte key from
//! `MAESTRO_SECRET_KEY` (64 hex digits or base64), bound to the connection (tenant and id) as
//! associated data so a sealed blob cannot be moved to another connection.

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::{Map, Value};

/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;

/// The sealing key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey(XChaCha20Poly1305);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Sealing and opening failures (messages never contain key or plaintext).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The key text is not 32 bytes of hex or base64.
    #[error("MAESTRO_SECRET_KEY must be 32 bytes as 64 hex digits or base64 ({0})")]
    BadKey(String),
    /// The blob is not ours, was altered, or was sealed with another key.
    #[error("sealed credentials cannot be opened (altered, or sealed with another MAESTRO_SECRET_KEY)")]
    Open,
}

impl SecretKey {
    /// Parse a key: 64 hex digits, or standard/URL-safe base64 of 32 bytes.
    ///
    /// # Errors
    /// [`CryptoError::BadKey`].
    ///
    /// # Examples
    /// ```
    /// use maestro_server::api::crypto::SecretKey;
    /// let key = SecretKey::parse(&"ab".repeat(32)).unwrap();
    /// let creds = serde_json::json!({"secret": "s3cr3t"}).as_object().unwrap().clone();
    /// let sealed = key.seal(&creds, "acme/aws-prod").unwrap();
    /// assert_eq!(key.open(&sealed, "acme/aws-prod").unwrap(), creds);
    /// assert!(key.open(&sealed, "other/aws-prod").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0)).collect::<Vec<u8>>()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| CryptoError::BadKey("neither hex nor base64".into()))?
        };
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey(format!("{} bytes", bytes.len())));
        }
        Ok(SecretKey(XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| CryptoError::BadKey("length".into()))?))
    }

    /// Seal `creds` for the connection named by `aad` (`tenant/id`): nonce ‖ ciphertext.
    ///
    /// # Errors
    /// Never in practice (the AEAD has no failure mode for these sizes).
    pub fn seal(&self, creds: &Map<String, Value>, aad: &str) -> Result<Vec<u8>, CryptoError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plain = serde_json::to_vec(creds).map_err(|_| CryptoError::Open)?;
        let ct = self.0.encrypt(&nonce, Payload { msg: &plain, aad: aad.as_bytes() }).map_err(|_| CryptoError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open a blob made by [`seal`](Self::seal) with the same `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Open`] for a wrong key, a wrong connection or an altered blob.
    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<Map<String, Value>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let plain = self
            .0
            .decrypt(
                &XNonce::from(<[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| CryptoError::Open)?),
                Payload { msg: ct, aad: aad.as_bytes() },
            )
            .map_err(|_| CryptoError::Open)?;
        serde_json::from_slice(&plain).map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_holds_no_plaintext_and_tampering_is_detected() {
        let key = SecretKey::parse(&"11".repeat(32)).unwrap();
        let creds = serde_json::json!({"secret_access_key": "VERY-SECRET-VALUE"}).as_object().unwrap().clone();
        let mut sealed = key.seal(&creds, "t/c").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("VERY-SECRET"));
        let other = SecretKey::parse(&"22".repeat(32)).unwrap();
        assert!(other.open(&sealed, "t/c").is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(key.open(&sealed, "t/c").is_err());
        assert!(SecretKey::parse("short").is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
    }
}
