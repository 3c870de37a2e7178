//! The decision batches of an audit: each checkpoint recorded under the
//! model's run, verified with its whole batch file (so every decision in it
//! is covered) and linked to the checkpoint before it.

use ario_mlflow_client::{ArtifactRoot, MlflowError};
use serde::Serialize;

use super::AuditStage;
use crate::checkpoint::{chain_hash, CheckpointPayload};
use crate::event::EventKind;
use crate::layout::{artifact_path, batch_folder, ArtifactFile};
use crate::verifier::Verifier;
use crate::verify::check::{Check, NotRunCause};
use crate::verify::decision::CHECKPOINT_CHAIN;
use crate::verify::verdict::{Outcome, Row, Status};
use crate::verify::{Expect, TargetKind};

/// Batch counts, computed from the batch stages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// Checkpointed batches recorded under the model's run.
    pub total: usize,
    /// Batches looked at in this audit (the latest ones).
    pub audited: usize,
    /// Of those, how many verified.
    pub verified: usize,
    /// Decisions in the verified batches.
    pub decisions_verified: u64,
}

/// Counts the batch stages.
pub fn batch_summary(stages: &[AuditStage], total: usize) -> BatchSummary {
    let batches: Vec<&AuditStage> = stages
        .iter()
        .filter(|s| s.stage == EventKind::DecisionCheckpoint)
        .collect();
    let verified: Vec<&&AuditStage> = batches.iter().filter(|s| s.ok == Some(true)).collect();
    BatchSummary {
        total,
        audited: batches.len(),
        verified: verified.len(),
        decisions_verified: verified.iter().filter_map(|s| s.leaves).sum(),
    }
}

/// Folds the chain row into a verified stage: a broken link fails it, an
/// unknown one leaves it undetermined.
fn with_chain(mut stage: AuditStage, chain: Row) -> AuditStage {
    let status = match (stage.status, chain.outcome) {
        (Some(Status::Verified), Outcome::Fail) => Some(Status::Failed),
        (Some(Status::Verified), Outcome::Undetermined) => Some(Status::Undetermined),
        (s, _) => s,
    };
    stage.status = status;
    stage.ok = status.and_then(Status::ok);
    stage.rows.push(chain);
    stage
}

/// `<stream>-<batch>` of a batch folder.
fn parse_folder(id: &str) -> Option<(String, u64)> {
    let (stream, seq) = id.rsplit_once('-')?;
    let stream: crate::checkpoint::StreamId = stream.parse().ok()?;
    let seq: u64 = seq.parse().ok()?;
    (batch_folder(stream.as_str(), seq) == id).then(|| (stream.to_string(), seq))
}

impl Verifier {
    /// The latest decision batches under the run (`limit`: how many; `None`: all).
    pub(crate) async fn decision_batches(
        &self,
        root: &ArtifactRoot,
        limit: Option<usize>,
        stages: &mut Vec<AuditStage>,
    ) -> Result<usize, MlflowError> {
        let kind = EventKind::DecisionCheckpoint;
        let mut recs = self.recorded(root, kind).await?;
        let total = recs.len();
        recs.reverse();
        for rec in recs.into_iter().take(limit.unwrap_or(usize::MAX)) {
            // The folder names the batch; what its files say is checked
            // against the anchor, never taken on their word.
            let Some((stream, seq)) = parse_folder(&rec.id) else {
                let why = format!("folder {} is not <stream>-<batch>", rec.id);
                stages.push(AuditStage::unanchored(kind, why, rec.envelope.as_ref()));
                continue;
            };
            let detail = format!("decision batch {}", rec.id);
            let Some(tx) = rec.tx.clone() else {
                let why = format!("{detail} (signed, upload pending)");
                stages.push(AuditStage::unanchored(kind, why, rec.envelope.as_ref()));
                continue;
            };
            let expect = Expect::Batch(stream, seq);
            let v = self
                .verify_tx(TargetKind::Decision, &detail, &tx, &expect)
                .await;
            let env = v.envelope.clone();
            // The payload as stored, when it is the one the anchor signed.
            let payload = self
                .read_json(root, artifact_path(kind, &rec.id, ArtifactFile::Payload))
                .await
                .and_then(|p| CheckpointPayload::from_json(&p))
                .filter(|p| {
                    chain_hash(p).ok().as_deref()
                        == env.as_ref().and_then(|e| e.payload_hash.as_deref())
                });
            let chain = match &payload {
                Some(p) => {
                    let key = env
                        .as_ref()
                        .and_then(|e| e.public_key.clone())
                        .unwrap_or_default();
                    let previous = env.as_ref().and_then(|e| e.previous_hash.clone());
                    self.chain_check(p, previous.as_deref(), &key).await
                }
                None => Check::not_run(NotRunCause::NoPayload, "no signed payload to link"),
            };
            let row = Row {
                label: CHECKPOINT_CHAIN.into(),
                outcome: match chain.ok() {
                    Some(true) => Outcome::Pass,
                    Some(false) => Outcome::Fail,
                    None => Outcome::Undetermined,
                },
                detail: chain.message.clone(),
                decisive: true,
            };
            let detail = match &payload {
                Some(p) => format!("{detail} ({} decisions)", p.leaf_count),
                None => detail,
            };
            let mut stage = with_chain(AuditStage::verified(kind, detail, v), row);
            stage.leaves = payload.map(|p| p.leaf_count);
            stages.push(stage);
        }
        Ok(total)
    }
}
