//! Errors of the lifecycle operations. Each variant either shows its cause
//! in its message or returns it from `source()`, never both, so a printed
//! chain names every cause once.

use ario_mlflow_client::MlflowError;

/// What kind of failure an error is, for callers that map errors to exit
/// codes or HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// MLflow, a gateway or the bundler could not be reached: try again later.
    Unavailable,
    /// A model was refused (files differ from the anchor, or a gate said no).
    Refused,
    /// The input names nothing usable or is not well-formed.
    InvalidInput,
    /// MLflow answered with an error or something we cannot read.
    Mlflow,
    /// A local file, key, wallet or the outbox failed.
    Local,
}

/// Why a lifecycle operation did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// MLflow refused or could not be reached.
    #[error(transparent)]
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
    #[error("cannot canonicalize the payload")]
    Canon(#[from] ario_envelope::jcs::CanonError),
    /// Signing the envelope failed.
    #[error("cannot sign the envelope")]
    Sign(#[from] ario_envelope::envelope::SignError),
    /// The decision recorder's journal failed or refused.
    #[error(transparent)]
    Recorder(Box<crate::recorder::RecorderError>),
    /// An evidence bundle cannot hold a stage (its envelope, payload or facts
    /// could not be obtained), so none is made.
    #[error("no evidence bundle: stage {stage}: {why}")]
    EvidenceIncomplete {
        /// The stage.
        stage: String,
        /// What could not be obtained.
        why: String,
    },
    /// The event queue of `serve` failed.
    #[error(transparent)]
    Queue(#[from] crate::inbox::QueueError),
    /// A decision id that is not `<stream>-<batch>-<leaf>`.
    #[error(transparent)]
    DecisionId(#[from] crate::checkpoint::DecisionIdError),
    /// Signing the upload's data item failed.
    #[error("cannot sign the data item: {0}")]
    DataItem(String),
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
    /// The run carries a training anchor already.
    #[error("run {run_id} is anchored already ({tx_id}); pass --reanchor --reason \"…\" to anchor it again as an explicit, visible re-anchor")]
    AlreadyAnchored {
        /// The run.
        run_id: String,
        /// Its current training transaction.
        tx_id: String,
    },
    /// The signing key is set in the environment: it is rotated there.
    #[error("the signing key comes from ARIO_MLFLOW_SIGNING_KEY; rotate it there, not with `keys rotate`")]
    KeyFromEnvironment,
    /// A re-anchor needs a reason.
    #[error("a re-anchor must say why (--reason)")]
    ReanchorWithoutReason,
    /// MLflow's answer lacked something it always carries.
    #[error("MLflow's {operation} answer has no {missing}")]
    IncompleteAnswer {
        /// The operation.
        operation: &'static str,
        /// What was missing.
        missing: &'static str,
    },
    /// A model URI that does not parse.
    #[error(transparent)]
    ModelUri(#[from] ario_mlflow_client::uri::UriError),
    /// The model's files differ from what was anchored.
    #[error(transparent)]
    Integrity(#[from] crate::integrity::IntegrityError),
    /// `require_verified` and no anchored hash to check the model against.
    #[error("{model_uri}: no anchored artifact hash to check the model against")]
    Unverifiable {
        /// The URI opened.
        model_uri: String,
    },
    /// The trust file is unusable.
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustFileError),
    /// The verify-status gate refused.
    #[error(transparent)]
    Gate(#[from] crate::gate::GateError),
    /// Local file I/O.
    #[error("{}", path.display())]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

impl ProvenanceError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        use ProvenanceError as E;
        match self {
            E::Mlflow(MlflowError::Unreachable { .. }) => ErrorKind::Unavailable,
            E::Mlflow(
                MlflowError::Unauthorized { .. }
                | MlflowError::UnsupportedTrackingUri { .. }
                | MlflowError::Config(_)
                | MlflowError::UnsafePath(_),
            ) => ErrorKind::InvalidInput,
            E::Mlflow(e) if e.is_not_found() => ErrorKind::InvalidInput,
            E::Mlflow(_) | E::IncompleteAnswer { .. } => ErrorKind::Mlflow,
            E::Gate(crate::gate::GateError::Service(
                ario_gateway::verify_status::VerifyStatusError::Transport { .. },
            )) => ErrorKind::Unavailable,
            E::EvidenceIncomplete { .. } => ErrorKind::Unavailable,
            E::Integrity(_) | E::Unverifiable { .. } | E::Gate(_) | E::AlreadyAnchored { .. } => {
                ErrorKind::Refused
            }
            E::NoDatasetInputs { .. }
            | E::AmbiguousModel { .. }
            | E::NonFiniteMetric { .. }
            | E::DatasetNotFound { .. }
            | E::RunIdMismatch { .. }
            | E::ModelUri(_)
            | E::DecisionId(_)
            | E::Trust(_)
            | E::ReanchorWithoutReason
            | E::KeyFromEnvironment
            | E::Canon(_) => ErrorKind::InvalidInput,
            E::Recorder(r) => match **r {
                crate::recorder::RecorderError::NoRun { .. }
                | crate::recorder::RecorderError::ForeignDirectory { .. }
                | crate::recorder::RecorderError::Canon(_)
                | crate::recorder::RecorderError::TooDeep { .. } => ErrorKind::InvalidInput,
                _ => ErrorKind::Local,
            },
            E::Key(_)
            | E::Wallet(_)
            | E::Outbox(_)
            | E::Queue(_)
            | E::Sign(_)
            | E::DataItem(_)
            | E::Io { .. } => ErrorKind::Local,
        }
    }
}

impl From<crate::recorder::RecorderError> for ProvenanceError {
    fn from(e: crate::recorder::RecorderError) -> Self {
        ProvenanceError::Recorder(Box::new(e))
    }
}
