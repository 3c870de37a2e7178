//! Arweave wallets as RSA JWKs: reading one into a checked private key, and
//! writing a key back out with every member.

use ario_envelope::encoding::{b64url_decode, b64url_encode};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use rsa::{BigUint, RsaPrivateKey};
use serde_json::{json, Value};

/// Members every Arweave JWK must carry.
pub const JWK_FIELDS: [&str; 9] = ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"];

fn big(v: &Value, field: &str) -> Result<BigUint, String> {
    let s = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{field} is not a string"))?;
    let bytes = b64url_decode(s).map_err(|_| format!("{field} is not base64url"))?;
    Ok(BigUint::from_bytes_be(&bytes))
}

/// Builds and checks an RSA private key from a JWK (CRT members must agree).
pub fn rsa_from_jwk(jwk: &Value) -> Result<RsaPrivateKey, String> {
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("kty is not RSA".into());
    }
    let (n, e, d, p, q) = (
        big(jwk, "n")?,
        big(jwk, "e")?,
        big(jwk, "d")?,
        big(jwk, "p")?,
        big(jwk, "q")?,
    );
    let (dp, dq, qi) = (big(jwk, "dp")?, big(jwk, "dq")?, big(jwk, "qi")?);
    let one = BigUint::from(1u8);
    if p <= one || q <= one {
        return Err("p and q must exceed 1".into());
    }
    if dp != &d % (&p - &one) || dq != &d % (&q - &one) || (&qi * &q) % &p != one {
        return Err("dp, dq or qi do not agree with d, p and q".into());
    }
    let key = RsaPrivateKey::from_components(n, e, d, vec![p, q]).map_err(|e| e.to_string())?;
    key.validate().map_err(|e| e.to_string())?;
    Ok(key)
}

/// The JWK (all members) of an RSA private key.
pub fn jwk_from_rsa(key: &RsaPrivateKey) -> Result<Value, String> {
    let enc = |b: &BigUint| b64url_encode(&b.to_bytes_be());
    let primes = key.primes();
    let (p, q) = match primes {
        [p, q] => (p, q),
        _ => return Err("only two-prime keys are supported".into()),
    };
    let one = BigUint::from(1u8);
    let d = key.d();
    let qi = key.crt_coefficient().ok_or("no CRT coefficient")?;
    Ok(json!({
        "kty": "RSA", "n": enc(key.n()), "e": enc(key.e()), "d": enc(d), "p": enc(p), "q": enc(q),
        "dp": enc(&(d % (p - &one))), "dq": enc(&(d % (q - &one))), "qi": enc(&qi),
    }))
}
