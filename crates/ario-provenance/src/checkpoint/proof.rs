//! The inclusion proof of one batched decision: its leaf, its audit path
//! and the checkpoint whose root it leads to. The member names follow the
//! upstream anchor-trace `inclusion` object.

use ario_envelope::encoding::hex_decode_array;
use ario_envelope::merkle::{self, Hash};
use serde::{Deserialize, Serialize};

use super::DecisionId;

/// A decision's path to its checkpoint's root (all hashes lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The decision.
    pub decision_id: String,
    /// `SHA-256(0x00 ‖ JCS(record))`.
    pub leaf_hash: String,
    /// Its position.
    pub leaf_index: u64,
    /// Leaves in the batch.
    pub leaf_count: u64,
    /// Sibling hashes, bottom-up (RFC 9162).
    pub audit_path: Vec<String>,
    /// The root the path leads to.
    pub merkle_root: String,
    /// The checkpoint's transaction, once uploaded.
    pub checkpoint_tx_id: Option<String>,
}

/// Why a proof cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf is not in the batch.
    #[error(transparent)]
    Index(#[from] merkle::IndexOutOfRange),
    /// A hash is not 64 hex digits.
    #[error("{0:?} is not a SHA-256 hash in hex")]
    Hash(String),
}

fn decode(s: &str) -> Result<Hash, ProofError> {
    hex_decode_array(s).map_err(|_| ProofError::Hash(s.to_owned()))
}

impl InclusionProof {
    /// The proof of leaf `id.leaf_index` among `leaves`.
    pub fn build(
        id: &DecisionId,
        leaves: &[Hash],
        checkpoint_tx_id: Option<String>,
    ) -> Result<Self, ProofError> {
        let i = usize::try_from(id.leaf_index).unwrap_or(usize::MAX);
        let path = merkle::audit_path(i, leaves)?;
        Ok(InclusionProof {
            decision_id: id.to_string(),
            leaf_hash: hex::encode(leaves[i]),
            leaf_index: id.leaf_index,
            leaf_count: leaves.len() as u64,
            audit_path: path.iter().map(hex::encode).collect(),
            merkle_root: hex::encode(merkle::root(leaves)),
            checkpoint_tx_id,
        })
    }

    /// Whether the path leads from `leaf` (the hash of the record as held
    /// now) to `root` (the anchored root). Never panics on hostile input.
    pub fn holds(&self, leaf: &Hash, root: &Hash) -> bool {
        let path: Result<Vec<Hash>, _> = self.audit_path.iter().map(|p| decode(p)).collect();
        match path {
            Ok(p) => merkle::verify_inclusion(leaf, self.leaf_index, self.leaf_count, &p, root),
            Err(_) => false,
        }
    }

    /// The leaf, decoded.
    pub fn leaf(&self) -> Result<Hash, ProofError> {
        decode(&self.leaf_hash)
    }
}
