//! Key rotation: the retiring key signs a `key_retired` event naming its
//! successor (the upstream kernel's payload: `retired_public_key`,
//! `retired_at`, `new_public_key`, `reason`), the event is anchored, and
//! the successor takes over the key files. A verifier whose trust policy
//! pins the retiring key (and sets `follow_rotations`) then accepts the
//! successor from the handover on.

use ario_envelope::envelope::GENESIS;
use ario_envelope::keys::SigningKey;
use serde_json::json;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::keystore::{self, KeyOrigin};
use crate::payload;
use crate::pipeline::{Committed, PreparedEvent};
use crate::writeback::Writeback;

/// What [`Anchorer::rotate_key`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The retired key (hex).
    pub retired_public_key: String,
    /// The successor (hex).
    pub new_public_key: String,
    /// When the handover took effect.
    pub retired_at: String,
    /// The canonical payload bytes (also kept beside the retired key).
    pub payload_bytes: Vec<u8>,
    /// The signed handover and its upload.
    pub committed: Committed,
}

impl Anchorer {
    /// Retires the signing key: signs and anchors the handover to a new key
    /// with the current one, then installs the new key. This anchorer keeps
    /// the retired key; open a new one to sign with the successor.
    pub async fn rotate_key(&self, reason: &str) -> Result<Rotation, ProvenanceError> {
        if self.key_origin() == KeyOrigin::Env {
            return Err(ProvenanceError::KeyFromEnvironment);
        }
        let successor = SigningKey::generate();
        let retired = self.public_key_hex();
        let new = successor.public_key_hex();
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let p = json!({
            "retired_public_key": retired, "retired_at": at,
            "new_public_key": new, "reason": reason,
        });
        let payload_bytes = payload::canonical(&p)?;
        let committed = self
            .commit(PreparedEvent {
                kind: EventKind::KeyRetired,
                subject: Subject::Signer {
                    public_key: retired.clone(),
                    successor_public_key: new.clone(),
                },
                payload_bytes: payload_bytes.clone(),
                previous_hash: GENESIS.into(),
                store_in: None,
                pre_tags: vec![],
                writeback: Writeback::KeyRetired {
                    public_key: retired.clone(),
                },
            })
            .await?;
        // The handover is signed and durably in the outbox: only now does
        // the successor take over (a failed upload is finished by `retry`).
        let home = self.home();
        keystore::install_successor(home, &self.parts.key, &successor)?;
        let kept = keystore::retired_dir(home).join(format!("{retired}.rotation.json"));
        std::fs::write(&kept, &payload_bytes).map_err(|error| ProvenanceError::Io {
            path: kept.clone(),
            error,
        })?;
        Ok(Rotation {
            retired_public_key: retired,
            new_public_key: new,
            retired_at: at,
            payload_bytes,
            committed,
        })
    }
}
