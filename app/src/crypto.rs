//! Secrets at rest: the master key (`ENCRYPTION_MASTER_KEY_FILE`) and AES-256-GCM sealing under
//! it. A sealed blob is a random 12-byte nonce followed by the ciphertext and its 16-byte tag;
//! the caller's associated data binds it to the row it belongs to. What is sealed for credential
//! profiles, and how, is in `crypto/credential.rs`.
//!
//! Nothing here logs, and no `Debug` output contains key material or plaintext.

pub mod credential;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::zeroize::Zeroizing;
use sha2::{Digest, Sha256};
use std::fmt;

/// Bytes of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Bytes of the random nonce in front of every sealed blob (the GCM standard size).
const NONCE_LEN: usize = 12;
/// Bytes of the authentication tag at the end of every sealed blob.
const TAG_LEN: usize = 16;

/// Why a key file could not be used, or a blob could not be opened. The text is safe to show:
/// it never contains key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("{0}")]
    KeyFile(String),
    /// The blob does not decrypt: another key sealed it, or it (or its associated data) changed.
    #[error("does not open with this key (another key sealed it, or the data was changed)")]
    Open,
    /// Encryption itself failed (only for absurdly long plaintexts).
    #[error("cannot encrypt")]
    Seal,
    /// The plaintext opened but is not what this version of the code wrote.
    #[error("the sealed data has an unknown format")]
    Format,
}

/// The master key, ready to seal and open. The key bytes are not kept apart from the cipher's
/// key schedule, which is zeroed when the key is dropped.
pub struct MasterKey {
    cipher: Aes256Gcm,
    fingerprint: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let digest = Sha256::digest(bytes);
        let fingerprint: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self {
            cipher: Aes256Gcm::new(bytes.into()),
            fingerprint,
        }
    }

    /// Reads the key file format: one line of standard base64 of 32 bytes. Surrounding
    /// whitespace (the trailing newline) is ignored.
    pub fn from_file_contents(contents: &str) -> Result<Self, CryptoError> {
        let decoded = Zeroizing::new(STANDARD.decode(contents.trim()).map_err(|_| {
            CryptoError::KeyFile(
                "is not a key file: expected one line of base64 (create one with `ispvm keys generate`)"
                    .into(),
            )
        })?);
        let bytes: Zeroizing<[u8; KEY_LEN]> =
            Zeroizing::new(decoded.as_slice().try_into().map_err(|_| {
                CryptoError::KeyFile(format!(
                    "holds {} bytes; a master key is {KEY_LEN} bytes (create one with `ispvm keys generate`)",
                    decoded.len()
                ))
            })?);
        Ok(Self::from_bytes(&bytes))
    }

    /// A new random key from the operating system's generator, and its key file contents
    /// (one line, newline-terminated).
    pub fn generate() -> (Self, Zeroizing<String>) {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        let mut line = Zeroizing::new(STANDARD.encode(bytes.as_ref()));
        line.push('\n');
        (Self::from_bytes(&bytes), line)
    }

    /// The first 16 hex digits of SHA-256 of the key: names a key in messages and rows without
    /// revealing it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Encrypts `plaintext` under a fresh random nonce; `aad` is authenticated, not stored.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        Ok(blob)
    }

    /// Decrypts a blob made by [`MasterKey::seal`] with the same `aad`. The plaintext is zeroed
    /// when dropped.
    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }
}

/// A new bearer secret (an ingest token, an enrollment token): 32 random bytes in hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The SHA-256 of a bearer secret, as stored: a random 32-byte secret needs no salt or slow
/// hash, and the digest is looked up by equality.
pub fn token_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// What the `encryption_key_check` row seals: opening it proves that a key is the one the
/// database's secrets were sealed with, before anything is read or written with it.
pub const KEY_CHECK_PLAINTEXT: &[u8] = b"ispvm encryption key check";
/// Associated data of the key-check row (a credential's blob can never pass as it).
pub const KEY_CHECK_AAD: &[u8] = b"ispvm.encryption_key_check.v1";

