//! [`DecisionRecorder`]: decisions at inference scale. Each decision is a
//! Merkle leaf appended to a local journal and acknowledged at once, with no
//! network on the hot path; every `batch_size` decisions or `max_batch_age`
//! a batch closes into one signed checkpoint, anchored through the common
//! pipeline and outbox (one upload per batch), with the batch file beside it
//! in MLflow.
//!
//! Durability: an acknowledged decision has been written to the journal with
//! one `write` call, so it survives the process being killed; it survives
//! power loss once its segment is flushed, when its batch closes and at
//! least every `sync_interval`. A recorder reopened on the same directory
//! checkpoints every batch left open.

mod adopt;
mod clock;
mod close;
mod error;
mod journal;
mod proof;
mod receipt;
mod trace;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ario_envelope::merkle::Hash;
use tokio::sync::mpsc;

use crate::checkpoint::{leaf_of, record_bytes, BatchModel, DecisionFields, DecisionId, StreamId};
use crate::event::UNKNOWN_RUN;
use crate::model::VerifiedModel;
use crate::payload;
use close::{Closed, Closer, Job};
use journal::Journal;

pub use close::Stats;
pub use error::RecorderError;
pub use proof::ProofState;
pub use receipt::{DecisionInput, DecisionReceipt};

/// Default decisions per batch: a batch file of about 2.5 MiB.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// Most decisions per batch (larger sizes are lowered to this): keeps a
/// batch file well below what a verifier reads back.
pub const MAX_BATCH_SIZE: usize = 100_000;
/// Deepest nesting of a decision's metadata.
pub const MAX_METADATA_DEPTH: usize = 100;
/// How long opening waits for a journal another recorder holds.
const LOCK_WAIT: Duration = Duration::from_secs(2);
/// Default longest time a batch stays open.
pub const DEFAULT_MAX_BATCH_AGE: Duration = Duration::from_millis(1000);

/// How a recorder batches.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Close a batch after this many decisions.
    pub batch_size: usize,
    /// Close a non-empty batch after it has been open this long.
    pub max_batch_age: Duration,
    /// Flush the open segment to disk at least this often.
    pub sync_interval: Duration,
    /// The journal directory (default: `<home>/recorder/<model>/<version>`).
    pub dir: Option<PathBuf>,
    /// Also write one MLflow trace per decision (in the background). Off by
    /// default: MLflow is not built for thousands of traces a second.
    pub trace_each: bool,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            max_batch_age: DEFAULT_MAX_BATCH_AGE,
            sync_interval: DEFAULT_MAX_BATCH_AGE,
            dir: None,
            trace_each: false,
        }
    }
}

/// The batch being filled.
struct OpenBatch {
    seq: u64,
    file: std::fs::File,
    leaves: Vec<Hash>,
    /// Bytes of complete records in the segment.
    len: u64,
    /// When the first decision arrived (the batch's age counts from it).
    first: Option<Instant>,
}

struct Inner {
    stream: StreamId,
    journal: Journal,
    opts: RecorderOptions,
    open: Mutex<Option<OpenBatch>>,
    jobs: mpsc::UnboundedSender<Job>,
    closer: Arc<Closer>,
    tracer: Option<trace::Tracer>,
}

/// Records decisions of one [`VerifiedModel`] into Merkle-batched checkpoints.
#[derive(Clone)]
pub struct DecisionRecorder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DecisionRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionRecorder")
            .field("stream", &self.inner.stream)
            .finish_non_exhaustive()
    }
}

