//! `jcs`: our RFC 8785 vectors (`test-vectors/jcs/`): each case's canonical
//! bytes, or the reason code its input is refused with.

use ario_envelope::jcs::canonicalize;
use serde_json::Value;

use crate::check::{ensure, get, s, Check};

/// Runs one `jcs` vector: every case.
pub(crate) fn check(v: &Value) -> Check {
    ensure!(
        s(v, &["format"])? == "ario-mlflow-rs/jcs-vector/v1",
        "unknown format"
    );
    for c in get(v, &["cases"])?.as_array().ok_or("cases")? {
        let name = s(c, &["name"])?;
        let got = match ario_envelope::json::parse_str(s(c, &["input_json"])?) {
            Ok(parsed) => match canonicalize(&parsed) {
                Ok(bytes) => Ok(hex::encode(bytes)),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(ario_envelope::envelope::reason_for_json_error(&e)
                .as_str()
                .to_owned()),
        };
        match (
            got,
            c.get("expect")
                .and_then(|e| e.get("canonical_hex"))
                .and_then(Value::as_str),
        ) {
            (Ok(h), Some(want)) => ensure!(h == want, "{name}: canonical bytes differ"),
            (Err(e), None) => ensure!(
                Some(e.as_str()) == c["expect"]["error"].as_str(),
                "{name}: refused for {e}"
            ),
            (got, _) => {
                return Err(format!(
                    "{name}: outcome {got:?} differs from {}",
                    c["expect"]
                ))
            }
        }
    }
    Ok(())
}
