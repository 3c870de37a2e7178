//! One check's result as data: passed, failed for a typed reason, or not
//! run for a typed cause. A check that could not run is never a pass.

use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};

/// Why a check that ran did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailReason {
    /// The gateways answered, but not with the envelope.
    EnvelopeNotFound,
    /// The bytes at the transaction are not a JSON object.
    NotAnEnvelope,
    /// The envelope names another object than the one asked about.
    SubjectMismatch,
    /// The stored payload does not hash to the envelope's `payload_hash`.
    AnchoredBytesMismatch,
    /// MLflow answered, but the stored payload is not there.
    PayloadArtifactMissing,
    /// The stored payload is not a JSON object.
    PayloadUnreadable,
    /// Live MLflow differs from the anchored payload.
    LiveMismatch,
    /// MLflow answered, but not every live member could be read again.
    LiveRefetchIncomplete,
    /// The signature or the envelope's form does not hold.
    SignatureInvalid,
    /// The envelope's `spec_version` is not one we accept.
    UnsupportedSpecVersion,
    /// ar.io Verify attested below the level required.
    AttestationBelowThreshold,
    /// The attestation does not hold (operator signature or bindings).
    AttestationInvalid,
    /// ar.io Verify answered without a usable result.
    AttestationNoResult,
    /// The signing key is not in the trust policy.
    UnknownSigner,
    /// The envelope was signed before the key's window opened.
    KeyNotYetValid,
    /// The envelope was signed after the key's window closed.
    KeyExpired,
    /// The envelope was signed after the key was retired.
    KeyRetired,
    /// The data item's owner is not a listed uploader.
    UntrustedUploader,
    /// Another anchor of the same subject by an accepted signer commits to other bytes.
    HistoryConflict,
    /// This anchor declares that it replaces an earlier one of the same subject.
    AnchorSuperseded,
    /// The batch file holds fewer or more records than the checkpoint counted
    /// (a decision dropped or added).
    BatchIncomplete,
    /// A record of the batch file sits at another position than its id says.
    BatchReordered,
    /// The batch file's records do not hash to the anchored root (a record changed).
    BatchRootMismatch,
    /// The batch file is unreadable or names another batch.
    BatchUnreadable,
    /// The checkpoint's first or last decision time is not the batch file's.
    BatchSummaryMismatch,
    /// The decision is not in its batch file.
    DecisionNotInBatch,
    /// The decision's record does not lead to the anchored root.
    InclusionFailed,
    /// The checkpoint before this one was never anchored.
    CheckpointMissing,
    /// The previous checkpoint commits to other bytes than this one names.
    CheckpointChainBroken,
    /// Another checkpoint of the same batch by an accepted signer commits to other bytes.
    CheckpointForked,
}

impl FailReason {
    /// The stable code (`snake_case`).
    pub fn code(self) -> &'static str {
        match self {
            FailReason::EnvelopeNotFound => "envelope_not_found",
            FailReason::NotAnEnvelope => "not_an_envelope",
            FailReason::SubjectMismatch => "subject_mismatch",
            FailReason::AnchoredBytesMismatch => "anchored_bytes_mismatch",
            FailReason::PayloadArtifactMissing => "payload_artifact_missing",
            FailReason::PayloadUnreadable => "payload_unreadable",
            FailReason::LiveMismatch => "live_mismatch",
            FailReason::LiveRefetchIncomplete => "live_refetch_incomplete",
            FailReason::SignatureInvalid => "signature_invalid",
            FailReason::UnsupportedSpecVersion => "unsupported_spec_version",
            FailReason::AttestationBelowThreshold => "attestation_below_threshold",
            FailReason::AttestationInvalid => "attestation_invalid",
            FailReason::AttestationNoResult => "attestation_no_result",
            FailReason::UnknownSigner => "unknown_signer",
            FailReason::KeyNotYetValid => "key_not_yet_valid",
            FailReason::KeyExpired => "key_expired",
            FailReason::KeyRetired => "key_retired",
            FailReason::UntrustedUploader => "untrusted_uploader",
            FailReason::HistoryConflict => "history_conflict",
            FailReason::AnchorSuperseded => "anchor_superseded",
            FailReason::BatchIncomplete => "batch_incomplete",
            FailReason::BatchReordered => "batch_reordered",
            FailReason::BatchRootMismatch => "batch_root_mismatch",
            FailReason::BatchUnreadable => "batch_unreadable",
            FailReason::BatchSummaryMismatch => "batch_summary_mismatch",
            FailReason::DecisionNotInBatch => "decision_not_in_batch",
            FailReason::InclusionFailed => "inclusion_failed",
            FailReason::CheckpointMissing => "checkpoint_missing",
            FailReason::CheckpointChainBroken => "checkpoint_chain_broken",
            FailReason::CheckpointForked => "checkpoint_forked",
        }
    }
}

