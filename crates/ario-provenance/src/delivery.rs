//! Upload and bookkeeping, shared by the first attempt and `retry`: one
//! upload function, one definition of a permanent refusal, one write-back.

use ario_gateway::ans104::item::{DataItem, UnsignedItem};
use ario_gateway::ans104::tags::Tag;
use ario_gateway::turbo::{envelope_tags, UploadError, Uploaded};
use serde_json::Value;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::layout::{
    artifact_path, tx_tag, ArtifactFile, ITEM_SUBJECT_ID, ITEM_SUBJECT_TYPE, ITEM_SUCCESSOR_KEY,
};
use crate::outbox::{OutboxItem, OutboxState};
use crate::pipeline::{pretty, Committed, PreparedEvent, Staged, APP_VERSION};
use crate::tags;
use crate::writeback::Writeback;

/// Why one upload attempt did not get through.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error("cannot sign the data item: {0}")]
    DataItem(String),
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
}

/// How long one process may hold an item's upload lease.
const LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// A refusal that no retry can change: the bundler rejected the item with
/// a 4xx other than payment required, request timeout or rate limiting.
fn is_permanent(e: &AttemptError) -> bool {
    matches!(e, AttemptError::Upload(UploadError::Rejected { status, .. })
        if (400..500).contains(status) && ![402, 408, 429].contains(status))
}

