//! Where each event's files live in MLflow and which `ario.*` tags record it:
//! the one definition both the writer and the verifier use.
//!
//! Files go below the artifact root of the run the event belongs to (the
//! training run, or the source run of a model version): training and
//! registration files sit directly in `ario/`, promotions, alias moves and
//! decisions get one folder each.

use crate::event::EventKind;
use crate::tags;

/// The folder of every file we write below a run's artifact root.
const ROOT: &str = "ario";

/// One of the files kept for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactFile {
    /// The canonical payload bytes the envelope commits to.
    Payload,
    /// The signed envelope, pretty-printed.
    Proof,
    /// The bundler's receipt, once uploaded.
    Receipt,
    /// A decision checkpoint's batch file: every record of the batch.
    Decisions,
}

impl ArtifactFile {
    fn stem(self) -> &'static str {
        match self {
            ArtifactFile::Payload => "payload",
            ArtifactFile::Proof => "proof",
            ArtifactFile::Receipt => "receipt",
            ArtifactFile::Decisions => "decisions",
        }
    }
}

/// How an event kind's files are arranged.
enum Arrangement {
    /// `ario/{prefix}{file}.json`, one set per run.
    Flat(&'static str),
    /// `ario/{dir}/{id}/{file}.json`, one folder per event.
    PerEvent(&'static str),
    /// Nothing stored (datasets are re-derived from the run's inputs).
    NotStored,
}

fn arrangement(kind: EventKind) -> Arrangement {
    match kind {
        EventKind::Training => Arrangement::Flat(""),
        EventKind::Registration => Arrangement::Flat("registration_"),
        EventKind::StageTransition => Arrangement::PerEvent("promotions"),
        EventKind::AliasSet => Arrangement::PerEvent("aliases"),
        EventKind::Prediction => Arrangement::PerEvent("predictions"),
        EventKind::DecisionCheckpoint => Arrangement::PerEvent("checkpoints"),
        EventKind::Dataset | EventKind::KeyRetired => Arrangement::NotStored,
    }
}

/// The path of one of an event's files below the run's artifact root;
/// `id` names the event's folder (the envelope's event id, or the decision id
/// for predictions) and is ignored by kinds kept flat. `None` for kinds whose
/// files are not stored.
pub fn artifact_path(kind: EventKind, id: &str, file: ArtifactFile) -> Option<String> {
    let stem = file.stem();
    match arrangement(kind) {
        Arrangement::Flat(prefix) => Some(format!("{ROOT}/{prefix}{stem}.json")),
        Arrangement::PerEvent(dir) => Some(format!("{ROOT}/{dir}/{id}/{stem}.json")),
        Arrangement::NotStored => None,
    }
}

/// The folder holding one sub-folder per event, for kinds kept that way.
pub fn event_dir(kind: EventKind) -> Option<String> {
    match arrangement(kind) {
        Arrangement::PerEvent(dir) => Some(format!("{ROOT}/{dir}")),
        _ => None,
    }
}

/// The tag that records the transaction of the latest event of this kind
/// (datasets: the prefix, followed by the dataset name).
pub fn tx_tag(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Dataset => tags::DATASET_ANCHOR_TX_PREFIX,
        EventKind::Training => tags::TRAINING_TX,
        EventKind::Registration => tags::REGISTRATION_TX,
        EventKind::StageTransition => tags::PROMOTION_TX,
        EventKind::AliasSet => tags::ALIAS_TX,
        EventKind::Prediction => tags::PREDICTION_TX,
        EventKind::KeyRetired => tags::ROTATION_TX,
        EventKind::DecisionCheckpoint => tags::CHECKPOINT_TX,
    }
}

/// The tag that records the payload hash of the latest event of this kind.
pub fn payload_hash_tag(kind: EventKind) -> &'static str {
    match kind {
        EventKind::StageTransition => tags::PROMOTION_PAYLOAD_HASH,
        EventKind::AliasSet => tags::ALIAS_PAYLOAD_HASH,
        _ => tags::PAYLOAD_HASH,
    }
}

/// Data-item tag (ours, beside the plugin's six): the subject's `type`.
pub const ITEM_SUBJECT_TYPE: &str = "Ario-Subject-Type";
/// Data-item tag (ours): [`crate::Subject::discovery_id`].
pub const ITEM_SUBJECT_ID: &str = "Ario-Subject-Id";
/// Data-item tag (ours) of a key rotation: the successor key, so a verifier
/// can find the handover that vouches for it.
pub const ITEM_SUCCESSOR_KEY: &str = "Ario-Successor-Key";

/// Whether one subject has at most one anchor of this kind (so another
/// anchor that commits to other bytes is a conflict — for a decision batch,
/// a fork). Promotions and alias moves happen many times per version.
pub fn one_anchor_per_subject(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Training
            | EventKind::Registration
            | EventKind::Prediction
            | EventKind::DecisionCheckpoint
    )
}

/// The folder name of a decision batch's files (`{stream}-{batch}`).
pub fn batch_folder(stream_id: &str, batch_seq: u64) -> String {
    format!("{stream_id}-{batch_seq}")
}

/// The tag a run carries for a dataset anchored from its inputs.
pub fn dataset_tx_tag(name: &str) -> String {
    format!("{}{name}", tx_tag(EventKind::Dataset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_plugins() {
        use ArtifactFile::*;
        let p = |k, f| artifact_path(k, "E", f);
        assert_eq!(
            p(EventKind::Training, Payload).as_deref(),
            Some("ario/payload.json")
        );
        assert_eq!(
            p(EventKind::Training, Receipt).as_deref(),
            Some("ario/receipt.json")
        );
        assert_eq!(
            p(EventKind::Registration, Proof).as_deref(),
            Some("ario/registration_proof.json")
        );
        assert_eq!(
            p(EventKind::StageTransition, Payload).as_deref(),
            Some("ario/promotions/E/payload.json")
        );
        assert_eq!(
            p(EventKind::AliasSet, Receipt).as_deref(),
            Some("ario/aliases/E/receipt.json")
        );
        assert_eq!(
            p(EventKind::Prediction, Proof).as_deref(),
            Some("ario/predictions/E/proof.json")
        );
        assert_eq!(p(EventKind::Dataset, Payload), None);
        assert_eq!(
            event_dir(EventKind::Prediction).as_deref(),
            Some("ario/predictions")
        );
        assert_eq!(event_dir(EventKind::Training), None);
    }

    #[test]
    fn every_event_dir_is_the_parent_of_its_files() {
        for k in EventKind::ALL {
            if let Some(dir) = event_dir(k) {
                let f = artifact_path(k, "x", ArtifactFile::Payload).unwrap_or_default();
                assert_eq!(f, format!("{dir}/x/payload.json"));
            }
        }
    }

    #[test]
    fn dataset_tags_carry_the_name() {
        assert_eq!(dataset_tx_tag("iris"), "ario.dataset_anchor_tx.iris");
    }
}
