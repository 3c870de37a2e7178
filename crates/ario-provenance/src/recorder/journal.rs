//! The recorder's append-only journal: one segment file per batch holding
//! each acknowledged record as one line of canonical JSON, a marker per
//! batch once its checkpoint is signed and stored, and the stream file that
//! ties the directory to one model version.
//!
//! A record is acknowledged only after its line was handed to the kernel
//! with one `write` call, so it survives the process being killed (SIGKILL);
//! segments are flushed to disk (`fsync`) when their batch closes and on the
//! recorder's sync interval, after which they also survive power loss.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ario_envelope::envelope::GENESIS;
use serde::{Deserialize, Serialize};

use super::RecorderError;
use crate::checkpoint::{BatchModel, StreamId};

const STREAM_FILE: &str = "stream.json";

/// What the stream file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StreamFile {
    stream_id: StreamId,
    #[serde(flatten)]
    model: BatchModel,
}

/// What a batch's marker records: its checkpoint is signed and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Marker {
    /// `SHA-256(JCS(checkpoint payload))`: the next batch's predecessor.
    pub(crate) payload_hash: String,
    /// The checkpoint envelope's event id (its outbox entry).
    pub(crate) event_id: String,
}

/// What reopening a journal found.
#[derive(Debug, Clone)]
pub(crate) struct Recovery {
    /// Batches with records and no checkpoint yet, ascending.
    pub(crate) unmarked: Vec<u64>,
    /// The predecessor hash of the first of them (or of the next batch).
    pub(crate) chain_head: String,
    /// The number of the next batch to open.
    pub(crate) next_seq: u64,
}

/// The journal directory.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    dir: PathBuf,
    /// Held locked for the journal's life: one recorder per directory.
    _lock: std::sync::Arc<File>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecorderError + '_ {
    move |error| RecorderError::Io {
        path: path.to_owned(),
        error,
    }
}

/// The batch number of a marker file name.
fn marker_seq(name: &str) -> Option<u64> {
    name.strip_prefix("batch-")?
        .strip_suffix(".checkpoint.json")?
        .parse()
        .ok()
}