impl DecisionRecorder {
    /// Opens the recorder of `model`: reopens its journal (checkpointing
    /// every batch a previous process left open) and starts the background
    /// task that closes and anchors batches. Needs a Tokio runtime.
    pub async fn open(model: &VerifiedModel, opts: RecorderOptions) -> Result<Self, RecorderError> {
        let run_id = model
            .run_id
            .clone()
            .filter(|r| !r.is_empty() && r != UNKNOWN_RUN)
            .ok_or_else(|| RecorderError::NoRun {
                model_uri: model.model_uri.clone(),
            })?;
        let bm = BatchModel {
            model_name: model.name.clone(),
            model_version: model.version.clone(),
            run_id,
            model_uri: model.model_uri.clone(),
        };
        let dir = opts.dir.clone().unwrap_or_else(|| {
            model
                .anchorer
                .home()
                .join("recorder")
                .join(crate::model::sanitize(&model.name))
                .join(crate::model::sanitize(&model.version))
        });
        // The directory's own record of the model wins: a batch staged again
        // after a crash then commits to the same bytes, however reopened.
        // A lock released a moment ago can still be held briefly by a copy
        // of its descriptor (a process this program forks keeps one until it
        // execs): wait that out, bounded, before calling the directory busy.
        let deadline = Instant::now() + LOCK_WAIT;
        let (journal, stream, bm, recovery) = loop {
            match Journal::open(&dir, &bm) {
                Err(RecorderError::Busy { .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => break other?,
            }
        };
        let recovery = adopt::after_adopting(model.anchorer.outbox(), &journal, &stream, recovery)?;
        let tracer = match (&model.experiment_id, opts.trace_each) {
            (Some(exp), true) => Some(trace::Tracer {
                client: model.anchorer.mlflow().clone(),
                experiment_id: exp.clone(),
                model: bm.clone(),
                running: Mutex::new(Vec::new()),
            }),
            _ => None,
        };
        let closer = Arc::new(Closer::new(
            model.anchorer.clone(),
            journal.clone(),
            stream.clone(),
            bm,
            recovery.chain_head.clone(),
        ));
        closer
            .load_owed()
            .map_err(|e| RecorderError::Outbox(e.to_string()))?;
        let (tx, rx) = mpsc::unbounded_channel();
        for seq in &recovery.unmarked {
            let _ = tx.send(Job::Close(Closed::recovered(*seq)));
        }
        let inner = Arc::new(Inner {
            stream,
            journal,
            opts,
            open: Mutex::new(None),
            jobs: tx,
            closer: closer.clone(),
            tracer,
        });
        {
            let mut g = inner.open.lock().unwrap_or_else(|p| p.into_inner());
            *g = Some(inner.new_batch(recovery.next_seq)?);
        }
        tokio::spawn(close::run(Arc::downgrade(&inner), closer, rx));
        Ok(DecisionRecorder { inner })
    }

    /// The stream this recorder writes.
    pub fn stream_id(&self) -> &StreamId {
        &self.inner.stream
    }

    /// Records one decision and returns its receipt once it is in the journal.
    pub fn record(&self, d: &DecisionInput) -> Result<DecisionReceipt, RecorderError> {
        let mut r = self.record_many(std::slice::from_ref(d))?;
        r.pop().ok_or(RecorderError::Closed)
    }

    /// Records decisions in order with one journal write per batch touched.
    pub fn record_many(&self, ds: &[DecisionInput]) -> Result<Vec<DecisionReceipt>, RecorderError> {
        let mut prepared = Vec::with_capacity(ds.len());
        for d in ds {
            // A record nests its metadata two levels deep and a batch file
            // two more; keep every record readable by the strict parser.
            // The map is one level; its values may take the rest (no copy
            // of the metadata on this hot path).
            let too_deep = d
                .metadata
                .values()
                .any(|v| ario_envelope::json::exceeds_depth(v, MAX_METADATA_DEPTH - 1));
            if too_deep {
                return Err(RecorderError::TooDeep {
                    max: MAX_METADATA_DEPTH,
                });
            }
            let fields = DecisionFields {
                input_hash: payload::input_hash(&d.input)?,
                output_hash: payload::output_hash(&d.output)?,
                decided_at: String::new(),
                latency_ms: d.latency_ms,
                metadata: d.metadata.clone(),
            };
            prepared.push(fields);
        }
        let mut receipts = self.inner.append(prepared)?;
        if let Some(t) = &self.inner.tracer {
            let latencies: Vec<Option<f64>> = ds.iter().map(|d| d.latency_ms).collect();
            t.spawn(&mut receipts, &latencies);
        }
        Ok(receipts)
    }

    /// The proof of a decision: pending while its batch is open or not yet
    /// checkpointed, the inclusion proof once it is.
    pub fn proof(&self, id: &DecisionId) -> Result<ProofState, RecorderError> {
        if id.stream_id != self.inner.stream {
            return Ok(ProofState::Unknown);
        }
        let open = self.inner.lock_open();
        if let Some(b) = open.as_ref() {
            if id.batch_seq == b.seq {
                let known = id.leaf_index < b.leaves.len() as u64;
                return Ok(if known {
                    ProofState::Pending
                } else {
                    ProofState::Unknown
                });
            }
            if id.batch_seq > b.seq {
                return Ok(ProofState::Unknown);
            }
        }
        drop(open);
        self.inner.closer.proof(id)
    }

    /// Closes the open batch now (if it has decisions).
    pub fn flush(&self) -> Result<(), RecorderError> {
        self.inner.rotate(false)
    }

    /// Closes the open batch and waits until every closed batch is
    /// checkpointed and its upload attempted (and every trace written); the
    /// recorder then takes no more decisions. Uploads that did not go
    /// through stay in the outbox for `retry`. Once it has returned and
    /// every clone of the recorder is dropped, the journal directory is free
    /// for another recorder.
    pub async fn close(&self) -> Result<(), RecorderError> {
        self.inner.rotate(true)?;
        if let Some(t) = &self.inner.tracer {
            t.settle().await;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .jobs
            .send(Job::Stop(tx))
            .map_err(|_| RecorderError::Closed)?;
        rx.await.map_err(|_| RecorderError::Closed)
    }

    /// Batches checkpointed and uploads made, so far.
    pub fn stats(&self) -> close::Stats {
        self.inner.closer.stats()
    }
}

impl Inner {
    fn lock_open(&self) -> std::sync::MutexGuard<'_, Option<OpenBatch>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_batch(&self, seq: u64) -> Result<OpenBatch, RecorderError> {
        Ok(OpenBatch {
            seq,
            file: self.journal.create_segment(seq)?,
            leaves: Vec::new(),
            len: 0,
            first: None,
        })
    }

    fn append(&self, fields: Vec<DecisionFields>) -> Result<Vec<DecisionReceipt>, RecorderError> {
        let mut out = Vec::with_capacity(fields.len());
        let mut rest = fields.into_iter().peekable();
        let mut guard = self.lock_open();
        while rest.peek().is_some() {
            let b = guard.as_mut().ok_or(RecorderError::Closed)?;
            let size = self.opts.batch_size.clamp(1, MAX_BATCH_SIZE);
            let room = size.saturating_sub(b.leaves.len()).max(1);
            let mut lines = Vec::new();
            let mut pending = Vec::new();
            // One clock reading per write, taken under the lock, so
            // `decided_at` never decreases along the journal.
            let at = clock::now();
            for mut f in rest.by_ref().take(room) {
                f.decided_at.clone_from(&at);
                let id = DecisionId {
                    stream_id: self.stream.clone(),
                    batch_seq: b.seq,
                    leaf_index: (b.leaves.len() + pending.len()) as u64,
                };
                let bytes = record_bytes(&id, &f)?;
                lines.extend_from_slice(&bytes);
                lines.push(b'\n');
                pending.push((id, leaf_of(&bytes), f));
            }
            if let Err(error) = b.file.write_all(&lines) {
                // Nothing of this call is acknowledged: cut a partial write
                // off, so the segment keeps whole records only.
                if let Err(e) = b.file.set_len(b.len) {
                    tracing::error!(error = %e, "could not cut a failed journal write");
                }
                return Err(RecorderError::Io {
                    path: self.journal.segment_path(b.seq),
                    error,
                });
            }
            b.len += lines.len() as u64;
            b.first.get_or_insert_with(Instant::now);
            for (id, leaf, f) in pending {
                b.leaves.push(leaf);
                out.push(DecisionReceipt {
                    decision_id: id.to_string(),
                    batch_seq: id.batch_seq,
                    leaf_index: id.leaf_index,
                    leaf_hash: hex::encode(leaf),
                    input_hash: f.input_hash,
                    output_hash: f.output_hash,
                    decided_at: f.decided_at,
                    trace_id: None,
                });
            }
            if b.leaves.len() >= size {
                // These decisions are journaled: a batch that cannot close
                // now (no new segment) closes on a later call or tick.
                if let Err(e) = self.rotate_locked(&mut guard, false) {
                    tracing::error!(error = %e, "could not close a full batch; retrying later");
                }
            }
        }
        Ok(out)
    }

    /// Closes the open batch if it has decisions (and, when `last`, opens no other).
    fn rotate(&self, last: bool) -> Result<(), RecorderError> {
        let mut guard = self.lock_open();
        self.rotate_locked(&mut guard, last)
    }

    fn rotate_locked(
        &self,
        guard: &mut Option<OpenBatch>,
        last: bool,
    ) -> Result<(), RecorderError> {
        let Some(b) = guard.as_ref() else {
            return Ok(());
        };
        if b.leaves.is_empty() && !last {
            return Ok(());
        }
        let next = b.seq + 1;
        let replacement = if last {
            None
        } else {
            Some(self.new_batch(next)?)
        };
        let Some(b) = std::mem::replace(guard, replacement) else {
            return Ok(());
        };
        if b.leaves.is_empty() {
            return Ok(());
        }
        // Flush the closed segment now, off this thread: the closing task
        // may be busy with earlier batches (or waiting for MLflow).
        let (file, seq) = (b.file, b.seq);
        std::thread::spawn(move || {
            if let Err(e) = file.sync_data() {
                tracing::warn!(batch = seq, error = %e, "could not flush a closed journal segment");
            }
        });
        self.jobs
            .send(Job::Close(Closed::own(b.seq, b.leaves)))
            .map_err(|_| RecorderError::Closed)
    }

    /// Whether the open batch is older than `max_batch_age` (and not empty).
    fn due(&self) -> bool {
        let g = self.lock_open();
        g.as_ref()
            .and_then(|b| b.first)
            .is_some_and(|t| t.elapsed() >= self.opts.max_batch_age)
    }

    /// Flushes the open segment to disk.
    fn sync_open(&self) {
        let seq = self.lock_open().as_ref().map(|b| b.seq);
        if let Some(seq) = seq {
            if let Err(e) = self.journal.sync_segment(seq) {
                tracing::warn!(error = %e, "could not flush the open journal segment");
            }
        }
    }
}
