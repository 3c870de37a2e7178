//! Byte encodings used on the wire: lowercase hex, SHA-256 digests, base64url.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use sha2::{Digest, Sha256};

/// Why an encoded string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    /// Not an even-length string of hex digits.
    #[error("not hex: {0}")]
    Hex(&'static str),
    /// Not unpadded base64url.
    #[error("not unpadded base64url")]
    Base64Url,
    /// Not standard (padded) base64.
    #[error("not base64")]
    Base64,
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// Decodes hex strictly: even length, digits `0-9a-fA-F` only, nothing else.
pub fn hex_decode(s: &str) -> Result<Vec<u8>, EncodingError> {
    if !s.len().is_multiple_of(2) {
        return Err(EncodingError::Hex("odd length"));
    }
    hex::decode(s).map_err(|_| EncodingError::Hex("non-hex character"))
}

/// Decodes hex into exactly `N` bytes.
pub fn hex_decode_array<const N: usize>(s: &str) -> Result<[u8; N], EncodingError> {
    let v = hex_decode(s)?;
    v.try_into().map_err(|_| EncodingError::Hex("wrong length"))
}

/// base64url without padding, tolerant of non-zero trailing bits (as `atob`
/// and Python's decoder are), but refusing `=`, `+`, `/`, whitespace and
/// impossible lengths.
const B64URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes unpadded base64url (see the module notes on leniency).
pub fn b64url_decode(s: &str) -> Result<Vec<u8>, EncodingError> {
    B64URL_LENIENT
        .decode(s)
        .map_err(|_| EncodingError::Base64Url)
}

/// Encodes bytes as unpadded base64url.
pub fn b64url_encode(bytes: &[u8]) -> String {
    B64URL_LENIENT.encode(bytes)
}

/// Decodes standard, padded base64 (the key-file and environment format).
pub fn b64_decode(s: &str) -> Result<Vec<u8>, EncodingError> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| EncodingError::Base64)
}

/// Encodes bytes as standard, padded base64.
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_strict() {
        assert_eq!(hex_decode("0aFF").unwrap(), vec![0x0a, 0xff]);
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
        assert!(hex_decode("0a 0b").is_err());
        assert!(hex_decode_array::<2>("0a").is_err());
    }

    #[test]
    fn b64url_rules() {
        assert_eq!(b64url_decode("AQAB").unwrap(), vec![1, 0, 1]);
        assert_eq!(b64url_decode("AQ").unwrap(), vec![1]);
        // trailing bits set: tolerated
        assert_eq!(b64url_decode("AR").unwrap(), vec![1]);
        assert!(b64url_decode("AQ==").is_err());
        assert!(b64url_decode("A").is_err());
        assert!(b64url_decode("a+b/").is_err());
        assert!(b64url_decode("has spaces and +/=").is_err());
        assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
    }
}