/// The batch number of a segment file name.
fn segment_seq(name: &str) -> Option<u64> {
    name.strip_prefix("batch-")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

impl Journal {
    /// Opens (or creates) the journal of `model` in `dir`; refuses a
    /// directory that belongs to another model version.
    pub(crate) fn open(
        dir: &Path,
        model: &BatchModel,
    ) -> Result<(Journal, StreamId, BatchModel, Recovery), RecorderError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(RecorderError::Busy {
                    dir: dir.to_owned(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let j = Journal {
            dir: dir.to_owned(),
            _lock: std::sync::Arc::new(lock),
        };
        let path = dir.join(STREAM_FILE);
        let (stream, model) = match std::fs::read(&path) {
            Ok(bytes) => {
                let s: StreamFile =
                    serde_json::from_slice(&bytes).map_err(|e| RecorderError::Corrupt {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                let same = s.model.model_name == model.model_name
                    && s.model.model_version == model.model_version;
                if !same {
                    return Err(RecorderError::ForeignDirectory {
                        dir: dir.to_owned(),
                        holds: format!("{}/{}", s.model.model_name, s.model.model_version),
                    });
                }
                (s.stream_id, s.model)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let s = StreamFile {
                    stream_id: StreamId::random(),
                    model: model.clone(),
                };
                let bytes = serde_json::to_vec_pretty(&s).unwrap_or_default();
                j.write_atomic(&path, &bytes)?;
                (s.stream_id, s.model)
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let recovery = j.recover()?;
        Ok((j, stream, model, recovery))
    }

    /// What the directory holds now: unmarked batches, the chain head, the next number.
    pub(crate) fn recover(&self) -> Result<Recovery, RecorderError> {
        let names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(io(&self.dir))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let mut seqs: Vec<u64> = names.iter().filter_map(|n| segment_seq(n)).collect();
        seqs.sort_unstable();
        // Numbering continues after the highest marker too: a segment pruned
        // after its checkpoint must not have its number used again.
        let highest_marker = names.iter().filter_map(|n| marker_seq(n)).max();
        let mut unmarked = Vec::new();
        let mut next_seq = highest_marker.map_or(0, |m| m + 1);
        for seq in seqs {
            if self.marker(seq)?.is_some() {
                next_seq = next_seq.max(seq + 1);
                continue;
            }
            if self.read_segment(seq)?.is_empty() {
                // Opened but never written to: nothing was acknowledged.
                let p = self.segment_path(seq);
                std::fs::remove_file(&p).map_err(io(&p))?;
                continue;
            }
            unmarked.push(seq);
            next_seq = next_seq.max(seq + 1);
        }
        let first = unmarked.first().copied().unwrap_or(next_seq);
        let chain_head = match first.checked_sub(1) {
            None => GENESIS.to_owned(),
            Some(prev) => match self.marker(prev)? {
                Some(m) => m.payload_hash,
                None => return Err(RecorderError::ChainGap { batch_seq: prev }),
            },
        };
        Ok(Recovery {
            unmarked,
            chain_head,
            next_seq,
        })
    }

    /// The segment file of a batch.
    pub(crate) fn segment_path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("batch-{seq}.jsonl"))
    }

    fn marker_path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("batch-{seq}.checkpoint.json"))
    }

    /// Creates the segment of a new batch.
    pub(crate) fn create_segment(&self, seq: u64) -> Result<File, RecorderError> {
        let p = self.segment_path(seq);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(io(&p))
    }

    /// Flushes a segment to disk.
    pub(crate) fn sync_segment(&self, seq: u64) -> Result<(), RecorderError> {
        let p = self.segment_path(seq);
        File::open(&p).and_then(|f| f.sync_all()).map_err(io(&p))
    }

    /// The complete records of a segment. A last line cut short (a write
    /// interrupted by a crash, never acknowledged) is cut off the file.
    /// Every record is parsed as JSON (a segment left by another process).
    pub(crate) fn read_segment(&self, seq: u64) -> Result<Vec<Vec<u8>>, RecorderError> {
        self.read_lines(seq, true)
    }

    /// [`Self::read_segment`] of a segment this process wrote itself: each
    /// record is only checked to be one object (`{…}`), not parsed again.
    pub(crate) fn read_own_segment(&self, seq: u64) -> Result<Vec<Vec<u8>>, RecorderError> {
        self.read_lines(seq, false)
    }

    fn read_lines(&self, seq: u64, parse: bool) -> Result<Vec<Vec<u8>>, RecorderError> {
        let p = self.segment_path(seq);
        let mut bytes = Vec::new();
        File::open(&p)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io(&p))?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            tracing::warn!(segment = %p.display(), "cutting off an unacknowledged partial record");
            let f = OpenOptions::new().write(true).open(&p).map_err(io(&p))?;
            f.set_len(complete as u64).map_err(io(&p))?;
        }
        let mut out = Vec::new();
        for line in bytes[..complete].split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let shaped = line.first() == Some(&b'{') && line.last() == Some(&b'}');
            if !shaped || (parse && ario_envelope::json::parse(line).is_err()) {
                return Err(RecorderError::Corrupt {
                    path: p,
                    why: format!("record {} is not JSON", out.len()),
                });
            }
            out.push(line.to_vec());
        }
        Ok(out)
    }

    /// The marker of a batch, if its checkpoint is stored.
    pub(crate) fn marker(&self, seq: u64) -> Result<Option<Marker>, RecorderError> {
        let p = self.marker_path(seq);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| RecorderError::Corrupt {
                    path: p,
                    why: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&p)(e)),
        }
    }

    /// Records that a batch's checkpoint is signed and stored.
    pub(crate) fn write_marker(&self, seq: u64, m: &Marker) -> Result<(), RecorderError> {
        let bytes = serde_json::to_vec(m).unwrap_or_default();
        self.write_atomic(&self.marker_path(seq), &bytes)
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), RecorderError> {
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))?;
        // The rename itself must reach the disk.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn model(v: &str) -> BatchModel {
        BatchModel {
            model_name: "m".into(),
            model_version: v.into(),
            run_id: "r".into(),
            model_uri: "models:/m/1".into(),
        }
    }

    #[test]
    fn a_torn_last_line_is_cut_and_complete_lines_are_kept() {
        let d = tempfile::tempdir().unwrap();
        let (j, _, _, r) = Journal::open(d.path(), &model("1")).unwrap();
        assert_eq!((r.unmarked.len(), r.next_seq), (0, 0));
        let mut f = j.create_segment(0).unwrap();
        f.write_all(b"{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        assert_eq!(j.read_segment(0).unwrap().len(), 2);
        assert!(matches!(
            Journal::open(d.path(), &model("1")),
            Err(RecorderError::Busy { .. })
        ));
        drop(j);
        let (_, _, _, r) = Journal::open(d.path(), &model("1")).unwrap();
        assert_eq!(r.unmarked, vec![0]);
        assert_eq!(r.chain_head, GENESIS);
        assert_eq!(r.next_seq, 1);
    }

    #[test]
    fn markers_advance_the_chain_and_another_model_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let (j, s1, _, _) = Journal::open(d.path(), &model("1")).unwrap();
        for seq in 0..3 {
            j.create_segment(seq).unwrap().write_all(b"{}\n").unwrap();
        }
        let m = Marker {
            payload_hash: "h0".into(),
            event_id: "e0".into(),
        };
        j.write_marker(0, &m).unwrap();
        j.create_segment(3).unwrap();
        drop(j);
        let (j2, s2, _, r) = Journal::open(d.path(), &model("1")).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(r.unmarked, vec![1, 2]);
        assert_eq!(r.chain_head, "h0");
        assert_eq!(r.next_seq, 3);
        drop(j2);
        assert!(matches!(
            Journal::open(d.path(), &model("2")),
            Err(RecorderError::ForeignDirectory { .. })
        ));
    }
}
