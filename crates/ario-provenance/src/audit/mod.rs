//! `audit`: the whole lineage of a model version — training, its datasets,
//! registration, every promotion and alias move, and the recorded decisions —
//! each verified, with the model files re-hashed.
//!
//! Every summary (per stage, the decision count, the overall verdict) is
//! computed here from the stages themselves, so it never claims more than
//! its rows. The JSON form keeps every `ario.mlflow.audit/v1` member (a
//! compatible superset of the plugin's bundle).

mod batches;
mod collect;
pub mod intoto;

pub use batches::{batch_summary, BatchSummary};

use serde::Serialize;

use crate::event::EventKind;
use crate::integrity::ModelFiles;
use crate::verify::verdict::{EnvelopeChecks, Row, Status};
use crate::verify::Verification;

/// Schema id of the audit bundle.
pub const SCHEMA: &str = "ario.mlflow.audit/v1";

/// One stage of the lineage.
#[derive(Debug, Clone, Serialize)]
pub struct AuditStage {
    /// Its event kind (serialized as the stage name: `training`, `dataset`, …).
    #[serde(serialize_with = "stage_name")]
    pub stage: EventKind,
    /// Transaction, when anchored.
    pub tx_id: Option<String>,
    /// Whether a transaction is recorded.
    pub anchored: bool,
    /// The checks.
    pub checks: Option<EnvelopeChecks>,
    /// `true` verified, `false` failed, `null` not anchored or undetermined.
    pub ok: Option<bool>,
    /// What the stage is (`None → Production`, `alias champion`, a decision id…).
    pub detail: String,
    /// The envelope's event id, when known.
    pub event_id: Option<String>,
    /// When it was signed.
    pub signed_at: Option<String>,
    /// Verification status of the stage (`null`: not anchored).
    pub status: Option<Status>,
    /// The verification panel.
    pub rows: Vec<Row>,
    /// Decisions covered (decision batches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaves: Option<u64>,
}

fn stage_name<S: serde::Serializer>(k: &EventKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.stage_name())
}

impl AuditStage {
    pub(crate) fn verified(kind: EventKind, detail: String, v: Verification) -> Self {
        let env = v.envelope.as_ref();
        AuditStage {
            stage: kind,
            tx_id: v.tx_id.clone(),
            anchored: true,
            checks: v.checks.clone(),
            ok: v.status.ok(),
            detail,
            event_id: env.and_then(|e| e.event_id.clone()),
            signed_at: env.and_then(|e| e.signed_at.clone()),
            status: Some(v.status),
            rows: v.rows,
            leaves: None,
        }
    }

    pub(crate) fn unanchored(
        kind: EventKind,
        detail: String,
        envelope: Option<&ario_envelope::Envelope>,
    ) -> Self {
        AuditStage {
            stage: kind,
            tx_id: None,
            anchored: false,
            checks: None,
            ok: None,
            detail,
            event_id: envelope.and_then(|e| e.event_id.clone()),
            signed_at: envelope.and_then(|e| e.signed_at.clone()),
            status: None,
            rows: vec![],
            leaves: None,
        }
    }
}

/// One model file, re-hashed.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// Path below the model directory.
    pub path: String,
    /// Hash now (`null`: the file is gone).
    pub sha256: Option<String>,
    /// Hash in the training payload (`null`: not anchored).
    pub anchored_sha256: Option<String>,
    /// Equal.
    pub ok: bool,
}

/// The model files against what was anchored.
#[derive(Debug, Clone, Serialize)]
pub struct Integrity {
    /// `ario.artifact_hash` of the source run.
    pub expected: Option<String>,
    /// The directory digest now.
    pub computed: Option<String>,
    /// `true` equal, `false` different, `null` could not be checked.
    pub ok: Option<bool>,
    /// File by file.
    pub files: Vec<FileCheck>,
    /// Why it could not be checked.
    pub error: Option<String>,
}

impl Integrity {
    /// `path -> sha256` of every file that could be re-hashed.
    pub fn digests(&self) -> std::collections::BTreeMap<String, String> {
        self.files
            .iter()
            .filter_map(|f| f.sha256.as_ref().map(|h| (f.path.clone(), h.clone())))
            .collect()
    }