/// Seals the key-check plaintext under `key`.
pub fn seal_key_check(key: &MasterKey) -> Result<Vec<u8>, CryptoError> {
    key.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)
}

/// True if `blob` is the key-check plaintext sealed under `key`.
pub fn key_check_opens(key: &MasterKey, blob: &[u8]) -> bool {
    key.open(KEY_CHECK_AAD, blob)
        .is_ok_and(|plain| plain.as_slice() == KEY_CHECK_PLAINTEXT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_with_the_same_key_and_aad_only() {
        let (key, _) = MasterKey::generate();
        let blob = key.seal(b"row 1", b"routeros password").expect("seal");
        assert_eq!(
            key.open(b"row 1", &blob).expect("open").as_slice(),
            b"routeros password"
        );
        assert_eq!(key.open(b"row 2", &blob).err(), Some(CryptoError::Open));
        let (other, _) = MasterKey::generate();
        assert_eq!(other.open(b"row 1", &blob).err(), Some(CryptoError::Open));
        assert_ne!(key.fingerprint(), other.fingerprint());
    }

    #[test]
    fn any_changed_byte_fails_to_open() {
        let (key, _) = MasterKey::generate();
        let blob = key.seal(b"aad", b"secret").expect("seal");
        assert_eq!(blob.len(), NONCE_LEN + b"secret".len() + TAG_LEN);
        for i in 0..blob.len() {
            let mut tampered = blob.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                key.open(b"aad", &tampered).err(),
                Some(CryptoError::Open),
                "byte {i}"
            );
        }
        assert_eq!(key.open(b"aad", &blob[..20]).err(), Some(CryptoError::Open));
        assert_eq!(key.open(b"aad", &[]).err(), Some(CryptoError::Open));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let (key, _) = MasterKey::generate();
        let a = key.seal(b"aad", b"same plaintext").expect("seal");
        let b = key.seal(b"aad", b"same plaintext").expect("seal");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_say_why() {
        let (key, line) = MasterKey::generate();
        assert!(
            line.ends_with('\n') && line.trim().len() == 44,
            "{}",
            line.len()
        );
        let back = MasterKey::from_file_contents(&format!("  {}\n\n", line.trim())).expect("parse");
        assert_eq!(back.fingerprint(), key.fingerprint());
        assert_eq!(key.fingerprint().len(), 16);
        assert!(key.fingerprint().chars().all(|c| c.is_ascii_hexdigit()));
        let blob = key.seal(b"x", b"y").expect("seal");
        assert!(
            back.open(b"x", &blob).is_ok(),
            "the parsed key is the same key"
        );

        let short = STANDARD.encode([7u8; 16]);
        let err = MasterKey::from_file_contents(&short)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("holds 16 bytes")),
            "{err:?}"
        );
        let err = MasterKey::from_file_contents("not base64 at all!")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("base64")),
            "{err:?}"
        );
        assert!(MasterKey::from_file_contents("").is_err());
    }

    #[test]
    fn fingerprints_are_sha256_prefixes() {
        // SHA-256 of 32 zero bytes starts 66687aadf862bd77.
        let zeros = STANDARD.encode([0u8; KEY_LEN]);
        let key = MasterKey::from_file_contents(&zeros).expect("parse");
        assert_eq!(key.fingerprint(), "66687aadf862bd77");
    }

    #[test]
    fn debug_shows_the_fingerprint_only() {
        let zeros = STANDARD.encode([0u8; KEY_LEN]);
        let key = MasterKey::from_file_contents(&zeros).expect("parse");
        let shown = format!("{key:?}");
        assert_eq!(
            shown,
            r#"MasterKey { fingerprint: "66687aadf862bd77", .. }"#
        );
    }

    #[test]
    fn the_key_check_opens_with_its_key_only() {
        let (a, _) = MasterKey::generate();
        let (b, _) = MasterKey::generate();
        let check = seal_key_check(&a).expect("seal");
        assert!(key_check_opens(&a, &check));
        assert!(!key_check_opens(&b, &check));
        let not_a_check = a.seal(KEY_CHECK_AAD, b"something else").expect("seal");
        assert!(!key_check_opens(&a, &not_a_check));
    }
}
