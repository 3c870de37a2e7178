//! Checks of decision checkpoints: the batch file in MLflow against the
//! anchored checkpoint, finding a batch's checkpoint on the gateways, and
//! the link to the checkpoint before it.

use std::collections::BTreeMap;

use ario_envelope::envelope::{verify_envelope, VerifyOptions, GENESIS};
use ario_envelope::merkle::Hash;
use ario_gateway::graphql::TxInfo;
use ario_gateway::turbo::APP_NAME;

use serde_json::Value;

use super::check::{Check, FailReason, NotRunCause};
use crate::checkpoint::{check_batch, BatchFault, BatchFile, CheckpointPayload, StreamId};
use crate::event::{EventKind, SubjectType};
use crate::layout::{
    artifact_path, batch_folder, ArtifactFile, ITEM_SUBJECT_ID, ITEM_SUBJECT_TYPE,
};
use crate::verifier::Verifier;

/// Most anchors of one batch looked at (more than one accepted is a fork;
/// tags can be copied by anyone, so look past a few look-alikes). Discovery
/// asks for one more, so that a listing past the cap is known as such.
pub(crate) const MAX_CHECKPOINTS: usize = 100;

/// Whether a discovery listing went past [`MAX_CHECKPOINTS`] (some anchors
/// were not looked at).
pub(crate) fn capped(found: &[TxInfo]) -> bool {
    found.len() > MAX_CHECKPOINTS
}

/// How far the anchor picked for a batch is known to be its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// By an accepted signer, with its payload in MLflow (or the only candidate).
    Held,
    /// By an accepted signer; MLflow holds another payload, or none.
    Accepted,
    /// By no accepted signer.
    Other,
}

/// Largest batch file read back ([`crate::recorder::MAX_BATCH_SIZE`]
/// records of a few hundred bytes, with room for metadata).
const MAX_BATCH_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What a candidate checkpoint anchor turned out to be.
enum Candidate {
    /// Validly signed by an accepted key: its envelope.
    Accepted(Value),
    /// Not a checkpoint by an accepted key.
    NotAccepted,
    /// The gateways could not be asked.
    Unreachable,
}

/// A batch file that reproduced its anchored checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct CheckedBatch {
    pub(crate) payload: CheckpointPayload,
    pub(crate) file: BatchFile,
    pub(crate) leaves: Vec<Hash>,
}

fn fault_check(f: &BatchFault) -> Check {
    let reason = f.reason();
    Check::failed(reason, format!("{}: {f}", reason.code()))
}

impl Verifier {
    /// Reads the batch file of an anchored checkpoint payload and checks
    /// that it reproduces it (count, order, root).
    pub(crate) async fn batch_truth(&self, payload: &Value) -> (Check, Option<CheckedBatch>) {
        let Some(cp) = CheckpointPayload::from_json(payload) else {
            let c = Check::failed(
                FailReason::PayloadUnreadable,
                "payload_unreadable: not an ario.mlflow.checkpoint/v1 payload",
            );
            return (c, None);
        };
        let folder = batch_folder(cp.stream_id.as_str(), cp.batch_seq);
        let Some(path) = artifact_path(
            EventKind::DecisionCheckpoint,
            &folder,
            ArtifactFile::Decisions,
        ) else {
            return (
                Check::not_run(NotRunCause::SubjectNotLocatable, "no batch file path"),
                None,
            );
        };
        let bytes = match self
            .read_run_artifact(&cp.model.run_id, &path, MAX_BATCH_FILE_BYTES)
            .await
        {
            Ok(b) => b,
            Err(c) if c.ok().is_none() => return (c, None),
            Err(c) => {
                let msg = format!("batch_incomplete: batch file missing: {}", c.message);
                return (Check::failed(FailReason::BatchIncomplete, msg), None);
            }
        };
        let parsed = ario_envelope::json::parse(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| serde_json::from_value::<BatchFile>(v).map_err(|e| e.to_string()));
        let file: BatchFile = match parsed {
            Ok(f) => f,
            Err(e) => {
                let msg = format!("batch_unreadable: {path}: {e}");
                return (Check::failed(FailReason::BatchUnreadable, msg), None);
            }
        };
        match check_batch(&cp, &file) {
            Ok(leaves) => {
                let msg = format!(
                    "the {} records of {path} reproduce the anchored root",
                    leaves.len()
                );
                let checked = CheckedBatch {
                    payload: cp,
                    file,
                    leaves,
                };
                (Check::passed(msg), Some(checked))
            }
            Err(f) => (fault_check(&f), None),
        }
    }

