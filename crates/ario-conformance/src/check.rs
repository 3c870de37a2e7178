//! Helpers shared by the family checks: reading fields of a vector, hex and
//! JCS with errors as text, and the signing stages every signed family pins.

use ario_envelope::encoding::{hex_decode, hex_decode_array};
use ario_envelope::jcs::canonicalize;
use ario_envelope::keys::SigningKey;
use ario_envelope::merkle::Hash;
use ario_envelope::VerifyOptions;
use serde_json::Value;

/// The outcome of one vector: `Err` says what differs.
pub(crate) type Check = Result<(), String>;

/// Returns `Err(format!(...))` from the enclosing check unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
pub(crate) use ensure;

/// The string at `path`.
pub(crate) fn s<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    get(v, path)?
        .as_str()
        .ok_or_else(|| format!("{} is not a string", path.join(".")))
}

/// The value at `path` (object members only).
pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get(*p)
            .ok_or_else(|| format!("missing {}", path.join(".")))?;
    }
    Ok(cur)
}

/// The bytes of the hex string at `path`.
pub(crate) fn hexb(v: &Value, path: &[&str]) -> Result<Vec<u8>, String> {
    hex_decode(s(v, path)?).map_err(|e| format!("{}: {e}", path.join(".")))
}

/// A 32-byte hash from 64 hex digits.
pub(crate) fn hash32(text: &str) -> Result<Hash, String> {
    hex_decode_array::<32>(text).map_err(|e| format!("bad hash {text:?}: {e}"))
}

/// RFC 8785 bytes of `v`.
pub(crate) fn canon(v: &Value) -> Result<Vec<u8>, String> {
    canonicalize(v).map_err(|e| e.to_string())
}

/// The vector's fixed Ed25519 key (its seed must derive its public key).
pub(crate) fn key_of(v: &Value) -> Result<SigningKey, String> {
    let key = SigningKey::from_seed_hex(s(v, &["fixed_keypair", "ed25519_seed_hex"])?)
        .map_err(|e| e.to_string())?;
    ensure!(
        key.public_key_hex() == s(v, &["fixed_keypair", "ed25519_public_hex"])?,
        "seed does not derive the fixed public key"
    );
    Ok(key)
}

/// `obj` with the members `pairs` set.
pub(crate) fn with(mut obj: Value, pairs: &[(&str, Value)]) -> Result<Value, String> {
    let m = obj.as_object_mut().ok_or("expected an object")?;
    for (k, v) in pairs {
        m.insert((*k).to_owned(), v.clone());
    }
    Ok(obj)
}

/// Verification options: `payload` bound, no legacy envelopes.
pub(crate) fn verify_opts(payload: Option<&[u8]>) -> VerifyOptions<'_> {
    VerifyOptions {
        payload_bytes: payload,
        allow_legacy: false,
    }
}

/// `h` with its first hex digit changed.
pub(crate) fn flip_first_hex_nibble(h: &str) -> String {
    let mut c: Vec<char> = h.chars().collect();
    if let Some(first) = c.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    c.into_iter().collect()
}

/// Checks the signing stages of a vector: `JCS(scope)` equals
/// `envelope_for_sig_jcs_bytes_hex` and the deterministic Ed25519 signature of
/// it equals `signature_hex`, which is returned.
pub(crate) fn check_signing<'a>(
    v: &'a Value,
    scope: &Value,
    key: &SigningKey,
) -> Result<&'a str, String> {
    let bytes = canon(scope)?;
    ensure!(
        bytes == hexb(v, &["expected_outputs", "envelope_for_sig_jcs_bytes_hex"])?,
        "signed-scope JCS bytes differ"
    );
    let sig_hex = s(v, &["expected_outputs", "signature_hex"])?;
    ensure!(
        hex::encode(key.sign(&bytes)) == sig_hex,
        "signature differs from the deterministic expectation"
    );
    Ok(sig_hex)
}
