//! What an upload makes true in MLflow, per event: the data the outbox
//! keeps beside each signed envelope until it is written back.

use ario_mlflow_client::TagTarget;
use serde::{Deserialize, Serialize};

use crate::event::EventKind;

/// What must be written back to MLflow once an envelope is on Arweave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Writeback {
    /// Training: run tags, and the registered model's chain head.
    Training {
        /// The run.
        run_id: String,
        /// Registered model whose `ario.last_training_hash` advances.
        registered_model: Option<String>,
        /// The payload hash (the chain head value).
        payload_hash: String,
    },
    /// A dataset anchored for a run: `ario.dataset_anchor_tx.<name>`.
    Dataset {
        /// The run, if anchored from one.
        run_id: Option<String>,
        /// The dataset name.
        name: String,
    },
    /// Registration: model-version tags and the source run's receipt.
    Registration {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// Source run (receipt goes there).
        run_id: Option<String>,
    },
    /// Stage transition.
    Promotion {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// The version's run.
        run_id: Option<String>,
    },
    /// Alias move.
    Alias {
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// The version's run.
        run_id: Option<String>,
    },
    /// A key rotation: nothing to write back in MLflow.
    KeyRetired {
        /// The retiring key.
        public_key: String,
    },
    /// Prediction: trace tags and the receipt next to the payload.
    Prediction {
        /// The decision.
        decision_id: String,
        /// The trace, when one was written.
        trace_id: Option<String>,
        /// The model's run.
        run_id: Option<String>,
    },
    /// A decision checkpoint: the receipt beside the batch file, and the
    /// model version's latest-checkpoint tag.
    Checkpoint {
        /// The batch's folder name ([`crate::layout::batch_folder`]).
        folder: String,
        /// Model name.
        name: String,
        /// Version.
        version: String,
        /// The model's run (keeps the files).
        run_id: Option<String>,
    },
}

impl Writeback {
    /// The event kind this write-back belongs to.
    pub fn kind(&self) -> EventKind {
        match self {
            Writeback::Training { .. } => EventKind::Training,
            Writeback::Dataset { .. } => EventKind::Dataset,
            Writeback::Registration { .. } => EventKind::Registration,
            Writeback::Promotion { .. } => EventKind::StageTransition,
            Writeback::Alias { .. } => EventKind::AliasSet,
            Writeback::Prediction { .. } => EventKind::Prediction,
            Writeback::KeyRetired { .. } => EventKind::KeyRetired,
            Writeback::Checkpoint { .. } => EventKind::DecisionCheckpoint,
        }
    }

    /// The run whose artifact root keeps the event's files, if any.
    pub fn run_id(&self) -> Option<&str> {
        match self {
            Writeback::Training { run_id, .. } => Some(run_id),
            Writeback::KeyRetired { .. } => None,
            Writeback::Dataset { run_id, .. }
            | Writeback::Registration { run_id, .. }
            | Writeback::Promotion { run_id, .. }
            | Writeback::Alias { run_id, .. }
            | Writeback::Prediction { run_id, .. }
            | Writeback::Checkpoint { run_id, .. } => run_id.as_deref(),
        }
    }

    /// The object whose tags record the transaction, if any.
    pub fn tag_target(&self) -> Option<TagTarget> {
        match self {
            Writeback::Training { run_id, .. } => Some(TagTarget::Run(run_id.clone())),
            Writeback::Dataset { run_id, .. } => run_id.clone().map(TagTarget::Run),
            Writeback::Registration { name, version, .. }
            | Writeback::Promotion { name, version, .. }
            | Writeback::Alias { name, version, .. }
            | Writeback::Checkpoint { name, version, .. } => {
                Some(TagTarget::Version(name.clone(), version.clone()))
            }
            Writeback::Prediction { trace_id, .. } => trace_id.clone().map(TagTarget::Trace),
            Writeback::KeyRetired { .. } => None,
        }
    }

    /// The name of the folder of per-event files: the decision id for
    /// predictions, the batch for checkpoints, else the envelope's event id.
    pub fn artifact_id<'a>(&'a self, event_id: &'a str) -> &'a str {
        match self {
            Writeback::Prediction { decision_id, .. } => decision_id,
            Writeback::Checkpoint { folder, .. } => folder,
            _ => event_id,
        }
    }
}
