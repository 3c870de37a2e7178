//! The lifecycle events we anchor and what each one is about.
//!
//! [`EventKind`] is the one vocabulary for an event: its wire name in the
//! envelope and payload, the type of its subject, the label of its record row
//! and its stage name in an audit. [`Subject`] is the typed `subject` member
//! of an envelope.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The wire value the plugin writes for a run it does not know (a model
/// opened without a source run).
pub const UNKNOWN_RUN: &str = "unknown";

/// One kind of lifecycle event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A dataset (standalone `dataset` event).
    Dataset,
    /// A finished training run (`training_complete`).
    Training,
    /// A model version registration (`model_registered`).
    Registration,
    /// A stage transition (`stage_transition`).
    StageTransition,
    /// An alias move (`alias_set`, our additive event).
    AliasSet,
    /// One prediction (`prediction`).
    Prediction,
    /// A signing key handed over to its successor (`key_retired`, signed by
    /// the retiring key).
    KeyRetired,
    /// A closed batch of decisions, committed by its Merkle root
    /// (`decision_checkpoint`, our additive event).
    DecisionCheckpoint,
}

impl EventKind {
    /// Every kind, in lineage order.
    pub const ALL: [EventKind; 8] = [
        EventKind::Dataset,
        EventKind::Training,
        EventKind::Registration,
        EventKind::StageTransition,
        EventKind::AliasSet,
        EventKind::Prediction,
        EventKind::DecisionCheckpoint,
        EventKind::KeyRetired,
    ];

    /// The `event_type` written in envelopes and payloads.
    pub fn wire_name(self) -> &'static str {
        match self {
            EventKind::Dataset => "dataset",
            EventKind::Training => "training_complete",
            EventKind::Registration => "model_registered",
            EventKind::StageTransition => "stage_transition",
            EventKind::AliasSet => "alias_set",
            EventKind::Prediction => "prediction",
            EventKind::KeyRetired => "key_retired",
            EventKind::DecisionCheckpoint => "decision_checkpoint",
        }
    }

    /// The kind named by an `event_type`, if it is one of ours.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.wire_name() == name)
    }

    /// The `subject.type` of this kind's envelopes.
    pub fn subject_type(self) -> SubjectType {
        match self {
            EventKind::Dataset => SubjectType::Dataset,
            EventKind::Training => SubjectType::Run,
            EventKind::Registration | EventKind::StageTransition | EventKind::AliasSet => {
                SubjectType::ModelVersion
            }
            EventKind::Prediction => SubjectType::Prediction,
            EventKind::KeyRetired => SubjectType::Signer,
            EventKind::DecisionCheckpoint => SubjectType::DecisionBatch,
        }
    }

    /// The label of the row that compares the record with MLflow.
    pub fn record_label(self) -> &'static str {
        match self {
            EventKind::Dataset => "Dataset Record Matches",
            EventKind::Training => "Training Record Matches",
            EventKind::Registration => "Registration Record Matches",
            EventKind::StageTransition => "Promotion Record Matches",
            EventKind::AliasSet => "Alias Record Matches",
            EventKind::Prediction => "Decision Record Matches",
            EventKind::KeyRetired => "Rotation Record Matches",
            EventKind::DecisionCheckpoint => "Decision Batch Matches",
        }
    }

    /// The stage name of this kind in an audit.
    pub fn stage_name(self) -> &'static str {
        match self {
            EventKind::Dataset => "dataset",
            EventKind::Training => "training",
            EventKind::Registration => "registration",
            EventKind::StageTransition => "promotion",
            EventKind::AliasSet => "alias",
            EventKind::Prediction => "decision",
            EventKind::KeyRetired => "rotation",
            EventKind::DecisionCheckpoint => "decision batch",
        }
    }

    /// Whether MLflow keeps a second, independent copy of this kind's facts
    /// that verification can re-derive the payload from. Promotions and
    /// alias moves have none: their stored payload is all there is.
    pub fn has_live_surface(self) -> bool {
        !matches!(
            self,
            EventKind::StageTransition | EventKind::AliasSet | EventKind::KeyRetired
        )
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// The `subject.type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectType {
    /// `mlflow_run`.
    Run,
    /// `mlflow_dataset`.
    Dataset,
    /// `mlflow_model_version`.
    ModelVersion,
    /// `mlflow_prediction`.
    Prediction,
    /// `mlflow_signer`: a signing key (key rotation).
    Signer,
    /// `mlflow_decision_batch`: one batch of a decision recorder's stream.
    DecisionBatch,
}