/// Why a check could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotRunCause {
    /// MLflow could not be reached.
    MlflowUnreachable,
    /// MLflow's authentication refused the request (credentials or permission).
    MlflowRefused,
    /// No gateway could be reached.
    GatewayUnavailable,
    /// MLflow keeps no second copy of this event's facts; the stored payload
    /// is the whole record (promotions, alias moves, decisions without a trace).
    NoLiveSurface,
    /// An earlier check yielded no payload to compare.
    NoPayload,
    /// A dataset anchor can be re-derived only from a run named by the caller.
    DatasetRunNotGiven,
    /// The envelope's subject is not one we can locate in MLflow.
    SubjectNotLocatable,
    /// The model files could not be hashed again.
    ArtifactsNotHashable,
    /// No ar.io Verify service is configured.
    AttestationNotEnabled,
    /// ar.io Verify could not be reached.
    AttestationUnreachable,
    /// The attesting operator's key could not be obtained.
    OperatorKeyUnavailable,
    /// No trust policy was given: any signing key is accepted.
    NoTrustPolicy,
    /// The data item's uploader could not be found out.
    UploaderUnknown,
    /// The attestation lacks a member needed to check what it binds.
    AttestationIncomplete,
    /// The gateways' GraphQL could not be asked for the subject's anchors.
    HistoryUnavailable,
    /// The event happens many times per subject: no history to compare.
    HistoryNotApplicable,
    /// The stored file is larger than a verifier reads back.
    ArtifactTooLarge,
    /// More anchors claim the subject than are looked at, and none of
    /// those looked at settles the check.
    AnchorsCapped,
}

impl NotRunCause {
    /// The stable code (`snake_case`).
    pub fn code(self) -> &'static str {
        match self {
            NotRunCause::MlflowUnreachable => "mlflow_unreachable",
            NotRunCause::MlflowRefused => "mlflow_refused",
            NotRunCause::GatewayUnavailable => "gateway_unavailable",
            NotRunCause::NoLiveSurface => "no_live_surface",
            NotRunCause::NoPayload => "no_payload_to_compare",
            NotRunCause::DatasetRunNotGiven => "dataset_run_not_given",
            NotRunCause::SubjectNotLocatable => "subject_not_locatable",
            NotRunCause::ArtifactsNotHashable => "artifacts_not_hashable",
            NotRunCause::AttestationNotEnabled => "attestation_not_enabled",
            NotRunCause::AttestationUnreachable => "attestation_unreachable",
            NotRunCause::OperatorKeyUnavailable => "operator_key_unavailable",
            NotRunCause::NoTrustPolicy => "no_trust_policy",
            NotRunCause::UploaderUnknown => "uploader_unknown",
            NotRunCause::AttestationIncomplete => "attestation_incomplete",
            NotRunCause::HistoryUnavailable => "history_unavailable",
            NotRunCause::HistoryNotApplicable => "history_not_applicable",
            NotRunCause::ArtifactTooLarge => "artifact_too_large",
            NotRunCause::AnchorsCapped => "anchors_capped",
        }
    }
}