    /// The integrity section from the shared check and the per-file hashes
    /// anchored in the training payload.
    pub(crate) fn from_files(
        files: &ModelFiles,
        anchored: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        let error = match &files.verdict {
            crate::IntegrityVerdict::Unavailable { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        let now = &files.checksums;
        let mut paths: Vec<&String> = if error.is_some() {
            vec![]
        } else {
            now.keys().chain(anchored.keys()).collect()
        };
        paths.sort();
        paths.dedup();
        Integrity {
            expected: files.expected.clone(),
            computed: files.computed.clone(),
            ok: files.verdict.ok(),
            files: paths
                .into_iter()
                .map(|p| FileCheck {
                    path: p.clone(),
                    sha256: now.get(p).cloned(),
                    anchored_sha256: anchored.get(p).cloned(),
                    ok: now.contains_key(p) && now.get(p) == anchored.get(p),
                })
                .collect(),
            error,
        }
    }
}

/// Decision counts, all computed from the decision stages.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionSummary {
    /// Decisions recorded under the model's run.
    pub total: usize,
    /// Decisions looked at in this audit (the latest ones).
    pub audited: usize,
    /// Of those, how many verified.
    pub verified: usize,
}

/// The audit bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Registered model.
    pub model: String,
    /// Version.
    pub version: String,
    /// When (UTC).
    pub generated_at: String,
    /// MLflow tracking URI.
    pub tracking_uri: String,
    /// Source run.
    pub run_id: Option<String>,
    /// Current stage.
    pub current_stage: Option<String>,
    /// `ario.artifact_hash`.
    pub artifact_hash: Option<String>,
    /// Lineage, in order.
    pub stages: Vec<AuditStage>,
    /// The overall verdict ([`overall`]).
    pub overall: Status,
    /// `overall` is verified.
    pub overall_ok: bool,
    /// Aliases now pointing at the version.
    pub aliases: Vec<String>,
    /// The model files re-hashed.
    pub artifact_integrity: Integrity,
    /// Decisions.
    pub decisions: DecisionSummary,
    /// Batched decisions (checkpoints).
    pub decision_batches: BatchSummary,
}

/// The overall verdict of a lineage: verified only when every stage is
/// anchored and verified and the files match; failed when a stage failed or
/// the files differ; not anchored when no stage is; else undetermined (a
/// check could not run, or an upload still waits in the outbox).
pub fn overall(stages: &[AuditStage], integrity: Option<bool>) -> Status {
    if stages.iter().any(|s| s.ok == Some(false)) || integrity == Some(false) {
        Status::Failed
    } else if !stages.iter().any(|s| s.anchored) {
        Status::NotAnchored
    } else if stages.iter().all(|s| s.ok == Some(true)) {
        Status::Verified
    } else {
        Status::Undetermined
    }
}

/// Counts the decision stages.
pub fn decision_summary(stages: &[AuditStage], total: usize) -> DecisionSummary {
    let decisions: Vec<&AuditStage> = stages
        .iter()
        .filter(|s| s.stage == EventKind::Prediction)
        .collect();
    DecisionSummary {
        total,
        audited: decisions.len(),
        verified: decisions.iter().filter(|s| s.ok == Some(true)).count(),
    }
}

impl Audit {
    /// The exit code of the overall verdict.
    pub fn exit_code(&self) -> u8 {
        self.overall.exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(kind: EventKind, anchored: bool, ok: Option<bool>) -> AuditStage {
        AuditStage {
            stage: kind,
            tx_id: None,
            anchored,
            checks: None,
            ok,
            detail: String::new(),
            event_id: None,
            signed_at: None,
            status: None,
            rows: vec![],
            leaves: None,
        }
    }

    #[test]
    fn overall_never_claims_more_than_its_stages() {
        use EventKind::*;
        let t = |a, ok| stage(Training, a, ok);
        assert_eq!(
            overall(&[t(true, Some(true))], Some(true)),
            Status::Verified
        );
        assert_eq!(overall(&[t(true, Some(true))], None), Status::Verified);
        assert_eq!(overall(&[t(true, Some(true))], Some(false)), Status::Failed);
        assert_eq!(overall(&[t(true, None)], Some(true)), Status::Undetermined);
        assert_eq!(overall(&[t(false, None)], Some(true)), Status::NotAnchored);
        assert_eq!(overall(&[], None), Status::NotAnchored);
        // A stage still waiting in the outbox keeps the lineage from being verified.
        assert_eq!(
            overall(
                &[t(true, Some(true)), stage(Prediction, false, None)],
                Some(true)
            ),
            Status::Undetermined
        );
        assert_eq!(
            overall(&[t(true, Some(false)), stage(Prediction, true, None)], None),
            Status::Failed
        );
    }

    #[test]
    fn decision_counts_come_from_the_decision_stages() {
        use EventKind::*;
        let stages = [
            stage(Training, true, Some(true)),
            stage(Prediction, true, Some(true)),
            stage(Prediction, true, None),
            stage(Prediction, false, None),
        ];
        let d = decision_summary(&stages, 7);
        assert_eq!((d.total, d.audited, d.verified), (7, 3, 1));
    }
}
