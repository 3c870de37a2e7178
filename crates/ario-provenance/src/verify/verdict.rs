//! From checks to the verification panel and its status: a pure function,
//! so every summary is computed from the same data as the rows it sums up.

use serde::Serialize;

use super::check::{Check, CheckOutcome, FailReason, NotRunCause};
use crate::event::EventKind;

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Ran and failed.
    Fail,
    /// Could not run.
    Undetermined,
    /// Ran; the answer is not final yet (attestation below the bar).
    Pending,
    /// Nothing to check for this event.
    NotApplicable,
}

/// One line of the verification panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `Proof Found`, `Training Record Matches`, `Signature Confirmed`, `ar.io attestation`.
    pub label: String,
    /// Result.
    pub outcome: Outcome,
    /// Explanation.
    pub detail: String,
    /// Whether it decides the overall status.
    pub decisive: bool,
}

/// Overall result of one verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every decisive check ran and passed.
    Verified,
    /// A decisive check ran and failed.
    Failed,
    /// No anchor is recorded for the object.
    NotAnchored,
    /// The bytes at the transaction are not an envelope.
    Malformed,
    /// No gateway could be reached.
    Unavailable,
    /// A decisive check could not run.
    Undetermined,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 6] = [
        Status::Verified,
        Status::Failed,
        Status::NotAnchored,
        Status::Malformed,
        Status::Unavailable,
        Status::Undetermined,
    ];

    /// 0 verified, 1 failed, 2 not anchored or malformed, 3 unavailable or undetermined.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Verified => 0,
            Status::Failed => 1,
            Status::NotAnchored | Status::Malformed => 2,
            Status::Unavailable | Status::Undetermined => 3,
        }
    }
    /// `Some(true)` verified, `Some(false)` failed or malformed, `None` otherwise.
    pub fn ok(self) -> Option<bool> {
        match self {
            Status::Verified => Some(true),
            Status::Failed | Status::Malformed => Some(false),
            _ => None,
        }
    }
}

/// Label of the first row.
pub const PROOF_FOUND: &str = "Proof Found";
/// Label of the signature row.
pub const SIGNATURE_CONFIRMED: &str = "Signature Confirmed";
/// Label of the attestation row.
pub const ATTESTATION: &str = "ar.io attestation";
/// Label of the trust-policy row.
pub const SIGNER_TRUSTED: &str = "Signer Trusted";
/// Label of the anchor-history row.
pub const ANCHOR_HISTORY: &str = "Anchor History";

/// Every check of one verification. Only `proof` is present when no
/// envelope was obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSet {
    /// The envelope was fetched and is about the object asked about.
    pub proof: Check,
    /// The rest, once an envelope was obtained.
    pub envelope: Option<EnvelopeChecks>,
}

/// The checks run on an obtained envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvelopeChecks {
    /// Ed25519 signature and profile.
    pub signature: Check,
    /// The stored payload bytes hash to `payload_hash`.
    pub anchored_bytes: Check,
    /// The payload re-derived from live MLflow equals the stored bytes.
    pub source_of_truth: Check,
    /// ar.io Verify attestation.
    pub ario_attestation: Check,
    /// The signing key (and uploader) against the trust policy.
    pub signer_trusted: Check,
    /// Other anchors of the same subject.
    pub anchor_history: Check,
}

/// One panel row.
pub(crate) fn row(label: &str, outcome: Outcome, detail: impl Into<String>, decisive: bool) -> Row {
    Row {
        label: label.into(),
        outcome,
        detail: detail.into(),
        decisive,
    }
}

fn plain(c: &Check) -> Outcome {
    match c.outcome {
        CheckOutcome::Passed => Outcome::Pass,
        CheckOutcome::Failed(_) => Outcome::Fail,
        CheckOutcome::NotRun(_) => Outcome::Undetermined,
    }
}

