//! RFC 8785 JSON Canonicalization Scheme (JCS), byte-exact with the other ar.io kernels.
//!
//! * object members sorted by their keys as UTF-16 code-unit sequences;
//! * numbers printed as ECMAScript `Number.prototype.toString` prints the
//!   IEEE-754 double nearest to them (so integers above 2^53 round, `-0` is `0`);
//! * strings escaped with the short forms `\" \\ \b \t \n \f \r`, other control
//!   characters as lowercase `\u00xx`, everything else literal UTF-8;
//! * no whitespace.
//!
//! Values nested deeper than [`MAX_DEPTH`](crate::json::MAX_DEPTH) are refused.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::json::MAX_DEPTH;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonError {
    /// Containers nest deeper than the kernel bound.
    #[error("value nests deeper than {MAX_DEPTH} containers")]
    DepthExceeded,
    /// A number is not finite (cannot come from JSON text, only from code).
    #[error("non-finite number")]
    NonFinite,
}

/// Canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, CanonError> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value, 0)?;
    Ok(out)
}

/// Canonical bytes of `object` restricted to the members whose key passes `keep`.
///
/// This is how the envelope's signed scope is formed without copying it.
pub fn canonicalize_object_filtered(
    object: &Map<String, Value>,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<u8>, CanonError> {
    let mut out = Vec::with_capacity(512);
    write_object(&mut out, object, 1, &keep)?;
    Ok(out)
}

/// Appends the canonical bytes of `value`, nested inside `depth` containers
/// of the caller's (so the depth bound counts them), to `out`.
///
/// With [`append_string`] this lets a caller that knows its keys write an
/// object's canonical bytes member by member, in RFC 8785 key order, without
/// building the object first.
pub fn append_value(out: &mut Vec<u8>, value: &Value, depth: usize) -> Result<(), CanonError> {
    write_value(out, value, depth)
}

/// Appends the canonical bytes of the object `map`, nested inside `depth`
/// containers of the caller's.
pub fn append_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    depth: usize,
) -> Result<(), CanonError> {
    write_object(out, map, depth + 1, &|_| true)
}

/// Appends `s` as a canonical JSON string (quotes and RFC 8785 escapes).
pub fn append_string(out: &mut Vec<u8>, s: &str) {
    write_string(out, s)
}

/// Canonical text of `value` (the same bytes as [`canonicalize`], as a `String`).
pub fn canonical_string(value: &Value) -> Result<String, CanonError> {
    // JCS output is UTF-8 by construction; rebuild the String without re-checking.
    let bytes = canonicalize(value)?;
    String::from_utf8(bytes).map_err(|_| CanonError::NonFinite)
}

fn write_value(out: &mut Vec<u8>, value: &Value, depth: usize) -> Result<(), CanonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            let depth = depth + 1;
            if depth > MAX_DEPTH {
                return Err(CanonError::DepthExceeded);
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map, depth + 1, &|_| true)?,
    }
    Ok(())
}

fn write_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    depth: usize,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(), CanonError> {
    if depth > MAX_DEPTH {
        return Err(CanonError::DepthExceeded);
    }
    out.push(b'{');
    let mut first = true;
    let mut emit = |out: &mut Vec<u8>, k: &str, v: &Value| -> Result<(), CanonError> {
        if !first {
            out.push(b',');
        }
        first = false;
        write_string(out, k);
        out.push(b':');
        write_value(out, v, depth)
    };
    // serde_json's map iterates in UTF-8 byte order, which equals UTF-16 order
    // unless a key holds a character at or above U+E000 (where supplementary
    // characters, encoded as surrogates, sort *before* U+E000..U+FFFF in UTF-16).
    if map.keys().any(|k| needs_utf16_sort(k)) {
        let mut entries: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| keep(k)).collect();
        entries.sort_by(|a, b| utf16_cmp(a.0, b.0));
        for (k, v) in entries {
            emit(out, k, v)?;
        }
    } else {
        for (k, v) in map.iter().filter(|(k, _)| keep(k)) {
            emit(out, k, v)?;
        }
    }
    out.push(b'}');
    Ok(())
}

fn needs_utf16_sort(key: &str) -> bool {
    // Lead bytes 0xEE/0xEF start U+E000..U+FFFF; 0xF0.. start supplementary characters.
    key.bytes().any(|b| b >= 0xEE)
}

/// Orders two strings by their UTF-16 code units (RFC 8785 §3.2.3).
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), CanonError> {
    let f = n.as_f64().ok_or(CanonError::NonFinite)?;
    write_f64(out, f)
}

/// Appends the ECMAScript `Number.prototype.toString` form of `f`.
pub(crate) fn write_f64(out: &mut Vec<u8>, f: f64) -> Result<(), CanonError> {
    if !f.is_finite() {
        return Err(CanonError::NonFinite);
    }
    if f == 0.0 {
        // both +0 and -0 print as "0"
        out.push(b'0');
        return Ok(());
    }
    let mut buf = ryu_js::Buffer::new();
    out.extend_from_slice(buf.format_finite(f).as_bytes());
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_str;

    fn canon(text: &str) -> String {
        canonical_string(&parse_str(text).unwrap()).unwrap()
    }

    #[test]
    fn numbers_follow_ecmascript() {
        assert_eq!(
            canon("[333333333.33333329,1e30,4.50,2e-3,0.000001,1e-7,1e21,1e20,-0,-0.0,9007199254740993,5e-324,1.7976931348623157e308]"),
            "[333333333.3333333,1e+30,4.5,0.002,0.000001,1e-7,1e+21,100000000000000000000,0,0,9007199254740992,5e-324,1.7976931348623157e+308]"
        );
        assert_eq!(
            canon("[0.1,123e-20,-1.5e-9,100,1.0]"),
            "[0.1,1.23e-18,-1.5e-9,100,1]"
        );
    }

    #[test]
    fn strings_escape_exactly() {
        assert_eq!(
            canon(r#""\u0000\u001f\b\t\n\f\r\"\\/\u007f\u2028é😀""#),
            "\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\u{7f}\u{2028}é😀\""
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 (surrogates D83D DE00) sorts before U+E000 in UTF-16, after it in UTF-8.
        assert_eq!(
            canon("{\"\u{E000}\":1,\"\u{1F600}\":2,\"a\":3,\"ü\":4,\"ö\":5}"),
            "{\"a\":3,\"ö\":5,\"ü\":4,\"\u{1F600}\":2,\"\u{E000}\":1}"
        );
    }

    #[test]
    fn rfc8785_sample() {
        let input = r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn depth_bound() {
        let deep = "[".repeat(128) + &"]".repeat(128);
        assert!(canonicalize(&parse_str(&deep).unwrap()).is_ok());
        let mut v = Value::Array(vec![]);
        for _ in 0..128 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(canonicalize(&v), Err(CanonError::DepthExceeded));
    }
}