    /// The anchors of one batch's checkpoint, oldest first.
    pub(crate) async fn find_checkpoints(
        &self,
        stream: &StreamId,
        batch_seq: u64,
    ) -> Result<Vec<TxInfo>, ario_gateway::graphql::GraphqlError> {
        let id = format!("{stream}/{batch_seq}");
        self.reader()
            .transactions_tagged(
                &[
                    ("App-Name", &[APP_NAME]),
                    ("Event-Type", &[EventKind::DecisionCheckpoint.wire_name()]),
                    (ITEM_SUBJECT_TYPE, &[SubjectType::DecisionBatch.wire_name()]),
                    (ITEM_SUBJECT_ID, &[id.as_str()]),
                ],
                MAX_CHECKPOINTS + 1,
            )
            .await
    }

    /// Whether the checkpoint before `cp` is anchored and commits to the
    /// bytes `cp` names as its predecessor, signed by `public_key` (or an
    /// accepted signer when a trust policy is set); `envelope_previous` is
    /// the `previous_hash` of `cp`'s envelope, which must name the same.
    pub(crate) async fn chain_check(
        &self,
        cp: &CheckpointPayload,
        envelope_previous: Option<&str>,
        public_key: &str,
    ) -> Check {
        if envelope_previous != Some(cp.previous_checkpoint_hash.as_str()) {
            return Check::failed(
                FailReason::CheckpointChainBroken,
                format!(
                    "checkpoint_chain_broken: the envelope's previous_hash {envelope_previous:?} is not the payload's previous_checkpoint_hash {}",
                    cp.previous_checkpoint_hash
                ),
            );
        }
        let Some(prev) = cp.batch_seq.checked_sub(1) else {
            return if cp.previous_checkpoint_hash == GENESIS {
                Check::passed("first checkpoint of the stream (GENESIS)")
            } else {
                Check::failed(
                    FailReason::CheckpointChainBroken,
                    format!(
                        "checkpoint_chain_broken: batch 0 names a predecessor {}",
                        cp.previous_checkpoint_hash
                    ),
                )
            };
        };
        let found = match self.find_checkpoints(&cp.stream_id, prev).await {
            Ok(f) => f,
            Err(e) => {
                return Check::not_run(
                    NotRunCause::HistoryUnavailable,
                    format!("previous checkpoint not looked up: {e}"),
                )
            }
        };
        if found.is_empty() {
            return Check::failed(
                FailReason::CheckpointMissing,
                format!(
                    "checkpoint_missing: no anchor of batch {prev} of stream {} was found",
                    cp.stream_id
                ),
            );
        }
        let (mut seen, mut unreachable) = (Vec::new(), false);
        for t in &found {
            match self.candidate(t, Some(public_key)).await {
                Candidate::Accepted(env) => {
                    let h = env
                        .get("payload_hash")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if h == cp.previous_checkpoint_hash {
                        return Check::passed(format!("batch {prev} anchored at {}", t.id));
                    }
                    seen.push(format!("{} commits to {h}", t.id));
                }
                Candidate::NotAccepted => {}
                Candidate::Unreachable => unreachable = true,
            }
        }
        if unreachable {
            return Check::not_run(
                NotRunCause::GatewayUnavailable,
                format!("an anchor of batch {prev} could not be fetched"),
            );
        }
        // Tags can be copied by anyone: past the cap, the predecessor may be
        // among the anchors not looked at.
        if capped(&found) {
            return Check::not_run(
                NotRunCause::AnchorsCapped,
                format!(
                    "anchors_capped: none of the first {} anchors tagged as batch {prev} of stream {} is the checkpoint this one names; more exist and were not looked at",
                    found.len(),
                    cp.stream_id
                ),
            );
        }
        if seen.is_empty() {
            return Check::failed(
                FailReason::CheckpointMissing,
                format!(
                    "checkpoint_missing: no anchor of batch {prev} of stream {} is by an accepted signer",
                    cp.stream_id
                ),
            );
        }
        Check::failed(
            FailReason::CheckpointChainBroken,
            format!(
                "checkpoint_chain_broken: this checkpoint names {} as batch {prev}; {}",
                cp.previous_checkpoint_hash,
                seen.join("; ")
            ),
        )
    }

