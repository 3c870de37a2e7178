//! Errors of the lifecycle operations.

use ario_mlflow_client::MlflowError;

/// Why a lifecycle operation did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// MLflow refused or could not be reached.
    #[error("MLflow: {0}")]
    Mlflow(#[from] MlflowError),
    /// The signing key could not be loaded.
    #[error(transparent)]
    Key(#[from] crate::keystore::KeystoreError),
    /// The upload wallet could not be loaded.
    #[error(transparent)]
    Wallet(#[from] ario_gateway::wallet::WalletLoadError),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
    /// A value cannot be canonicalized (non-finite number, depth, …).
    #[error("cannot canonicalize: {0}")]
    Canon(#[from] ario_envelope::jcs::CanonError),
    /// Signing failed.
    #[error("cannot sign: {0}")]
    Sign(#[from] ario_envelope::envelope::SignError),
    /// A training run without dataset inputs.
    #[error("run {run_id} has no logged dataset inputs; log one with mlflow.log_input(dataset, context=...) or pass --allow-empty-datasets")]
    NoDatasetInputs {
        /// The run.
        run_id: String,
    },
    /// Several models logged in one run and no path given.
    #[error("run {run_id} logged several models ({paths:?}); pass --artifact-path so the anchored hash is the intended model")]
    AmbiguousModel {
        /// The run.
        run_id: String,
        /// The candidate paths.
        paths: Vec<String>,
    },
    /// A metric value that JSON cannot carry.
    #[error("metric {key:?} of run {run_id} is {value}; only finite metrics can be anchored")]
    NonFiniteMetric {
        /// The run.
        run_id: String,
        /// Metric key.
        key: String,
        /// The value as MLflow reported it.
        value: String,
    },
    /// The dataset is not among the run's inputs.
    #[error("run {run_id} has no logged dataset named {name:?}")]
    DatasetNotFound {
        /// The run.
        run_id: String,
        /// The name asked for.
        name: String,
    },
    /// `run_id` and the run in the source URI differ.
    #[error("run_id {given:?} does not match the source URI's run {parsed:?}; refusing to mint a proof with inconsistent provenance")]
    RunIdMismatch {
        /// Given run id.
        given: String,
        /// Run id in the source.
        parsed: String,
    },
    /// The model's files differ from what was anchored.
    #[error(transparent)]
    Integrity(#[from] crate::decision::IntegrityError),
    /// The verify-status gate refused.
    #[error(transparent)]
    Gate(#[from] crate::decision::GateError),
    /// Bad input from the caller.
    #[error("{0}")]
    Invalid(String),
    /// Local file I/O.
    #[error("{path}: {error}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
}