/// What ar.io Verify said about a transaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attestation {
    /// Level reached.
    pub attestation_level: u8,
    /// Attesting gateway.
    pub attested_by: Option<String>,
    /// When.
    pub attested_at: Option<String>,
    /// Report page.
    pub report_url: Option<String>,
    /// Minimum level counted as attested.
    pub min_attestation_level: u8,
    /// What the check rested on, kept so it can be run again offline (an
    /// evidence bundle carries it); not part of a verification's JSON.
    #[serde(skip)]
    pub evidence: Option<Box<AttestationEvidence>>,
}

/// The answer an attestation check judged: ar.io Verify's answer as given
/// and the operator's public key, enough to check the operator's signature
/// and what it binds again without the service.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AttestationEvidence {
    /// Verify's answer for the transaction, as given.
    pub answer: serde_json::Value,
    /// The operator's RSA modulus (base64url; the exponent is 65537), when
    /// the service gave it.
    pub operator_key_n: Option<String>,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Ran and passed.
    Passed,
    /// Ran and failed.
    Failed(FailReason),
    /// Could not run.
    NotRun(NotRunCause),
}

/// One check: its outcome, a sentence for people, and (for the attestation
/// check) what the attesting service said.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The outcome.
    pub outcome: CheckOutcome,
    /// The explanation shown to people (empty on a plain pass).
    pub message: String,
    /// Attestation details (the attestation check only).
    pub attestation: Option<Attestation>,
}

impl Check {
    /// A pass.
    pub fn passed(message: impl Into<String>) -> Self {
        Self::new(CheckOutcome::Passed, message)
    }
    /// A failure.
    pub fn failed(reason: FailReason, message: impl Into<String>) -> Self {
        Self::new(CheckOutcome::Failed(reason), message)
    }
    /// A check that could not run.
    pub fn not_run(cause: NotRunCause, message: impl Into<String>) -> Self {
        Self::new(CheckOutcome::NotRun(cause), message)
    }
    fn new(outcome: CheckOutcome, message: impl Into<String>) -> Self {
        Check {
            outcome,
            message: message.into(),
            attestation: None,
        }
    }
    /// The same check carrying attestation details.
    pub fn with_attestation(mut self, a: Attestation) -> Self {
        self.attestation = Some(a);
        self
    }
    /// `Some(true)` passed, `Some(false)` failed, `None` not run.
    pub fn ok(&self) -> Option<bool> {
        match self.outcome {
            CheckOutcome::Passed => Some(true),
            CheckOutcome::Failed(_) => Some(false),
            CheckOutcome::NotRun(_) => None,
        }
    }
    /// The reason, when it failed.
    pub fn fail_reason(&self) -> Option<FailReason> {
        match self.outcome {
            CheckOutcome::Failed(r) => Some(r),
            _ => None,
        }
    }
    /// The cause, when it could not run.
    pub fn not_run_cause(&self) -> Option<NotRunCause> {
        match self.outcome {
            CheckOutcome::NotRun(c) => Some(c),
            _ => None,
        }
    }
}

/// The plugin's `{"ok", "reason"}` shape, plus a `code` when the check did
/// not pass and the attestation members when present.
impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ok", &self.ok())?;
        m.serialize_entry("reason", &self.message)?;
        match self.outcome {
            CheckOutcome::Passed => {}
            CheckOutcome::Failed(r) => m.serialize_entry("code", r.code())?,
            CheckOutcome::NotRun(c) => m.serialize_entry("code", c.code())?,
        }
        if let Some(a) = &self.attestation {
            m.serialize_entry("attestation_level", &a.attestation_level)?;
            m.serialize_entry("attested_by", &a.attested_by)?;
            m.serialize_entry("attested_at", &a.attested_at)?;
            m.serialize_entry("report_url", &a.report_url)?;
            m.serialize_entry("min_attestation_level", &a.min_attestation_level)?;
        }
        m.end()
    }
}
