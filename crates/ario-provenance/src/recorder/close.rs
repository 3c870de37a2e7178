//! Closing batches: the background task that turns each closed journal
//! segment into its batch file in MLflow and one signed checkpoint through
//! the common pipeline (stage, then deliver), in batch order, and answers
//! proof requests for checkpointed batches.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::merkle::{self, Hash};
use ario_mlflow_client::ArtifactRoot;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::journal::{Journal, Marker};
use super::{Inner, RecorderError};
use crate::anchorer::Anchorer;
use crate::checkpoint::{leaf_of, BatchFile, BatchModel, CheckpointPayload, StreamId};
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::layout::{artifact_path, batch_folder, ArtifactFile};
use crate::outbox::OutboxState;
use crate::pipeline::{PreparedEvent, Staged};
use crate::writeback::Writeback;
use ario_envelope::Envelope;

/// Checkpointed batches whose leaves stay in memory for proofs.
const LEAVES_KEPT: usize = 64;

/// Work for the closing task.
pub(crate) enum Job {
    /// A batch whose segment is complete.
    Close(Closed),
    /// Checkpoint every closed batch, attempt the uploads still owed,
    /// answer, and end the task.
    Stop(oneshot::Sender<()>),
}

/// A closed batch (its records are in its segment).
#[derive(Debug, Clone)]
pub(crate) struct Closed {
    pub(crate) seq: u64,
    /// The leaves this recorder computed as it acknowledged the records;
    /// `None` for a batch left open by another process (its segment is then
    /// read with full checks and its leaves computed from it).
    pub(crate) leaves: Option<Vec<Hash>>,
}

impl Closed {
    /// A batch this recorder filled.
    pub(crate) fn own(seq: u64, leaves: Vec<Hash>) -> Self {
        Closed {
            seq,
            leaves: Some(leaves),
        }
    }
    /// A batch found open by a restarted recorder.
    pub(crate) fn recovered(seq: u64) -> Self {
        Closed { seq, leaves: None }
    }
}

/// What the recorder has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Batches checkpointed (signed and stored).
    pub checkpoints: u64,
    /// Decisions in them.
    pub decisions: u64,
    /// Checkpoint uploads that went through.
    pub uploads: u64,
    /// Checkpoint uploads that did not (kept in the outbox for `retry`).
    pub upload_failures: u64,
}

pub(super) struct BatchInfo {
    pub(super) leaves: Arc<Vec<Hash>>,
    pub(super) tx_id: Option<String>,
}

pub(super) struct State {
    chain_head: String,
    /// Checkpoints signed and stored but not uploaded yet, oldest first:
    /// uploaded in batch order, so no batch reaches Arweave before the one
    /// it names as its predecessor.
    undelivered: VecDeque<(u64, Staged)>,
    /// When to try the oldest undelivered upload again.
    retry_at: Option<std::time::Instant>,
    backoff: Duration,
    pub(super) batches: BTreeMap<u64, BatchInfo>,
    stats: Stats,
    root: Option<ArtifactRoot>,
}

/// Turns closed batches into checkpoints.
pub(crate) struct Closer {
    pub(super) anchorer: Anchorer,
    pub(super) journal: Journal,
    stream: StreamId,
    model: BatchModel,
    state: Mutex<State>,
}

impl Closer {
    pub(crate) fn new(
        anchorer: Anchorer,
        journal: Journal,
        stream: StreamId,
        model: BatchModel,
        chain_head: String,
    ) -> Self {
        Closer {
            anchorer,
            journal,
            stream,
            model,
            state: Mutex::new(State {
                chain_head,
                undelivered: VecDeque::new(),
                retry_at: None,
                backoff: Duration::ZERO,
                batches: BTreeMap::new(),
                stats: Stats::default(),
                root: None,
            }),
        }
    }

