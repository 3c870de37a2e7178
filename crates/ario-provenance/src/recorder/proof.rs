//! Inclusion proofs of decisions in closed batches: from the batches kept
//! in memory, or read back from the journal for batches an earlier process
//! checkpointed, with the checkpoint's transaction once its upload is known.

use std::sync::Arc;

use serde::Serialize;

use super::close::Closer;
use super::RecorderError;
use crate::checkpoint::{leaf_of, DecisionId, InclusionProof};

/// Where a decision's proof stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProofState {
    /// Recorded; its batch is not checkpointed yet.
    Pending,
    /// Checkpointed: the proof.
    Ready(InclusionProof),
    /// Not a decision of this recorder.
    Unknown,
}

impl Closer {
    /// The proof of a decision in a batch that is no longer open.
    pub(crate) fn proof(&self, id: &DecisionId) -> Result<ProofState, RecorderError> {
        let cached = self
            .lock()
            .batches
            .get(&id.batch_seq)
            .map(|b| (b.leaves.clone(), b.tx_id.clone()));
        let marker = self.journal.marker(id.batch_seq)?;
        let (leaves, tx) = match (cached, &marker) {
            (Some(c), _) => c,
            (None, None) => {
                let exists = self.journal.read_segment(id.batch_seq).is_ok();
                return Ok(if exists {
                    ProofState::Pending
                } else {
                    ProofState::Unknown
                });
            }
            (None, Some(_)) => {
                let records = self.journal.read_segment(id.batch_seq)?;
                (Arc::new(records.iter().map(|r| leaf_of(r)).collect()), None)
            }
        };
        // An upload this process did not see (an earlier process's, or one
        // `retry` made) is in the outbox under the marker's event id.
        let tx = tx.or_else(|| {
            let item = self.anchorer.outbox().get(&marker?.event_id).ok()??;
            item.tx_id
        });
        Ok(match InclusionProof::build(id, &leaves, tx) {
            Ok(p) => ProofState::Ready(p),
            Err(_) => ProofState::Unknown,
        })
    }
}