impl SubjectType {
    /// The wire value.
    pub fn wire_name(self) -> &'static str {
        match self {
            SubjectType::Run => "mlflow_run",
            SubjectType::Dataset => "mlflow_dataset",
            SubjectType::ModelVersion => "mlflow_model_version",
            SubjectType::Prediction => "mlflow_prediction",
            SubjectType::Signer => "mlflow_signer",
            SubjectType::DecisionBatch => "mlflow_decision_batch",
        }
    }
}

/// What an envelope is about: the typed `subject` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A training run.
    Run {
        /// The run id.
        run_id: String,
    },
    /// A dataset.
    Dataset {
        /// Its name.
        name: Option<String>,
        /// MLflow's digest.
        digest: Option<String>,
    },
    /// A model version.
    ModelVersion {
        /// Registered model name.
        name: String,
        /// Version.
        version: String,
    },
    /// One decision.
    Prediction {
        /// The decision id.
        decision_id: String,
        /// The model's source run, when known.
        model_run_id: Option<String>,
        /// The MLflow trace written for it, when one was.
        trace_id: Option<String>,
    },
    /// A signing key and the key that succeeds it.
    Signer {
        /// The retiring key (hex).
        public_key: String,
        /// Its successor (hex).
        successor_public_key: String,
    },
    /// One batch of a decision recorder's stream.
    DecisionBatch {
        /// The recorder stream (16 hex digits).
        stream_id: String,
        /// The batch within the stream.
        batch_seq: u64,
        /// Registered model name.
        name: String,
        /// Version.
        version: String,
        /// The model's source run, when known.
        model_run_id: Option<String>,
    },
}

/// Why a `subject` member is not one we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// No `subject` object.
    #[error("the envelope has no subject object")]
    Missing,
    /// A `type` we do not know.
    #[error("unknown subject type {0:?}")]
    UnknownType(String),
    /// A member this type needs is absent or not a string.
    #[error("subject of type {subject_type} lacks {member}")]
    MissingMember {
        /// The subject type.
        subject_type: &'static str,
        /// The member.
        member: &'static str,
    },
}