impl Anchorer {
    /// The data item that carries an envelope, signed with the upload
    /// wallet (`None` when uploads are off; `Err` says why signing failed).
    pub(crate) fn sign_item(
        &self,
        envelope: &Value,
        bytes: &[u8],
    ) -> Option<Result<DataItem, String>> {
        let w = self.parts.wallet.as_ref()?;
        let mut anchor = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut anchor);
        // Additive, discoverable tags: who the anchor is about.
        let extra: Vec<Tag> = Subject::from_json(envelope.get("subject"))
            .map(|s| {
                let mut t = vec![
                    Tag::new(ITEM_SUBJECT_TYPE, s.subject_type().wire_name()),
                    Tag::new(ITEM_SUBJECT_ID, s.discovery_id()),
                ];
                if let Subject::Signer {
                    successor_public_key,
                    ..
                } = &s
                {
                    t.push(Tag::new(ITEM_SUCCESSOR_KEY, successor_public_key.clone()));
                }
                t
            })
            .unwrap_or_default();
        let signed = UnsignedItem {
            data: bytes.to_vec(),
            tags: envelope_tags(envelope, APP_VERSION, &extra),
            target: None,
            anchor: Some(anchor),
        }
        .sign(w.wallet.signer())
        .map_err(|e| e.to_string());
        Some(signed)
    }

    /// The event's data item: the one kept in the outbox, else one signed
    /// now and kept.
    fn item_for(
        &self,
        event_id: &str,
        envelope: &Value,
        bytes: &[u8],
    ) -> Result<DataItem, AttemptError> {
        let stored = match self.outbox().item(event_id)? {
            Some(b) => b,
            None => match self.sign_item(envelope, bytes) {
                None => return Err(UploadError::Disabled("uploads switched off".into()).into()),
                Some(Err(e)) => return Err(AttemptError::DataItem(e)),
                Some(Ok(item)) => self.outbox().keep_item(event_id, &item.to_bytes())?,
            },
        };
        DataItem::parse(&stored)
            .map_err(|e| AttemptError::DataItem(format!("stored data item unreadable: {e}")))
    }

    /// One upload attempt of an outbox item under its lease, recorded in
    /// the outbox either way. Every attempt sends the same signed bytes, so
    /// a bundler that already has them answers 202 and nothing is paid twice.
    async fn attempt(
        &self,
        event_id: &str,
        envelope: &Value,
        bytes: &[u8],
    ) -> Result<Result<Uploaded, String>, ProvenanceError> {
        if !self.outbox().lease(event_id, LEASE)? {
            return Ok(Err("another process is uploading this item".into()));
        }
        let result = match self.item_for(event_id, envelope, bytes) {
            Ok(item) => self
                .parts
                .turbo
                .upload(&item)
                .await
                .map_err(AttemptError::from),
            Err(e) => Err(e),
        };
        let recorded = match result {
            Ok(u) => {
                let receipt = u.raw_receipt.as_ref().map(|r| r.to_string());
                self.outbox()
                    .uploaded(event_id, &u.id, receipt.as_deref())?;
                Ok(u)
            }
            Err(AttemptError::Outbox(e)) => {
                self.outbox().release(event_id)?;
                return Err(e.into());
            }
            Err(e) => {
                self.outbox()
                    .attempt_failed(event_id, &e.to_string(), is_permanent(&e))?;
                tracing::warn!(event_id, error = %e, "upload failed; the signed envelope stays in the outbox");
                Err(e.to_string())
            }
        };
        self.outbox().release(event_id)?;
        Ok(recorded)
    }

    /// Signs, stores and stages the event, then uploads it and writes back.
    pub(crate) async fn commit(&self, ev: PreparedEvent) -> Result<Committed, ProvenanceError> {
        let staged = self.stage(ev).await?;
        self.deliver(staged).await
    }

    /// Uploads a staged envelope and writes back what the upload makes true.
    /// An upload failure is not an error: the item stays pending for `retry`.
    pub(crate) async fn deliver(&self, staged: Staged) -> Result<Committed, ProvenanceError> {
        let Staged {
            envelope,
            envelope_bytes,
            writeback,
        } = staged;
        let event_id = envelope.event_id.clone().unwrap_or_default();
        let (uploaded, upload_error) = match self
            .attempt(&event_id, &envelope.to_value(), &envelope_bytes)
            .await?
        {
            Ok(u) => {
                let receipt = u.raw_receipt.as_ref().map(|r| r.to_string());
                self.write_back(&event_id, &writeback, &u.id, receipt.as_deref())
                    .await?;
                (Some(u), None)
            }
            Err(e) => (None, Some(e)),
        };
        Ok(Committed {
            envelope,
            envelope_bytes,
            uploaded,
            upload_error,
        })
    }

    /// Uploads every pending item and finishes write-backs left undone;
    /// returns the items as they now stand.
    pub async fn retry(&self) -> Result<Vec<OutboxItem>, ProvenanceError> {
        let ob = self.outbox();
        let mut out = Vec::new();
        let items = ob.list(&[OutboxState::Pending, OutboxState::Uploaded])?;
        let progress = crate::progress::begin("uploading outbox items", items.len());
        for item in items {
            progress.step();
            let id = item.event_id.as_str();
            let done = match (item.state, &item.tx_id) {
                (OutboxState::Uploaded, Some(tx)) => Some((tx.clone(), item.receipt.clone())),
                _ => match ario_envelope::json::parse(item.envelope.as_bytes()) {
                    Err(e) => {
                        ob.attempt_failed(id, &format!("stored envelope unreadable: {e}"), true)?;
                        None
                    }
                    Ok(envelope) => self
                        .attempt(id, &envelope, item.envelope.as_bytes())
                        .await?
                        .ok()
                        .map(|u| (u.id, u.raw_receipt.map(|r| r.to_string()))),
                },
            };
            if let Some((tx, receipt)) = done {
                if let Err(e) = self
                    .write_back(id, &item.writeback, &tx, receipt.as_deref())
                    .await
                {
                    tracing::warn!(event_id = id, error = %e, "write-back to MLflow failed; will retry");
                }
            }
            if let Some(i) = ob.get(id)? {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Writes what an upload makes true (receipt, transaction tags, chain
    /// head) and records the outcome in the outbox.
    pub(crate) async fn write_back(
        &self,
        event_id: &str,
        writeback: &Writeback,
        tx_id: &str,
        receipt: Option<&str>,
    ) -> Result<usize, ProvenanceError> {
        let result = self.apply(event_id, writeback, tx_id, receipt).await;
        let err = result.as_ref().err().map(|e| e.to_string());
        self.outbox().written_back(event_id, err.as_deref())?;
        result
    }

    async fn apply(
        &self,
        event_id: &str,
        wb: &Writeback,
        tx: &str,
        receipt: Option<&str>,
    ) -> Result<usize, ProvenanceError> {
        let c = self.mlflow();
        let kind = wb.kind();
        let receipt = receipt.and_then(|r| serde_json::from_str::<Value>(r).ok());
        let receipt_path = artifact_path(kind, wb.artifact_id(event_id), ArtifactFile::Receipt);
        if let (Some(r), Some(run_id), Some(path)) = (receipt, wb.run_id(), receipt_path) {
            let root = c.run_root(run_id).await?;
            c.upload_artifact(&root, &path, pretty(&r)).await?;
        }
        let url = self.gateway().arweave_url(tx);
        let mut tag_list: Vec<(String, &str)> = match wb {
            Writeback::Dataset { name, .. } => vec![(crate::layout::dataset_tx_tag(name), tx)],
            _ => vec![(tx_tag(kind).to_owned(), tx)],
        };
        match kind {
            EventKind::Training | EventKind::Registration => {
                tag_list.push((tags::ARWEAVE_URL.into(), &url));
                tag_list.push((tags::VERIFY_STATUS.into(), "anchored"));
            }
            EventKind::Prediction => {
                tag_list.push((tags::ARWEAVE_URL.into(), &url));
                tag_list.push((tags::PROOF_STATUS.into(), "anchored"));
            }
            _ => {}
        }
        let mut n = 0;
        if let Some(target) = wb.tag_target() {
            for (k, v) in &tag_list {
                c.set_tag(&target, k, v).await?;
                n += 1;
            }
        }
        if let Writeback::Training {
            registered_model: Some(m),
            payload_hash,
            ..
        } = wb
        {
            let target = ario_mlflow_client::TagTarget::Model(m.clone());
            c.set_tag(&target, tags::LAST_TRAINING_HASH, payload_hash)
                .await?;
            n += 1;
        }
        Ok(n)
    }
}
