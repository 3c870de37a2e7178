//! Upload and bookkeeping, shared by the first attempt and `retry`: one
//! upload function, one definition of a permanent refusal, one write-back.

use ario_gateway::ans104::item::UnsignedItem;
use ario_gateway::turbo::{envelope_tags, UploadError, Uploaded};
use serde_json::Value;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::EventKind;
use crate::layout::{artifact_path, tx_tag, ArtifactFile};
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
}

/// A refusal that no retry can change: the bundler rejected the item with
/// a 4xx other than payment required, request timeout or rate limiting.
fn is_permanent(e: &AttemptError) -> bool {
    matches!(e, AttemptError::Upload(UploadError::Rejected { status, .. })
        if (400..500).contains(status) && ![402, 408, 429].contains(status))
}

impl Anchorer {
    async fn upload(&self, envelope: &Value, bytes: &[u8]) -> Result<Uploaded, AttemptError> {
        let Some(w) = &self.parts.wallet else {
            return Err(UploadError::Disabled("uploads switched off".into()).into());
        };
        let mut anchor = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut anchor);
        let item = UnsignedItem {
            data: bytes.to_vec(),
            tags: envelope_tags(envelope, APP_VERSION, &[]),
            target: None,
            anchor: Some(anchor),
        }
        .sign(w.wallet.signer())
        .map_err(|e| AttemptError::DataItem(e.to_string()))?;
        Ok(self.parts.turbo.upload(&item).await?)
    }

    /// One upload attempt of an outbox item, recorded in the outbox either way.
    async fn attempt(
        &self,
        event_id: &str,
        envelope: &Value,
        bytes: &[u8],
    ) -> Result<Result<Uploaded, String>, ProvenanceError> {
        match self.upload(envelope, bytes).await {
            Ok(u) => {
                let receipt = u.raw_receipt.as_ref().map(|r| r.to_string());
                self.outbox()
                    .uploaded(event_id, &u.id, receipt.as_deref())?;
                Ok(Ok(u))
            }
            Err(e) => {
                self.outbox()
                    .attempt_failed(event_id, &e.to_string(), is_permanent(&e))?;
                tracing::warn!(event_id, error = %e, "upload failed; the signed envelope stays in the outbox");
                Ok(Err(e.to_string()))
            }
        }
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
        for item in ob.list(&[OutboxState::Pending, OutboxState::Uploaded])? {
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
