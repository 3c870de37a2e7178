//! Why a recorder could not record or recover.

use std::path::PathBuf;

/// Why the recorder could not record or recover.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecorderError {
    /// A journal file could not be read or written.
    #[error("journal file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        error: std::io::Error,
    },
    /// A journal file is not what the recorder wrote.
    #[error("journal file {path} is damaged: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The directory records decisions of another model version.
    #[error("recorder directory {dir} belongs to model {holds}")]
    ForeignDirectory {
        /// The directory.
        dir: PathBuf,
        /// The model version it belongs to.
        holds: String,
    },
    /// A checkpointed batch's marker is missing, so the chain cannot continue.
    #[error(
        "the checkpoint marker of batch {batch_seq} is missing; the chain cannot be continued"
    )]
    ChainGap {
        /// The batch.
        batch_seq: u64,
    },
    /// The model has no source run to keep the batch files in.
    #[error(
        "model {model_uri} has no source run; batched decisions need one to keep their batch files"
    )]
    NoRun {
        /// The model.
        model_uri: String,
    },
    /// An input or output cannot be canonicalized.
    #[error("cannot canonicalize the decision")]
    Canon(#[from] ario_envelope::jcs::CanonError),
    /// Another recorder holds the directory.
    #[error("recorder directory {dir} is in use by another recorder")]
    Busy {
        /// The directory.
        dir: PathBuf,
    },
    /// The outbox could not be read for the uploads owed.
    #[error("the outbox: {0}")]
    Outbox(String),
    /// A decision's metadata nests deeper than a record may.
    #[error("the decision's metadata nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The recorder was closed.
    #[error("the recorder is closed")]
    Closed,
}
