//! After a crash between staging a batch's checkpoint (signed, in the
//! outbox, perhaps even uploaded) and writing its marker, the batch must not
//! be checkpointed a second time: the staged checkpoint is adopted instead.

use super::journal::{Journal, Marker, Recovery};
use super::RecorderError;
use crate::checkpoint::StreamId;
use crate::layout::batch_folder;
use crate::outbox::{Outbox, OutboxState};
use crate::writeback::Writeback;

/// Writes the marker of every `unmarked` batch whose checkpoint the outbox
/// already holds (in any state); returns whether any was adopted.
pub(crate) fn adopt_staged(
    outbox: &Outbox,
    journal: &Journal,
    stream: &StreamId,
    unmarked: &[u64],
) -> Result<bool, RecorderError> {
    if unmarked.is_empty() {
        return Ok(false);
    }
    let all = [
        OutboxState::Pending,
        OutboxState::Uploaded,
        OutboxState::Anchored,
        OutboxState::Failed,
    ];
    let items = outbox
        .list(&all)
        .map_err(|e| RecorderError::Outbox(e.to_string()))?;
    let mut adopted = false;
    for &seq in unmarked {
        let folder = batch_folder(stream.as_str(), seq);
        let staged = items.iter().find(
            |i| matches!(&i.writeback, Writeback::Checkpoint { folder: f, .. } if *f == folder),
        );
        let Some(item) = staged else { continue };
        let envelope = ario_envelope::json::parse(item.envelope.as_bytes()).ok();
        let hash = envelope
            .as_ref()
            .and_then(|e| e.get("payload_hash"))
            .and_then(|h| h.as_str());
        let Some(payload_hash) = hash else { continue };
        tracing::info!(batch = seq, event_id = %item.event_id, "adopting the checkpoint staged before a crash");
        journal.write_marker(
            seq,
            &Marker {
                payload_hash: payload_hash.to_owned(),
                event_id: item.event_id.clone(),
            },
        )?;
        adopted = true;
    }
    Ok(adopted)
}

/// `recovery` once staged checkpoints are adopted (read again if any was).
pub(crate) fn after_adopting(
    outbox: &Outbox,
    journal: &Journal,
    stream: &StreamId,
    recovery: Recovery,
) -> Result<Recovery, RecorderError> {
    if adopt_staged(outbox, journal, stream, &recovery.unmarked)? {
        journal.recover()
    } else {
        Ok(recovery)
    }
}
