//! `test-vectors/jcs/`: RFC 8785 edge cases and the kernel's strict-input refusals.

use ario_envelope::canonicalize;
use serde_json::{json, Value};

const JCS_FORMAT: &str = "ario-mlflow-rs/jcs-vector/v1";

/// The vector file.
pub(crate) fn jcs_vectors() -> anyhow::Result<Value> {
    let inputs: &[(&str, &str)] = &[
        ("numbers-es6", "[333333333.33333329,1E30,4.50,2e-3,0.000001,1e-7,1e21,1e20,-0,-0.0,0.1,5e-324,1.7976931348623157e308]"),
        ("integers-beyond-2^53", "[9007199254740991,9007199254740992,9007199254740993,18446744073709551615,-9007199254740993]"),
        ("utf16-key-order", "{\"\u{E000}\":1,\"\u{1F600}\":2,\"a\":3,\"\u{00FC}\":4,\"\u{00F6}\":5,\"\":6,\"aa\":7}"),
        ("string-escapes", "[\"\\u0000\\u0001\\u001f\\b\\t\\n\\f\\r\\\"\\\\\\/\\u007f\\u2028\\u2029\",\"caf\u{00E9}\",\"\\ud83d\\ude00\"]"),
        ("nested-and-empty", "{\"b\":[],\"a\":{},\"c\":[{\"z\":null,\"y\":true,\"x\":false}]}"),
        ("depth-128", &("[".repeat(128) + &"]".repeat(128))),
        ("depth-129", &("[".repeat(129) + &"]".repeat(129))),
        ("lone-surrogate", "{\"k\":\"\\ud800\"}"),
        ("duplicate-key", "{\"a\":1,\"a\":2}"),
        ("number-overflow", "[1e400]"),
    ];
    let mut cases = Vec::new();
    for (name, text) in inputs {
        let outcome = match ario_envelope::json::parse_str(text) {
            Ok(v) => match canonicalize(&v) {
                Ok(c) => {
                    json!({"canonical_hex": hex::encode(&c), "canonical_text": String::from_utf8(c)?})
                }
                Err(e) => json!({"error": e.to_string()}),
            },
            Err(e) => json!({"error": ario_envelope::envelope::reason_for_json_error(&e).as_str()}),
        };
        cases.push(json!({"name": name, "input_json": text, "expect": outcome}));
    }
    Ok(json!({
        "format": JCS_FORMAT,
        "description": "RFC 8785 edge cases plus the kernel's strict-input refusals",
        "cases": cases,
    }))
}