    /// Takes over the uploads a previous process of this stream left owed
    /// (checkpoints staged, not uploaded), in batch order, before any new one.
    pub(crate) fn load_owed(&self) -> Result<(), ProvenanceError> {
        let prefix = format!("{}-", self.stream);
        let mut owed = Vec::new();
        for item in self.anchorer.outbox().list(&[OutboxState::Pending])? {
            let Writeback::Checkpoint { folder, .. } = &item.writeback else {
                continue;
            };
            let Some(seq) = folder
                .strip_prefix(&prefix)
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let parsed = ario_envelope::json::parse(item.envelope.as_bytes())
                .ok()
                .and_then(|v| Envelope::from_value(v).ok());
            let Some(envelope) = parsed else {
                tracing::warn!(event_id = %item.event_id, "an owed checkpoint's envelope is unreadable; left to `retry`");
                continue;
            };
            owed.push((
                seq,
                Staged {
                    envelope,
                    envelope_bytes: item.envelope.into_bytes(),
                    writeback: item.writeback,
                },
            ));
        }
        owed.sort_by_key(|(seq, _)| *seq);
        self.lock().undelivered.extend(owed);
        Ok(())
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> Stats {
        self.lock().stats
    }

    async fn run_root(&self) -> Result<ArtifactRoot, ProvenanceError> {
        if let Some(r) = self.lock().root.clone() {
            return Ok(r);
        }
        let r = self.anchorer.mlflow().run_root(&self.model.run_id).await?;
        self.lock().root = Some(r.clone());
        Ok(r)
    }

    /// Checkpoints one closed batch: batch file, signed checkpoint, marker, upload.
    async fn checkpoint(&self, c: &Closed) -> Result<(), ProvenanceError> {
        let seq = c.seq;
        self.journal.sync_segment(seq).map_err(local)?;
        let (records, leaves) = match &c.leaves {
            // The leaves were computed from these very lines as they were
            // written; the count shows nothing was lost between.
            Some(known) => {
                let records = self.journal.read_own_segment(seq).map_err(local)?;
                if records.len() != known.len() {
                    return Err(local(RecorderError::Corrupt {
                        path: self.journal.segment_path(seq),
                        why: format!(
                            "{} records on disk, {} acknowledged",
                            records.len(),
                            known.len()
                        ),
                    }));
                }
                (records, known.clone())
            }
            None => {
                let records = self.journal.read_segment(seq).map_err(local)?;
                let leaves = records.iter().map(|r| leaf_of(r)).collect();
                (records, leaves)
            }
        };
        let decided = |r: Option<&Vec<u8>>| {
            r.and_then(|b| ario_envelope::json::parse(b).ok())
                .and_then(|v| {
                    v.get("decided_at")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default()
        };
        let previous = self.lock().chain_head.clone();
        let payload = CheckpointPayload {
            stream_id: self.stream.clone(),
            batch_seq: seq,
            leaf_count: leaves.len() as u64,
            merkle_root: hex::encode(merkle::root(&leaves)),
            first_decided_at: decided(records.first()),
            last_decided_at: decided(records.last()),
            previous_checkpoint_hash: previous.clone(),
            model: self.model.clone(),
        };
        let bytes = payload.canonical()?;
        let payload_hash = sha256_hex(&bytes);
        let root = self.run_root().await?;
        let folder = batch_folder(self.stream.as_str(), seq);
        if let Some(path) = artifact_path(
            EventKind::DecisionCheckpoint,
            &folder,
            ArtifactFile::Decisions,
        ) {
            let body = BatchFile::encode(&self.stream, seq, &records);
            self.anchorer
                .mlflow()
                .upload_artifact(&root, &path, body)
                .await?;
        }
        let staged = self
            .anchorer
            .stage(PreparedEvent {
                kind: EventKind::DecisionCheckpoint,
                subject: Subject::DecisionBatch {
                    stream_id: self.stream.to_string(),
                    batch_seq: seq,
                    name: self.model.model_name.clone(),
                    version: self.model.model_version.clone(),
                    model_run_id: Some(self.model.run_id.clone()),
                },
                payload_bytes: bytes,
                previous_hash: previous,
                store_in: Some(root),
                pre_tags: vec![],
                writeback: Writeback::Checkpoint {
                    folder,
                    name: self.model.model_name.clone(),
                    version: self.model.model_version.clone(),
                    run_id: Some(self.model.run_id.clone()),
                },
            })
            .await?;
        let marker = Marker {
            payload_hash: payload_hash.clone(),
            event_id: staged.envelope.event_id.clone().unwrap_or_default(),
        };
        self.journal.write_marker(seq, &marker).map_err(local)?;
        {
            let mut s = self.lock();
            s.chain_head = payload_hash;
            s.stats.checkpoints += 1;
            s.stats.decisions += leaves.len() as u64;
            s.batches.insert(
                seq,
                BatchInfo {
                    leaves: Arc::new(leaves),
                    tx_id: None,
                },
            );
            while s.batches.len() > LEAVES_KEPT {
                s.batches.pop_first();
            }
        }
        self.lock().undelivered.push_back((seq, staged));
        self.deliver_owed().await;
        Ok(())
    }

    /// Uploads owed checkpoints in batch order, stopping at the first that
    /// does not go through (kept, with a growing pause before the next try).
    async fn deliver_owed(&self) {
        loop {
            let Some((seq, staged)) = self.lock().undelivered.front().cloned() else {
                return;
            };
            let tx = match self.anchorer.deliver(staged).await {
                Ok(c) => c.tx_id().map(str::to_owned),
                Err(e) => {
                    tracing::warn!(batch = seq, error = %e, "checkpoint upload failed");
                    None
                }
            };
            let mut s = self.lock();
            let Some(tx) = tx else {
                s.stats.upload_failures += 1;
                s.backoff =
                    (s.backoff * 2).clamp(Duration::from_millis(500), Duration::from_secs(60));
                s.retry_at = Some(std::time::Instant::now() + s.backoff);
                return;
            };
            s.stats.uploads += 1;
            s.backoff = Duration::ZERO;
            s.retry_at = None;
            s.undelivered.pop_front();
            if let Some(b) = s.batches.get_mut(&seq) {
                b.tx_id = Some(tx);
            }
        }
    }

    /// Whether an owed upload is due for another try.
    fn owed_due(&self) -> bool {
        let s = self.lock();
        !s.undelivered.is_empty() && s.retry_at.is_none_or(|t| std::time::Instant::now() >= t)
    }
}

fn local(e: RecorderError) -> ProvenanceError {
    e.into()
}

/// The closing task: closes batches that are due, checkpoints closed ones
/// in order (retrying the oldest on the next tick when MLflow fails), and
/// ends when the recorder is dropped.
pub(crate) async fn run(
    inner: Weak<Inner>,
    closer: Arc<Closer>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    let period = match inner.upgrade() {
        Some(i) => (i.opts.max_batch_age.min(i.opts.sync_interval) / 4)
            .clamp(Duration::from_millis(5), Duration::from_millis(250)),
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut queue: VecDeque<Closed> = VecDeque::new();
    let mut stop: Option<oneshot::Sender<()>> = None;
    let mut last_sync = std::time::Instant::now();
    let answer = loop {
        tokio::select! {
            job = rx.recv() => match job {
                Some(Job::Close(c)) => queue.push_back(c),
                Some(Job::Stop(tx)) => stop = Some(tx),
                None => break None,
            },
            _ = tick.tick() => {
                let Some(i) = inner.upgrade() else { break None };
                if i.due() {
                    if let Err(e) = i.rotate(false) {
                        tracing::warn!(error = %e, "could not close a due batch");
                    }
                }
                if last_sync.elapsed() >= i.opts.sync_interval {
                    i.sync_open();
                    last_sync = std::time::Instant::now();
                }
            }
        }
        while let Some(c) = queue.front() {
            match closer.checkpoint(c).await {
                Ok(()) => {
                    queue.pop_front();
                }
                Err(e) => {
                    tracing::warn!(batch = c.seq, error = %e, "checkpoint not stored yet; retrying");
                    break;
                }
            }
        }
        if queue.is_empty() {
            if let Some(tx) = stop.take() {
                // Every upload still owed gets its attempt before the end.
                closer.lock().retry_at = None;
                closer.deliver_owed().await;
                break Some(tx);
            }
            if closer.owed_due() {
                closer.deliver_owed().await;
            }
        }
    };
    // The journal's lock goes with the last handle on it: release this
    // task's before answering, so a recorder closed and dropped has freed
    // its directory by the time `close` returns to its caller.
    drop(closer);
    drop(inner);
    if let Some(tx) = answer {
        let _ = tx.send(());
    }
}
