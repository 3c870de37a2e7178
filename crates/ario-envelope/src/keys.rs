//! Envelope signing keys (Ed25519) in the formats the Python plugin uses.
//!
//! * environment `ARIO_MLFLOW_SIGNING_KEY`: standard base64 of the 32-byte seed;
//! * private key file `{"seed": "<base64 seed>"}`;
//! * public key file `{"key": "<base64 32-byte verify key>"}`.
//!
//! This module only converts; reading and writing files is the caller's job.

use ed25519_dalek::Signer as _;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode, hex_decode_array};

/// Why key material was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The seed is not 32 bytes of the expected encoding.
    #[error("signing key seed must be 32 bytes of {encoding}")]
    BadSeed {
        /// The encoding that was expected.
        encoding: &'static str,
    },
    /// A key file is not the expected JSON shape.
    #[error("key file is not a JSON object with a string {field:?} member")]
    BadKeyFile {
        /// The member that was expected.
        field: &'static str,
    },
    /// The public key file does not belong to the private key.
    #[error("public key file does not match the private key")]
    PublicKeyMismatch,
}

/// An Ed25519 envelope signing key.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public_key={})", self.public_key_hex())
    }
}

impl SigningKey {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        use rand_core::RngCore as _;
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(seed.as_mut());
        Self::from_seed(*seed)
    }

    /// A key from 64 hex digits of seed.
    pub fn from_seed_hex(seed_hex: &str) -> Result<Self, KeyError> {
        let seed = Zeroizing::new(
            hex_decode_array::<32>(seed_hex.trim())
                .map_err(|_| KeyError::BadSeed { encoding: "hex" })?,
        );
        Ok(Self::from_seed(*seed))
    }

    /// A key from standard base64 of the seed (the `ARIO_MLFLOW_SIGNING_KEY` format).
    pub fn from_seed_base64(seed_b64: &str) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(
            b64_decode(seed_b64).map_err(|_| KeyError::BadSeed { encoding: "base64" })?,
        );
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::BadSeed { encoding: "base64" })?;
        Ok(Self::from_seed(seed))
    }

    /// A key from the plugin's private key file (`{"seed": …}`), optionally
    /// checked against its public key file (`{"key": …}`).
    pub fn from_key_files(private_json: &str, public_json: Option<&str>) -> Result<Self, KeyError> {
        let seed = json_field(private_json, "seed")?;
        let key = Self::from_seed_base64(&seed)?;
        if let Some(public_json) = public_json {
            let public = json_field(public_json, "key")?;
            let public = b64_decode(&public).map_err(|_| KeyError::BadKeyFile { field: "key" })?;
            if public.as_slice() != key.public_key_bytes() {
                return Err(KeyError::PublicKeyMismatch);
            }
        }
        Ok(key)
    }

    /// The private key file contents (`{"seed": …}`) for this key.
    pub fn private_key_file(&self) -> Zeroizing<String> {
        Zeroizing::new(json!({ "seed": self.seed_base64().as_str() }).to_string())
    }

    /// The public key file contents (`{"key": …}`) for this key.
    pub fn public_key_file(&self) -> String {
        json!({ "key": b64_encode(&self.public_key_bytes()) }).to_string()
    }

    /// Standard base64 of the seed.
    pub fn seed_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(b64_encode(self.0.as_bytes()))
    }

    /// The 32-byte verify key.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The verify key as 64 lowercase hex digits (the envelope `public_key`).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key_bytes())
    }

    /// An Ed25519 (RFC 8032, pure) signature over `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

fn json_field(text: &str, field: &'static str) -> Result<String, KeyError> {
    match crate::json::parse_str(text) {
        Ok(Value::Object(mut m)) => match m.remove(field) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(KeyError::BadKeyFile { field }),
        },
        _ => Err(KeyError::BadKeyFile { field }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const PUB: &str = "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6";

    #[test]
    fn formats_agree() {
        let k = SigningKey::from_seed_hex(SEED).unwrap();
        assert_eq!(k.public_key_hex(), PUB);
        assert_eq!(
            k.seed_base64().as_str(),
            "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8="
        );
        let k2 =
            SigningKey::from_seed_base64("ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=").unwrap();
        assert_eq!(k2.public_key_hex(), PUB);
        let files =
            SigningKey::from_key_files(&k.private_key_file(), Some(&k.public_key_file())).unwrap();
        assert_eq!(files.public_key_hex(), PUB);
        assert!(!format!("{k:?}").contains("ASNF"));
    }

    #[test]
    fn refuses_bad_material() {
        assert!(SigningKey::from_seed_base64("AAAA").is_err());
        assert!(SigningKey::from_seed_hex("00").is_err());
        assert!(SigningKey::from_key_files("{}", None).is_err());
        assert!(SigningKey::from_key_files("[1]", None).is_err());
        let other = SigningKey::generate();
        let k = SigningKey::from_seed_hex(SEED).unwrap();
        assert_eq!(
            SigningKey::from_key_files(&k.private_key_file(), Some(&other.public_key_file()))
                .unwrap_err(),
            KeyError::PublicKeyMismatch
        );
    }
}