fn member(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

impl Subject {
    /// Its `type`.
    pub fn subject_type(&self) -> SubjectType {
        match self {
            Subject::Run { .. } => SubjectType::Run,
            Subject::Dataset { .. } => SubjectType::Dataset,
            Subject::ModelVersion { .. } => SubjectType::ModelVersion,
            Subject::Prediction { .. } => SubjectType::Prediction,
            Subject::Signer { .. } => SubjectType::Signer,
            Subject::DecisionBatch { .. } => SubjectType::DecisionBatch,
        }
    }

    /// The JSON member, as the plugin writes it.
    pub fn to_json(&self) -> Value {
        let t = self.subject_type().wire_name();
        match self {
            Subject::Run { run_id } => json!({"type": t, "run_id": run_id}),
            Subject::Dataset { name, digest } => json!({"type": t, "name": name, "digest": digest}),
            Subject::ModelVersion { name, version } => {
                json!({"type": t, "name": name, "version": version})
            }
            Subject::Prediction {
                decision_id,
                model_run_id,
                trace_id,
            } => {
                let mut v = json!({
                    "type": t,
                    "decision_id": decision_id,
                    "model_run_id": model_run_id.as_deref().unwrap_or(UNKNOWN_RUN),
                });
                if let Some(id) = trace_id {
                    v["trace_id"] = json!(id);
                }
                v
            }
            Subject::Signer {
                public_key,
                successor_public_key,
            } => {
                json!({"type": t, "public_key": public_key, "successor_public_key": successor_public_key})
            }
            Subject::DecisionBatch {
                stream_id,
                batch_seq,
                name,
                version,
                model_run_id,
            } => json!({
                "type": t,
                "stream_id": stream_id,
                "batch_seq": batch_seq,
                "name": name,
                "version": version,
                "model_run_id": model_run_id.as_deref().unwrap_or(UNKNOWN_RUN),
            }),
        }
    }

    /// The id under which anchors of this subject are discoverable (the
    /// `Ario-Subject-Id` item tag): the run id, `name/version`, the decision
    /// id, `name@digest` for datasets, or `stream/batch` for decision batches.
    pub fn discovery_id(&self) -> String {
        match self {
            Subject::Run { run_id } => run_id.clone(),
            Subject::ModelVersion { name, version } => format!("{name}/{version}"),
            Subject::Prediction { decision_id, .. } => decision_id.clone(),
            Subject::Dataset { name, digest } => format!(
                "{}@{}",
                name.as_deref().unwrap_or_default(),
                digest.as_deref().unwrap_or_default()
            ),
            Subject::Signer { public_key, .. } => public_key.clone(),
            Subject::DecisionBatch {
                stream_id,
                batch_seq,
                ..
            } => format!("{stream_id}/{batch_seq}"),
        }
    }

    /// Reads a `subject` member.
    pub fn from_json(v: Option<&Value>) -> Result<Self, SubjectError> {
        let v = v.filter(|v| v.is_object()).ok_or(SubjectError::Missing)?;
        let t = member(v, "type").unwrap_or_default();
        let need = |subject_type: &'static str, k: &'static str| {
            member(v, k).ok_or(SubjectError::MissingMember {
                subject_type,
                member: k,
            })
        };
        let ty = [
            SubjectType::Run,
            SubjectType::Dataset,
            SubjectType::ModelVersion,
            SubjectType::Prediction,
            SubjectType::Signer,
            SubjectType::DecisionBatch,
        ]
        .into_iter()
        .find(|s| s.wire_name() == t)
        .ok_or(SubjectError::UnknownType(t))?;
        let name = ty.wire_name();
        Ok(match ty {
            SubjectType::Run => Subject::Run {
                run_id: need(name, "run_id")?,
            },
            SubjectType::Dataset => Subject::Dataset {
                name: member(v, "name"),
                digest: member(v, "digest"),
            },
            SubjectType::ModelVersion => Subject::ModelVersion {
                name: need(name, "name")?,
                version: need(name, "version")?,
            },
            SubjectType::Prediction => Subject::Prediction {
                decision_id: need(name, "decision_id")?,
                model_run_id: member(v, "model_run_id").filter(|r| r != UNKNOWN_RUN),
                trace_id: member(v, "trace_id"),
            },
            SubjectType::Signer => Subject::Signer {
                public_key: need(name, "public_key")?,
                successor_public_key: need(name, "successor_public_key")?,
            },
            SubjectType::DecisionBatch => Subject::DecisionBatch {
                stream_id: need(name, "stream_id")?,
                batch_seq: v.get("batch_seq").and_then(Value::as_u64).ok_or(
                    SubjectError::MissingMember {
                        subject_type: name,
                        member: "batch_seq",
                    },
                )?,
                name: need(name, "name")?,
                version: need(name, "version")?,
                model_run_id: member(v, "model_run_id").filter(|r| r != UNKNOWN_RUN),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_distinct() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_wire(k.wire_name()), Some(k));
        }
        assert_eq!(EventKind::from_wire("training"), None);
        let mut labels: Vec<_> = EventKind::ALL.iter().map(|k| k.record_label()).collect();
        labels.dedup();
        assert_eq!(labels.len(), EventKind::ALL.len());
    }

    #[test]
    fn subjects_round_trip_through_json() {
        let all = [
            Subject::Run { run_id: "r".into() },
            Subject::Dataset {
                name: Some("iris".into()),
                digest: None,
            },
            Subject::ModelVersion {
                name: "m".into(),
                version: "2".into(),
            },
            Subject::Prediction {
                decision_id: "d".into(),
                model_run_id: None,
                trace_id: Some("tr-1".into()),
            },
            Subject::DecisionBatch {
                stream_id: "00112233445566ff".into(),
                batch_seq: 7,
                name: "m".into(),
                version: "1".into(),
                model_run_id: Some("r".into()),
            },
        ];
        for s in all {
            assert_eq!(Subject::from_json(Some(&s.to_json())).unwrap(), s);
        }
        let p = Subject::Prediction {
            decision_id: "d".into(),
            model_run_id: None,
            trace_id: None,
        };
        assert_eq!(p.to_json()["model_run_id"], "unknown");
        assert!(p.to_json().get("trace_id").is_none());
    }

    #[test]
    fn unreadable_subjects_are_typed_errors() {
        assert_eq!(Subject::from_json(None), Err(SubjectError::Missing));
        assert!(matches!(
            Subject::from_json(Some(&json!({"type": "x"}))),
            Err(SubjectError::UnknownType(_))
        ));
        assert!(matches!(
            Subject::from_json(Some(&json!({"type": "mlflow_run"}))),
            Err(SubjectError::MissingMember { .. })
        ));
    }
}
