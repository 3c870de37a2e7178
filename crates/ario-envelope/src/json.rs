//! Strict JSON reader for untrusted input.
//!
//! Envelopes, payloads and vectors arrive from gateways, files and other
//! kernels. This reader turns their bytes into a [`serde_json::Value`] under
//! the kernel's input rules, which are stricter than `serde_json`'s:
//!
//! * container nesting deeper than [`MAX_DEPTH`] is refused (no recursion limit
//!   surprises, no stack exhaustion);
//! * a `\uD800`-style escape that does not form a surrogate pair is refused;
//! * an object with the same key twice is refused (other kernels keep the last
//!   one; we refuse to guess which one a signer meant);
//! * a number literal outside the range of an IEEE-754 double is refused.
//!
//! Integer literals that fit in `i64`/`u64` keep their exact value (typed
//! readers see integers); everything else becomes an `f64`. Canonicalization
//! always formats numbers as doubles, as every kernel does.

use serde_json::{Map, Number, Value};

/// Deepest container nesting accepted anywhere in the kernel (root container = 1).
pub const MAX_DEPTH: usize = 128;

/// Why bytes were refused as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The bytes are not JSON (or not UTF-8).
    #[error("invalid JSON at byte {offset}: {what}")]
    Invalid {
        /// Byte offset of the problem.
        offset: usize,
        /// What was wrong there.
        what: &'static str,
    },
    /// An object repeats a key.
    #[error("duplicate object key {key:?} at byte {offset}")]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Byte offset of the second occurrence.
        offset: usize,
    },
    /// A `\u` escape names half of a surrogate pair without the other half.
    #[error("lone UTF-16 surrogate escape at byte {offset}")]
    LoneSurrogate {
        /// Byte offset of the escape.
        offset: usize,
    },
    /// Containers nest deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH} containers at byte {offset}")]
    DepthExceeded {
        /// Byte offset of the container that crossed the bound.
        offset: usize,
    },
    /// A number literal overflows a double.
    #[error("number out of double range at byte {offset}")]
    NumberOutOfRange {
        /// Byte offset of the literal.
        offset: usize,
    },
}

/// Parses `bytes` as one JSON value under the strict rules of this module.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|e| JsonError::Invalid {
        offset: e.valid_up_to(),
        what: "not valid UTF-8",
    })?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters after the value"));
    }
    Ok(v)
}

/// Parses a JSON text held in a `str` (see [`parse`]).
pub fn parse_str(text: &str) -> Result<Value, JsonError> {
    parse(text.as_bytes())
}

/// True when `value` nests containers deeper than `max` (root container = 1).
///
/// Iterative, so it is safe on values of any depth.
pub fn exceeds_depth(value: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        if d > max {
            return true;
        }
        for c in children {
            if c.is_array() || c.is_object() {
                stack.push((c, d + 1));
            }
        }
    }
    false
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> JsonError {
        JsonError::Invalid {
            offset: self.i,
            what,
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &'static str, v: Value) -> Result<Value, JsonError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            Err(JsonError::DepthExceeded { offset: self.i })
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.i += 1;
        let mut map = Map::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected an object key"));
            }
            let at = self.i;
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            if map.contains_key(&key) {
                return Err(JsonError::DuplicateKey { key, offset: at });
            }
            map.insert(key, v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let mut v: u16 = 0;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = (v << 4) | u16::from(n);
        }
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // `text` is valid UTF-8 and we only stop on ASCII bytes, so this
            // slice is on character boundaries.
            out.push_str(&self.text[start..self.i]);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let at = self.i;
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("truncated escape"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = match hi {
                                0xD800..=0xDBFF => {
                                    if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                        return Err(JsonError::LoneSurrogate { offset: at });
                                    }
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return Err(JsonError::LoneSurrogate { offset: at });
                                    }
                                    0x10000
                                        + ((u32::from(hi) - 0xD800) << 10)
                                        + (u32::from(lo) - 0xDC00)
                                }
                                0xDC00..=0xDFFF => {
                                    return Err(JsonError::LoneSurrogate { offset: at })
                                }
                                _ => u32::from(hi),
                            };
                            let ch = char::from_u32(cp)
                                .ok_or(JsonError::LoneSurrogate { offset: at })?;
                            out.push(ch);
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("digit expected after '.'"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("digit expected in exponent"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
        }
        let lit = &self.text[start..self.i];
        if integral {
            if let Ok(v) = lit.parse::<i64>() {
                return Ok(Value::Number(v.into()));
            }
            if let Ok(v) = lit.parse::<u64>() {
                return Ok(Value::Number(v.into()));
            }
        }
        let f: f64 = lit
            .parse()
            .map_err(|_| JsonError::NumberOutOfRange { offset: start })?;
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or(JsonError::NumberOutOfRange { offset: start })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nest(n: usize) -> String {
        "[".repeat(n) + &"]".repeat(n)
    }

    #[test]
    fn depth_bound_is_inclusive_at_128() {
        assert!(parse_str(&nest(128)).is_ok());
        assert!(matches!(
            parse_str(&nest(129)),
            Err(JsonError::DepthExceeded { .. })
        ));
        let v = parse_str(&nest(128)).unwrap();
        assert!(!exceeds_depth(&v, 128));
        assert!(exceeds_depth(&v, 127));
    }

    #[test]
    fn refuses_lone_surrogates_and_accepts_pairs() {
        assert!(matches!(
            parse_str(r#""a\uD800""#),
            Err(JsonError::LoneSurrogate { .. })
        ));
        assert!(matches!(
            parse_str(r#""\uDC00x""#),
            Err(JsonError::LoneSurrogate { .. })
        ));
        assert!(matches!(
            parse_str(r#""\uD800\u0041""#),
            Err(JsonError::LoneSurrogate { .. })
        ));
        assert_eq!(parse_str(r#""\uD83D\uDE00""#).unwrap(), "\u{1F600}");
    }

    #[test]
    fn refuses_duplicate_keys() {
        assert!(matches!(
            parse_str(r#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateKey { .. })
        ));
        assert!(parse_str(r#"{"a":{"a":1}}"#).is_ok());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_str("12").unwrap(), Value::from(12));
        assert_eq!(parse_str("-0").unwrap(), Value::from(0));
        assert_eq!(
            parse_str("18446744073709551615").unwrap(),
            Value::from(u64::MAX)
        );
        assert!(parse_str("123456789012345678901234567890")
            .unwrap()
            .is_f64());
        assert!(matches!(
            parse_str("1e400"),
            Err(JsonError::NumberOutOfRange { .. })
        ));
        for bad in ["01", "1.", ".5", "+1", "1e", "-", "NaN", "Infinity"] {
            assert!(parse_str(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn grammar_errors() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "tru",
            "\"\u{1}\"",
            "1 2",
            "\"\\x\"",
        ] {
            assert!(parse_str(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse(b"\"\xff\"").is_err());
    }
}
