//! Verifiable provenance for the MLflow lifecycle: anchor training runs,
//! datasets, registrations, promotions and decisions as signed
//! `ario.mlflow/v1` envelopes on Arweave, and verify or audit them later
//! against live MLflow — byte-compatible with the Python plugin
//! `ar-io-mlflow` 0.3.0.
//!
//! Payload builders are pure and usable alone:
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
//!
//! Everything that talks to MLflow and the bundler goes through
//! [`Provenance`] (`Provenance::from_env()`): [`Provenance::anchor_run`],
//! [`Provenance::create_model_version`], [`Provenance::transition_stage`],
//! [`Provenance::set_alias`], [`decision::VerifiedModel`],
//! [`Provenance::verify_run`] and friends, [`Provenance::audit`], and
//! [`Provenance::retry`] for the outbox.

pub mod audit;
pub mod context;
pub mod decision;
pub mod error;
pub mod keystore;
pub mod mlflow_io;
pub mod numbers;
pub mod outbox;
pub mod payload;
pub mod registry;
pub mod report;
pub mod tags;
pub mod training;
pub mod verify;

pub use context::{Committed, Provenance, Settings};
pub use decision::{IntegrityError, VerifiedModel};
pub use error::ProvenanceError;
pub use registry::{AnchorHandle, AnchorStatus};
pub use verify::{Status, Verification};
