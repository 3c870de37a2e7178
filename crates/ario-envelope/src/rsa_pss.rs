//! RSA-PSS-SHA256 operator attestations (ar.io Verify) and operator addresses.
//!
//! Pinned parameters: SHA-256, MGF1-SHA-256, salt length exactly 32, public
//! exponent exactly 65537. The exponent is checked *before* the key is built:
//! with `e = 1` RSA verification is the identity and anyone could forge.

use rsa::{BigUint, Pss, RsaPublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::encoding::{b64url_decode, b64url_encode, hex_decode};

/// Salt length every attestation signature must use.
pub const SALT_LEN: usize = 32;

/// Largest modulus accepted, in bits.
const MAX_MODULUS_BITS: usize = 8192;

/// Why an attestation key or signature could not even be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The signature is not even-length hex.
    #[error("attestation signature is not hex")]
    SignatureNotHex,
    /// The key is not a JWK `{kty: "RSA", n, e}` with usable values.
    #[error("attestation key is not a usable RSA JWK: {0}")]
    BadKey(&'static str),
}

/// A parsed public JWK (`kty`, `n`, `e` members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaJwk {
    /// Modulus, unpadded base64url.
    pub n: String,
    /// Public exponent, unpadded base64url.
    pub e: String,
}

impl RsaJwk {
    /// Reads `{kty: "RSA", n: string, e: string}`.
    pub fn from_value(v: &Value) -> Result<Self, AttestationError> {
        let obj = v
            .as_object()
            .ok_or(AttestationError::BadKey("not an object"))?;
        if obj.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(AttestationError::BadKey("kty is not RSA"));
        }
        let n = obj
            .get("n")
            .and_then(Value::as_str)
            .ok_or(AttestationError::BadKey("n missing"))?;
        let e = obj
            .get("e")
            .and_then(Value::as_str)
            .ok_or(AttestationError::BadKey("e missing"))?;
        Ok(RsaJwk {
            n: n.to_owned(),
            e: e.to_owned(),
        })
    }
}

/// `base64url(SHA-256(n))`: the Arweave address of the key whose modulus is `n`.
///
/// The modulus octets are hashed exactly as decoded.
pub fn operator_address(n_b64url: &str) -> Result<String, AttestationError> {
    let n = b64url_decode(n_b64url).map_err(|_| AttestationError::BadKey("n is not base64url"))?;
    Ok(b64url_encode(&Sha256::digest(&n)))
}

/// Verifies an RSA-PSS-SHA256 (salt 32) signature given as hex over `message`.
///
/// `Ok(false)` is a signature that does not verify, including any exponent
/// other than 65537; `Err` is input that cannot be checked at all.
pub fn verify_rsa_pss_sha256(
    message: &[u8],
    signature_hex: &str,
    key: &RsaJwk,
) -> Result<bool, AttestationError> {
    let sig = hex_decode(signature_hex).map_err(|_| AttestationError::SignatureNotHex)?;
    verify_rsa_pss_sha256_bytes(message, &sig, key)
}

/// As [`verify_rsa_pss_sha256`], with the signature as raw bytes.
pub fn verify_rsa_pss_sha256_bytes(
    message: &[u8],
    sig: &[u8],
    key: &RsaJwk,
) -> Result<bool, AttestationError> {
    // Exponent guard, before any key import.
    if let Ok(e) = b64url_decode(&key.e) {
        if e.is_empty() {
            return Err(AttestationError::BadKey("e is empty"));
        }
        if BigUint::from_bytes_be(&e) != BigUint::from(65_537u32) {
            return Ok(false);
        }
    }
    let public = import(key)?;
    let digest = Sha256::digest(message);
    Ok(public
        .verify(Pss::new_with_salt::<Sha256>(SALT_LEN), &digest, sig)
        .is_ok())
}

/// Builds the public key from the JWK (exponent already checked or not).
pub fn import(key: &RsaJwk) -> Result<RsaPublicKey, AttestationError> {
    let n = b64url_decode(&key.n).map_err(|_| AttestationError::BadKey("n is not base64url"))?;
    let e = b64url_decode(&key.e).map_err(|_| AttestationError::BadKey("e is not base64url"))?;
    let n = BigUint::from_bytes_be(&n);
    let e = BigUint::from_bytes_be(&e);
    if n == BigUint::from(0u8) || e == BigUint::from(0u8) {
        return Err(AttestationError::BadKey("zero n or e"));
    }
    RsaPublicKey::new_with_max_size(n, e, MAX_MODULUS_BITS)
        .map_err(|_| AttestationError::BadKey("rejected by RSA"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_guard_and_malformed_inputs() {
        let k = RsaJwk {
            n: "AQAB".into(),
            e: "AQ".into(),
        };
        assert_eq!(verify_rsa_pss_sha256(b"any bytes", "00", &k), Ok(false));
        let k = RsaJwk {
            n: "AQAB".into(),
            e: "".into(),
        };
        assert!(verify_rsa_pss_sha256(b"x", "00", &k).is_err());
        let k = RsaJwk {
            n: "AQAB".into(),
            e: "AQAB".into(),
        };
        assert_eq!(
            verify_rsa_pss_sha256(b"x", "abc", &k),
            Err(AttestationError::SignatureNotHex)
        );
        assert!(operator_address("has spaces and +/=").is_err());
        assert!(
            RsaJwk::from_value(&serde_json::json!({"kty":"oct","n":"AQAB","e":"AQAB"})).is_err()
        );
    }
}
