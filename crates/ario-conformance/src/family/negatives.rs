//! `negatives`: envelope bytes that must be rejected, for a pinned reason.

use serde_json::Value;

use crate::check::{ensure, get, hexb, s, verify_opts, Check};

/// Runs one negative vector: rejected, for the pinned reason.
pub(crate) fn check(v: &Value) -> Check {
    ensure!(
        get(v, &["expect", "accepts"])? == &Value::Bool(false),
        "negative vector does not expect rejection"
    );
    let raw = hexb(v, &["envelope_bytes_hex"])?;
    let verdict = ario_envelope::envelope::verify_envelope_bytes(&raw, verify_opts(None));
    ensure!(!verdict.ok, "negative vector accepted");
    let reason = s(v, &["expect", "reason"])?;
    ensure!(
        verdict.reasons.iter().any(|r| r.as_str() == reason),
        "rejected, but not for {reason:?} (got {:?})",
        verdict.reasons
    );
    Ok(())
}