/// The record row: the stored bytes, then live MLflow.
fn record_row(kind: Option<EventKind>, c: &EnvelopeChecks) -> Row {
    let label = kind.map_or("Record Matches", EventKind::record_label);
    let (bytes, live) = (&c.anchored_bytes, &c.source_of_truth);
    let (outcome, detail) = match (bytes.outcome, live.outcome) {
        (CheckOutcome::Failed(_), _) => (Outcome::Fail, bytes.message.clone()),
        (_, CheckOutcome::Failed(_)) => (Outcome::Fail, live.message.clone()),
        (CheckOutcome::NotRun(_), _) => (Outcome::Undetermined, bytes.message.clone()),
        (CheckOutcome::Passed, CheckOutcome::NotRun(NotRunCause::NoLiveSurface)) => (
            Outcome::Pass,
            "anchored bytes match (no live MLflow surface for this event)".to_owned(),
        ),
        (CheckOutcome::Passed, CheckOutcome::NotRun(_)) => {
            (Outcome::Undetermined, live.message.clone())
        }
        (CheckOutcome::Passed, CheckOutcome::Passed) => (
            Outcome::Pass,
            "live MLflow matches anchored bytes".to_owned(),
        ),
    };
    row(label, outcome, detail, true)
}

/// The attestation row: informative unless the attestation is shown false.
pub(crate) fn attestation_row(c: &Check) -> Row {
    match c.outcome {
        CheckOutcome::Passed => row(ATTESTATION, Outcome::Pass, c.message.clone(), false),
        CheckOutcome::Failed(FailReason::AttestationBelowThreshold) => row(
            ATTESTATION,
            Outcome::Pending,
            format!("Pending verification: {}", c.message),
            false,
        ),
        CheckOutcome::Failed(_) => row(ATTESTATION, Outcome::Fail, c.message.clone(), true),
        CheckOutcome::NotRun(_) => {
            row(ATTESTATION, Outcome::Undetermined, c.message.clone(), false)
        }
    }
}

/// The trust row: decisive whenever a policy was given; without one it
/// says plainly that any key was accepted.
fn trust_row(c: &Check) -> Row {
    match c.outcome {
        CheckOutcome::NotRun(NotRunCause::NoTrustPolicy) => row(
            SIGNER_TRUSTED,
            Outcome::NotApplicable,
            c.message.clone(),
            false,
        ),
        _ => row(SIGNER_TRUSTED, plain(c), c.message.clone(), true),
    }
}

/// The history row: decisive unless the event has no single anchor to compare.
fn history_row(c: &Check) -> Row {
    match c.outcome {
        CheckOutcome::NotRun(NotRunCause::HistoryNotApplicable) => row(
            ANCHOR_HISTORY,
            Outcome::NotApplicable,
            c.message.clone(),
            false,
        ),
        _ => row(ANCHOR_HISTORY, plain(c), c.message.clone(), true),
    }
}

/// The panel of one verification.
pub fn rows(kind: Option<EventKind>, checks: &CheckSet) -> Vec<Row> {
    let mut out = vec![row(
        PROOF_FOUND,
        plain(&checks.proof),
        checks.proof.message.clone(),
        true,
    )];
    if let Some(c) = &checks.envelope {
        out.push(record_row(kind, c));
        let sig = match c.signature.outcome {
            CheckOutcome::Passed => "signature valid".to_owned(),
            _ => c.signature.message.clone(),
        };
        out.push(row(SIGNATURE_CONFIRMED, plain(&c.signature), sig, true));
        out.push(trust_row(&c.signer_trusted));
        out.push(history_row(&c.anchor_history));
        out.push(attestation_row(&c.ario_attestation));
    }
    out
}

/// The status the rows support: verified only when every decisive row passed.
pub fn status(checks: &CheckSet, rows: &[Row]) -> Status {
    match checks.proof.outcome {
        CheckOutcome::NotRun(NotRunCause::GatewayUnavailable) => return Status::Unavailable,
        CheckOutcome::Failed(FailReason::NotAnEnvelope) => return Status::Malformed,
        _ => {}
    }
    status_of_rows(rows)
}

/// Failed when a decisive row failed, undetermined when one did not pass,
/// else verified (and undetermined when there is no decisive row at all).
pub fn status_of_rows(rows: &[Row]) -> Status {
    let decisive: Vec<&Row> = rows.iter().filter(|r| r.decisive).collect();
    if decisive.iter().any(|r| r.outcome == Outcome::Fail) {
        Status::Failed
    } else if decisive.is_empty() || decisive.iter().any(|r| r.outcome != Outcome::Pass) {
        Status::Undetermined
    } else {
        Status::Verified
    }
}

#[cfg(test)]
mod tests;
