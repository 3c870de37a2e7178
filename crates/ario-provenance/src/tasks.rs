//! Anchors that run in the background: their status vocabulary, a handle
//! to wait on one, and the table of the latest one per model version.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

use crate::event::EventKind;

/// Where a background anchor stands (the plugin's vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AnchorStatus {
    /// Still running.
    Anchoring,
    /// On Arweave.
    Anchored {
        /// The transaction.
        tx_id: String,
    },
    /// Signed and stored; the upload is pending in the outbox.
    Signed {
        /// Why the upload did not go through.
        error: Option<String>,
    },
    /// No proof was made.
    Failed {
        /// Why.
        error: String,
    },
    /// Nothing was queued under this key.
    Unknown,
}

impl AnchorStatus {
    /// Finished (any state but `anchoring`).
    pub fn done(&self) -> bool {
        !matches!(self, AnchorStatus::Anchoring)
    }
    /// The short name (`anchoring`, `anchored`, `signed`, `failed`, `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            AnchorStatus::Anchoring => "anchoring",
            AnchorStatus::Anchored { .. } => "anchored",
            AnchorStatus::Signed { .. } => "signed",
            AnchorStatus::Failed { .. } => "failed",
            AnchorStatus::Unknown => "unknown",
        }
    }
}

/// A handle on one background anchor.
#[derive(Debug, Clone)]
pub struct AnchorHandle {
    rx: watch::Receiver<AnchorStatus>,
}

impl AnchorHandle {
    /// Current status.
    pub fn status(&self) -> AnchorStatus {
        self.rx.borrow().clone()
    }
    /// Waits until done or `timeout`; true when done.
    pub async fn wait(&self, timeout: Duration) -> bool {
        let mut rx = self.rx.clone();
        tokio::time::timeout(timeout, rx.wait_for(AnchorStatus::done))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// The key of a background anchor: event kind, model name, version.
pub(crate) type TaskKey = (EventKind, String, String);

/// The latest background anchor per key.
#[derive(Debug, Default)]
pub(crate) struct Tasks(Mutex<HashMap<TaskKey, watch::Receiver<AnchorStatus>>>);

impl Tasks {
    /// Status of the latest anchor under `key`.
    pub(crate) fn status(&self, key: &TaskKey) -> AnchorStatus {
        self.0
            .lock()
            .ok()
            .and_then(|t| t.get(key).cloned())
            .map(|rx| rx.borrow().clone())
            .unwrap_or(AnchorStatus::Unknown)
    }
}

/// Runs `work` in the background; the handle (and, with a key, the table)
/// follows its status.
pub(crate) fn spawn<F>(tasks: Option<(&Tasks, TaskKey)>, work: F) -> AnchorHandle
where
    F: std::future::Future<Output = AnchorStatus> + Send + 'static,
{
    let (tx, rx) = watch::channel(AnchorStatus::Anchoring);
    if let Some((t, key)) = tasks {
        if let Ok(mut table) = t.0.lock() {
            table.insert(key, rx.clone());
        }
    }
    tokio::spawn(async move {
        let status = work.await;
        // The receiver may be gone (nobody waits); the status then has no reader.
        let _ = tx.send(status);
    });
    AnchorHandle { rx }
}
