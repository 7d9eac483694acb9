//! Sealing of the LWA credentials at rest.
//!
//! The client secret and the refresh token are encrypted with ChaCha20-Poly1305
//! under the application's key (`APP_ENCRYPTION_KEY`), each with its own random
//! nonce. The associated data binds each ciphertext to its field and to the
//! connection row, so a ciphertext copied into another field or another row fails
//! to open instead of yielding a wrong secret. The key's id is stored beside the
//! values so a rotated key is recognised as such.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;

/// The 32-byte key that seals credentials at rest, with an id derived from it so
/// sealed values name the key that sealed them.
pub struct EncryptionKey {
    key: SecretBox<[u8; 32]>,
    id: String,
}

impl EncryptionKey {
    /// Wraps raw key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let id = format!(
            "k-{}",
            digest[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Self {
            key: SecretBox::new(Box::new(bytes)),
            id,
        }
    }

    /// The key's bytes. Use only to seal or open.
    #[must_use]
    pub fn expose(&self) -> &[u8; 32] {
        self.key.expose_secret()
    }

    /// A short public fingerprint of the key (not secret).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Which secret a ciphertext holds; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The LWA client secret.
    ClientSecret,
    /// The LWA refresh token.
    RefreshToken,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Self::ClientSecret => "lwa_client_secret",
            Self::RefreshToken => "lwa_refresh_token",
        }
    }
}

/// A sealed value as stored: ciphertext (with tag) and its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Ciphertext followed by the 16-byte authentication tag.
    pub ciphertext: Vec<u8>,
    /// The 12-byte nonce used for this value only.
    pub nonce: Vec<u8>,
}

/// A sealed value that cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    /// The value was sealed with another key than `APP_ENCRYPTION_KEY`.
    #[error(
        "the stored Amazon credentials were sealed with key {stored}, but APP_ENCRYPTION_KEY is key {current}: \
         restore the original key or enter the credentials again"
    )]
    WrongKey {
        /// Key id stored with the value.
        stored: String,
        /// Id of the configured key.
        current: String,
    },
    /// Authentication failed: the value was altered or belongs to another field or row.
    #[error(
        "the stored Amazon {field} does not authenticate (altered, or copied from another field or connection): \
         enter the credentials again"
    )]
    Tampered {
        /// Which value.
        field: &'static str,
    },
    /// The nonce has the wrong length.
    #[error("the stored Amazon {field} has a malformed nonce: enter the credentials again")]
    BadNonce {
        /// Which value.
        field: &'static str,
    },
    /// Encryption itself failed (it does not, for inputs of sane size).
    #[error("sealing the Amazon {field} failed")]
    Seal {
        /// Which value.
        field: &'static str,
    },
}

fn aad(connection_id: i32, field: Field) -> Vec<u8> {
    format!(
        "amazon_credential/v1/connection={connection_id}/field={}",
        field.name()
    )
    .into_bytes()
}

fn cipher(key: &EncryptionKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&Key::from(*key.expose()))
}

/// Seals `secret` for `field` of the connection `connection_id` with a fresh nonce.
///
/// # Errors
/// [`CredentialError::Seal`] if the cipher refuses the input.
pub fn seal(
    key: &EncryptionKey,
    connection_id: i32,
    field: Field,
    secret: &SecretString,
) -> Result<Sealed, CredentialError> {
    let nonce_bytes: [u8; 12] = rand::random();
    let nonce = Nonce::from(nonce_bytes);
    let ciphertext = cipher(key)
        .encrypt(
            &nonce,
            Payload {
                msg: secret.expose_secret().as_bytes(),
                aad: &aad(connection_id, field),
            },
        )
        .map_err(|_| CredentialError::Seal {
            field: field.name(),
        })?;
    Ok(Sealed {
        ciphertext,
        nonce: nonce_bytes.to_vec(),
    })
}

/// Opens a value sealed by [`seal`] for the same field and connection.
///
/// # Errors
/// [`CredentialError`] when the key id differs, the nonce is malformed, or the
/// ciphertext does not authenticate (tampered, or from another field or row).
pub fn open(
    key: &EncryptionKey,
    stored_key_id: &str,
    connection_id: i32,
    field: Field,
    sealed: &Sealed,
) -> Result<SecretString, CredentialError> {
    if stored_key_id != key.id() {
        return Err(CredentialError::WrongKey {
            stored: stored_key_id.to_owned(),
            current: key.id().to_owned(),
        });
    }
    let nonce_bytes: [u8; 12] =
        sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| CredentialError::BadNonce {
                field: field.name(),
            })?;
    let plain = cipher(key)
        .decrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: &sealed.ciphertext,
                aad: &aad(connection_id, field),
            },
        )
        .map_err(|_| CredentialError::Tampered {
            field: field.name(),
        })?;
    let text = String::from_utf8(plain).map_err(|_| CredentialError::Tampered {
        field: field.name(),
    })?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_sealed_value_opens_to_the_same_secret() {
        let k = key(1);
        let sealed = seal(&k, 1, Field::RefreshToken, &secret("Atzr|token")).unwrap();
        assert!(!sealed.ciphertext.windows(10).any(|w| w == b"Atzr|token"));
        let opened = open(&k, k.id(), 1, Field::RefreshToken, &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "Atzr|token");
    }

    #[test]
    fn each_sealing_uses_a_fresh_nonce() {
        let k = key(1);
        let a = seal(&k, 1, Field::ClientSecret, &secret("s")).unwrap();
        let b = seal(&k, 1, Field::ClientSecret, &secret("s")).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_tampered_ciphertext_is_a_clear_error_not_garbage() {
        let k = key(1);
        let mut sealed = seal(&k, 1, Field::ClientSecret, &secret("secret")).unwrap();
        sealed.ciphertext[0] ^= 1;
        let err = open(&k, k.id(), 1, Field::ClientSecret, &sealed).unwrap_err();
        assert_eq!(
            err,
            CredentialError::Tampered {
                field: "lwa_client_secret"
            }
        );
        assert!(err.to_string().contains("enter the credentials again"));
    }

    #[test]
    fn a_value_moved_to_another_field_or_connection_does_not_open() {
        let k = key(1);
        let sealed = seal(&k, 1, Field::ClientSecret, &secret("secret")).unwrap();
        assert!(open(&k, k.id(), 1, Field::RefreshToken, &sealed).is_err());
        assert!(open(&k, k.id(), 2, Field::ClientSecret, &sealed).is_err());
    }

    #[test]
    fn a_value_sealed_with_another_key_names_both_keys() {
        let old = key(1);
        let new = key(2);
        let sealed = seal(&old, 1, Field::RefreshToken, &secret("t")).unwrap();
        let err = open(&new, old.id(), 1, Field::RefreshToken, &sealed).unwrap_err();
        assert!(matches!(err, CredentialError::WrongKey { .. }));
        assert!(err.to_string().contains(old.id()) && err.to_string().contains(new.id()));
        // Even with a forged key id, the wrong key cannot open it.
        assert!(open(&new, new.id(), 1, Field::RefreshToken, &sealed).is_err());
    }

    #[test]
    fn a_malformed_nonce_is_reported() {
        let k = key(1);
        let mut sealed = seal(&k, 1, Field::RefreshToken, &secret("t")).unwrap();
        sealed.nonce.pop();
        assert_eq!(
            open(&k, k.id(), 1, Field::RefreshToken, &sealed).unwrap_err(),
            CredentialError::BadNonce {
                field: "lwa_refresh_token"
            }
        );
    }
}
