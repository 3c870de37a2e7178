//! The one commit pipeline every event goes through: sign the envelope,
//! store the payload, proof and pre-upload tags in MLflow and record the
//! envelope in the outbox; the delivery step then uploads and writes back.
//!
//! MLflow is written first: once the envelope is in the outbox, everything a
//! verifier needs besides the transaction id is already stored.

use ario_envelope::envelope::{sign_envelope, Envelope};
use ario_envelope::jcs::canonicalize;
use ario_gateway::turbo::Uploaded;
use ario_mlflow_client::{ArtifactRoot, TagTarget};
use serde_json::Value;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::layout::{artifact_path, ArtifactFile};
use crate::tasks::AnchorStatus;
use crate::writeback::Writeback;

/// `App-Version` of our data items and the version our reports carry.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The envelope profile we emit.
pub const SPEC_VERSION: &str = "ario.mlflow/v1";

/// An event ready to be signed and committed.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEvent {
    /// What happened.
    pub(crate) kind: EventKind,
    /// What it is about.
    pub(crate) subject: Subject,
    /// The canonical payload bytes.
    pub(crate) payload_bytes: Vec<u8>,
    /// The chain link.
    pub(crate) previous_hash: String,
    /// The run root that keeps the payload and proof (`None`: not stored).
    pub(crate) store_in: Option<ArtifactRoot>,
    /// Tags written before the upload.
    pub(crate) pre_tags: Vec<(TagTarget, &'static str, String)>,
    /// What the upload makes true.
    pub(crate) writeback: Writeback,
}

/// A signed envelope recorded in the outbox, not yet uploaded.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub(crate) envelope: Envelope,
    pub(crate) envelope_bytes: Vec<u8>,
    pub(crate) writeback: Writeback,
}

/// A signed envelope and what happened to its upload.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The signed envelope.
    pub envelope: Envelope,
    /// Its canonical bytes (what was uploaded).
    pub envelope_bytes: Vec<u8>,
    /// The upload, when it went through.
    pub uploaded: Option<Uploaded>,
    /// Why it did not.
    pub upload_error: Option<String>,
}

impl Committed {
    /// The Arweave id, when uploaded.
    pub fn tx_id(&self) -> Option<&str> {
        self.uploaded.as_ref().map(|u| u.id.as_str())
    }
    /// The envelope's `event_id`.
    pub fn event_id(&self) -> &str {
        self.envelope.event_id.as_deref().unwrap_or_default()
    }
    /// `anchored` when the upload went through, else `signed`.
    pub fn status(&self) -> AnchorStatus {
        match self.tx_id() {
            Some(tx) => AnchorStatus::Anchored { tx_id: tx.into() },
            None => AnchorStatus::Signed {
                error: self.upload_error.clone(),
            },
        }
    }
}

/// Python's `datetime.now(timezone.utc).isoformat()`: `+00:00`, and no
/// fraction when the microseconds are zero.
pub fn signed_at_now() -> String {
    let now = chrono::Utc::now();
    if now.timestamp_subsec_micros() == 0 {
        now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        now.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// `json.dump(value, indent=2)`, as the plugin writes `proof.json`.
pub(crate) fn pretty(value: &Value) -> Vec<u8> {
    // A JSON value always serializes.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

impl Anchorer {
    /// An unsigned `ario.mlflow/v1` envelope with a fresh event id.
    pub(crate) fn unsigned_envelope(
        &self,
        kind: EventKind,
        subject: &Subject,
        payload_hash: &str,
        previous_hash: &str,
    ) -> Envelope {
        Envelope {
            spec_version: Some(SPEC_VERSION.into()),
            event_id: Some(uuid::Uuid::new_v4().to_string()),
            event_type: Some(kind.wire_name().into()),
            subject: Some(subject.to_json()),
            payload_hash: Some(payload_hash.into()),
            previous_hash: Some(previous_hash.into()),
            signed_at: Some(signed_at_now()),
            public_key: Some(self.public_key_hex()),
            ..Envelope::default()
        }
    }

    fn sign(&self, unsigned: &Envelope) -> Result<(Envelope, Vec<u8>), ProvenanceError> {
        let signed = sign_envelope(&unsigned.to_value(), &self.parts.key)?;
        let bytes = canonicalize(&signed)?;
        let envelope =
            Envelope::from_value(signed).map_err(|_| ProvenanceError::IncompleteAnswer {
                operation: "signing",
                missing: "envelope object",
            })?;
        Ok((envelope, bytes))
    }

    /// Signs the event, stores it in MLflow and records it in the outbox.
    pub(crate) async fn stage(&self, ev: PreparedEvent) -> Result<Staged, ProvenanceError> {
        let hash = ario_envelope::encoding::sha256_hex(&ev.payload_bytes);
        let unsigned = self.unsigned_envelope(ev.kind, &ev.subject, &hash, &ev.previous_hash);
        let (envelope, envelope_bytes) = self.sign(&unsigned)?;
        let event_id = envelope.event_id.clone().unwrap_or_default();
        let c = self.mlflow();
        if let Some(root) = &ev.store_in {
            let id = ev.writeback.artifact_id(&event_id);
            let files = [
                (ArtifactFile::Payload, ev.payload_bytes.clone()),
                (ArtifactFile::Proof, pretty(&envelope.to_value())),
            ];
            // Both files at once: they are independent, and every round
            // trip here is on the caller's path.
            let uploads = files.into_iter().filter_map(|(file, bytes)| {
                let path = artifact_path(ev.kind, id, file)?;
                Some(async move { c.upload_artifact(root, &path, bytes).await })
            });
            futures_util::future::try_join_all(uploads).await?;
        }
        for (target, k, v) in &ev.pre_tags {
            c.set_tag(target, k, v).await?;
        }
        let text = String::from_utf8_lossy(&envelope_bytes).into_owned();
        // The data item is signed once, here, so every attempt sends the same bytes.
        let item = match self.sign_item(&envelope.to_value(), &envelope_bytes) {
            Some(Ok(item)) => Some(item.to_bytes()),
            Some(Err(e)) => return Err(ProvenanceError::DataItem(e)),
            None => None,
        };
        self.outbox().put(
            &event_id,
            ev.kind.wire_name(),
            &text,
            &ev.writeback,
            item.as_deref(),
        )?;
        Ok(Staged {
            envelope,
            envelope_bytes,
            writeback: ev.writeback,
        })
    }
}
