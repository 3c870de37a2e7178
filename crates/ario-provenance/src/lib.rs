//! Verifiable provenance for the MLflow lifecycle: anchor training runs,
//! datasets, registrations, promotions, alias moves and decisions as signed
//! `ario.mlflow/v1` envelopes on Arweave, and verify or audit them later
//! against live MLflow — byte-compatible with the Python plugin
//! `ar-io-mlflow` 0.3.0.
//!
//! A service that serves a model opens it through [`VerifiedModel`] (which
//! refuses files that differ from the anchored hash) and records each
//! decision (the full program is `examples/decisions.rs`):
//!
//! ```no_run
//! use ario_provenance::{Anchorer, DecisionOptions, OpenOptions, VerifiedModel};
//! use serde_json::json;
//!
//! # async fn serve() -> Result<(), ario_provenance::ProvenanceError> {
//! let anchorer = Anchorer::from_env()?;
//! let model = VerifiedModel::open(&anchorer, "models:/iris@champion", OpenOptions::default()).await?;
//! let decision = model
//!     .record_decision(&json!({"sepal_length": 5.1}), &json!([0]), DecisionOptions::default())
//!     .await?;
//! println!("decision {} anchoring in the background", decision.decision_id);
//! # Ok(()) }
//! ```
//!
//! At inference rates, a [`DecisionRecorder`] journals each decision as a
//! Merkle leaf and returns at once; batches are anchored as one signed
//! checkpoint each (`spec/mlflow/decisions.md`):
//!
//! ```no_run
//! # use ario_provenance::{Anchorer, DecisionInput, DecisionRecorder, OpenOptions, RecorderOptions, VerifiedModel};
//! # use serde_json::json;
//! # async fn serve(anchorer: Anchorer) -> Result<(), ario_provenance::ProvenanceError> {
//! let model = VerifiedModel::open(&anchorer, "models:/iris/1", OpenOptions::default()).await?;
//! let recorder = DecisionRecorder::open(&model, RecorderOptions::default()).await?;
//! let receipt = recorder.record(&DecisionInput {
//!     input: json!({"sepal_length": 5.1}),
//!     output: json!([0]),
//!     ..Default::default()
//! })?;
//! println!("{} acknowledged: leaf {} of batch {}", receipt.decision_id, receipt.leaf_index, receipt.batch_seq);
//! recorder.close().await?;
//! # Ok(()) }
//! ```
//!
//! An auditor needs only a [`Verifier`]: it holds no key, wallet or outbox.
//! The payload builders are pure and usable alone:
//!
//! ```
//! use std::collections::BTreeMap;
//! use ario_provenance::payload;
//!
//! let p = payload::stage_transition("iris-classifier", "1", "None", "Production", &BTreeMap::new());
//! let bytes = payload::canonical(&p).unwrap();
//! assert_eq!(
//!     ario_envelope::encoding::sha256_hex(&bytes),
//!     "a78b41433b77260e60ab8b805d7a448552b1018dbd8b7961ab2a71b20928744e"
//! );
//! ```

//! Where things live:
//!
//! | module | holds |
//! |---|---|
//! | [`event`] | [`EventKind`] (wire name, subject type, record label, stage name) and the typed [`Subject`] |
//! | [`layout`] | each event's MLflow artifact paths and transaction/payload-hash tags, defined once |
//! | [`tags`] | the `ario.*` tag names shared with the plugin |
//! | [`payload`], [`numbers`] | the pure payload builders and hashing recipes |
//! | `verifier` | [`Verifier`]: MLflow client and gateways, nothing that signs |
//! | `anchorer` | [`Anchorer`]: a verifier plus key, wallet, bundler and outbox |
//! | `pipeline` | the prepared event → signed, stored in MLflow, recorded in the outbox |
//! | `delivery` | upload, the one definition of a permanent refusal, write-back, `retry` |
//! | [`outbox`], `writeback` | the durable outbox and what each event writes back after upload |
//! | `tasks` | background anchors: [`AnchorStatus`], [`AnchorHandle`] |
//! | `training`, `registry` | building training, dataset, registration, promotion and alias events |
//! | `model`, `decision`, `gate` | [`VerifiedModel`], per-prediction decisions, the verify-status gate |
//! | [`evidence`] | offline evidence bundles: built from an audit, re-checked with no network |
//! | [`inbox`] | `serve`'s webhook check, durable event queue and the anchor each registry event becomes |
//! | [`progress`] | counts of long operations, shown by a front end's reporter |
//! | [`reconcile`] | what should be anchored and is not, mismatched tags, orphan anchors |
//! | [`checkpoint`], `recorder` | batched decisions: records, Merkle checkpoints, proofs; [`DecisionRecorder`] and its journal |
//! | `integrity` | the one model-files check used by registration, `VerifiedModel`, verify and audit |
//! | `run_facts` | params, metrics, datasets and the model directory of a run |
//! | [`verify`] | checks as data ([`verify::check`]), rows and status ([`verify::verdict`]), and the I/O around them |
//! | [`audit`], [`report`] | the lineage audit, its summaries, and its HTML |
//! | [`keystore`] | the signing key, created once |
//! | [`trust`] | the trust policy: pinned signers, their windows, allowed uploaders |

pub mod audit;
pub mod checkpoint;
pub mod event;
pub mod evidence;
pub mod inbox;
pub mod keystore;
pub mod layout;
pub mod numbers;
pub mod outbox;
pub mod payload;
pub mod progress;
pub mod reconcile;
pub mod report;
pub mod tags;
pub mod trust;
pub mod verify;

mod anchorer;
mod decision;
mod delivery;
mod error;
mod gate;
mod integrity;
mod model;

mod pipeline;
pub mod recorder;
mod registry;
mod rotation;
mod run_facts;
mod tasks;
mod training;
mod verifier;
mod writeback;

pub use anchorer::{Anchorer, Settings};
pub use decision::{Decision, DecisionOptions};
pub use error::{ErrorKind, ProvenanceError};
pub use event::{EventKind, Subject};
pub use gate::{gate_outcome, Gate, GateError, GatePolicy};
pub use integrity::{check_local as check_model_dir, IntegrityError, IntegrityVerdict, ModelFiles};
pub use model::{OpenOptions, VerifiedModel};
pub use pipeline::{signed_at_now, Committed, APP_VERSION, SPEC_VERSION};
pub use recorder::{
    DecisionInput, DecisionReceipt, DecisionRecorder, ProofState, RecorderError, RecorderOptions,
};
pub use registry::ModelVersionRef;
pub use rotation::Rotation;
pub use run_facts::training_payload_from_response;
pub use tasks::{AnchorHandle, AnchorStatus};
pub use training::{AnchorRunOptions, ArtifactStatus, DatasetAnchor, RunAnchor};
pub use verifier::Verifier;
pub use verify::verdict::{Outcome, Row, Status};
pub use verify::{Expect, TargetKind, Verification};
pub use writeback::Writeback;
