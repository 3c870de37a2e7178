//! The one exit-code map of the command line, and how a failure is shown:
//! 0 verified or anchored, 1 a check failed or a model was refused, 2 not
//! anchored or malformed input, 3 undetermined (MLflow or a gateway
//! unreachable, an upload still waiting in the outbox).

use ario_mlflow_client::MlflowError;
use ario_provenance::{ErrorKind, ProvenanceError};
use serde_json::json;

/// Verified, or anchored.
pub(crate) const OK: u8 = 0;
/// A check ran and failed, or a model was refused.
pub(crate) const FAILED: u8 = 1;
/// Not anchored, or malformed input.
pub(crate) const MALFORMED: u8 = 2;
/// Could not be determined now.
pub(crate) const UNDETERMINED: u8 = 3;

/// The typed kind of a failure, found anywhere in its chain.
fn kind(err: &anyhow::Error) -> Option<ErrorKind> {
    err.chain().find_map(|e| {
        if let Some(p) = e.downcast_ref::<ProvenanceError>() {
            return Some(p.kind());
        }
        e.downcast_ref::<MlflowError>().map(|m| match m {
            MlflowError::Unreachable { .. } => ErrorKind::Unavailable,
            m if m.is_not_found() => ErrorKind::InvalidInput,
            _ => ErrorKind::Mlflow,
        })
    })
}

/// The exit code of a failure.
pub(crate) fn code(kind: Option<ErrorKind>) -> u8 {
    match kind {
        Some(ErrorKind::Refused) => FAILED,
        Some(ErrorKind::Unavailable | ErrorKind::Mlflow) => UNDETERMINED,
        Some(ErrorKind::InvalidInput | ErrorKind::Local) | None => MALFORMED,
    }
}

fn status_word(kind: Option<ErrorKind>) -> &'static str {
    match kind {
        Some(ErrorKind::Refused) => "refused",
        Some(ErrorKind::Unavailable | ErrorKind::Mlflow) => "undetermined",
        Some(ErrorKind::InvalidInput | ErrorKind::Local) | None => "malformed",
    }
}

fn kind_word(kind: Option<ErrorKind>) -> &'static str {
    match kind {
        Some(ErrorKind::Unavailable) => "unavailable",
        Some(ErrorKind::Refused) => "refused",
        Some(ErrorKind::InvalidInput) => "invalid_input",
        Some(ErrorKind::Mlflow) => "mlflow",
        Some(ErrorKind::Local) => "local",
        None => "invalid_input",
    }
}

/// Reports a failed command (one JSON document on stdout with `json`, else
/// one line on stderr naming each cause once) and returns its exit code.
pub(crate) fn report(err: &anyhow::Error, json: bool) -> u8 {
    let k = kind(err);
    let code = code(k);
    let message = format!("{err:#}");
    if json {
        let doc = json!({
            "status": status_word(k),
            "exit_code": code,
            "error": {"kind": kind_word(k), "message": message},
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    let prefix = if k == Some(ErrorKind::Refused) {
        "REFUSED"
    } else {
        "error"
    };
    eprintln!("{prefix}: {message}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_map_to_their_exit_codes() {
        let unreachable = anyhow::Error::from(ProvenanceError::Mlflow(MlflowError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            detail: "connection refused".into(),
        }))
        .context("anchoring run r");
        assert_eq!(code(kind(&unreachable)), UNDETERMINED);
        let refused = anyhow::Error::from(ProvenanceError::Unverifiable {
            model_uri: "models:/m/1".into(),
        });
        assert_eq!(code(kind(&refused)), FAILED);
        let bad = anyhow::anyhow!("--input is not valid JSON");
        assert_eq!(code(kind(&bad)), MALFORMED);
        let not_found = anyhow::Error::from(MlflowError::Api {
            status: 404,
            error_code: "RESOURCE_DOES_NOT_EXIST".into(),
            message: "no run".into(),
        });
        assert_eq!(code(kind(&not_found)), MALFORMED);
    }

    #[test]
    fn a_printed_chain_names_each_cause_once() {
        let e = anyhow::Error::from(ProvenanceError::Mlflow(MlflowError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            detail: "connection failed".into(),
        }))
        .context("anchoring run r");
        let text = format!("{e:#}");
        assert_eq!(text.matches("unreachable").count(), 1, "{text}");
    }
}