    /// The anchor to verify among a batch's candidates: the oldest one by an
    /// accepted signer whose payload MLflow holds; else the oldest by an
    /// accepted signer; else the oldest. (Others are judged by the history
    /// check: a second accepted checkpoint of the batch is a fork.)
    pub(crate) async fn pick_checkpoint<'a>(
        &self,
        found: &'a [TxInfo],
    ) -> Option<(&'a TxInfo, Pick)> {
        if found.len() <= 1 {
            return found.first().map(|t| (t, Pick::Held));
        }
        let mut accepted = Vec::new();
        for t in found {
            if let Candidate::Accepted(env) = self.candidate(t, None).await {
                accepted.push((t, env));
            }
        }
        // Look-alikes name the same subject: read each subject's payload once.
        let mut held: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (t, env) in &accepted {
            let Ok(subject) = crate::event::Subject::from_json(env.get("subject")) else {
                continue;
            };
            let key = subject.to_json().to_string();
            if !held.contains_key(&key) {
                let stored = self
                    .locate_payload(EventKind::DecisionCheckpoint, &subject, "", None)
                    .await
                    .ok()
                    .map(|b| ario_envelope::encoding::sha256_hex(&b));
                held.insert(key.clone(), stored);
            }
            let hash = held.get(&key).cloned().flatten();
            if hash.is_some() && hash.as_deref() == env.get("payload_hash").and_then(Value::as_str)
            {
                return Some((t, Pick::Held));
            }
        }
        match accepted.first() {
            Some((t, _)) => Some((t, Pick::Accepted)),
            None => found.first().map(|t| (t, Pick::Other)),
        }
    }

    /// A candidate anchor of a checkpoint: validly signed, of our event
    /// type, by an accepted key (the trust policy's, else `key` when given).
    async fn candidate(&self, t: &TxInfo, key: Option<&str>) -> Candidate {
        let env = match self.reader().fetch_envelope(&t.id).await {
            Ok(f) => match f.json() {
                Ok(v) => v,
                Err(_) => return Candidate::NotAccepted,
            },
            Err(e) if e.is_unavailable() => return Candidate::Unreachable,
            Err(_) => return Candidate::NotAccepted,
        };
        let verdict = verify_envelope(
            &env,
            VerifyOptions {
                payload_bytes: None,
                allow_legacy: false,
            },
        );
        let s = |k: &str| env.get(k).and_then(Value::as_str);
        let accepted = match (self.trust(), key) {
            (Some(p), _) => p.judge(s("public_key"), s("signed_at"), Ok(None)).ok() == Some(true),
            (None, Some(k)) => s("public_key") == Some(k),
            (None, None) => true,
        };
        let ours = s("event_type") == Some(EventKind::DecisionCheckpoint.wire_name());
        if verdict.signature_ok && accepted && ours {
            Candidate::Accepted(env)
        } else {
            Candidate::NotAccepted
        }
    }
}
