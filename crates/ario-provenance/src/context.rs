//! [`Provenance`]: the MLflow client, gateway settings, signing key, upload
//! wallet and outbox every lifecycle operation shares, and the one pipeline
//! they all go through (sign → outbox → upload → write back).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ario_envelope::envelope::sign_envelope;
use ario_envelope::jcs::canonicalize;
use ario_envelope::keys::SigningKey;
use ario_gateway::ans104::item::UnsignedItem;
use ario_gateway::config::GatewayConfig;
use ario_gateway::fetch::GatewayReader;
use ario_gateway::turbo::{envelope_tags, TurboClient, UploadError, Uploaded};
use ario_gateway::wallet::{self, LoadedWallet};
use ario_mlflow_client::{ArtifactRoot, MlflowClient};
use serde_json::{json, Value};

use crate::error::ProvenanceError;
use crate::keystore::{self, KeyOrigin};
use crate::mlflow_io as io;
use crate::outbox::{Outbox, OutboxItem, OutboxState, Writeback};
use crate::tags;

/// `App-Version` of our data items and the version our tags report.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The envelope profile we emit.
pub const SPEC_VERSION: &str = "ario.mlflow/v1";

/// How to build a [`Provenance`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Key, wallet and outbox directory (`ARIO_MLFLOW_HOME`, else `~/.ario-mlflow`).
    pub home: PathBuf,
    /// `ARIO_MLFLOW_SIGNING_KEY` (base64 seed), if set.
    pub signing_key: Option<String>,
    /// Upload to the bundler (off: signed-only, everything stays in the outbox).
    pub upload: bool,
    /// Verify and audit only: no key file, wallet or outbox is read or created
    /// (an in-memory key stands in; nothing can be anchored).
    pub read_only: bool,
}

impl Settings {
    /// From the environment.
    pub fn from_env() -> Self {
        let home = std::env::var_os("ARIO_MLFLOW_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".ario-mlflow"))
            })
            .unwrap_or_else(|| PathBuf::from(".ario-mlflow"));
        Settings {
            home,
            signing_key: std::env::var("ARIO_MLFLOW_SIGNING_KEY").ok(),
            upload: true,
            read_only: false,
        }
    }
}

struct Inner {
    mlflow: MlflowClient,
    gateway: GatewayConfig,
    key: SigningKey,
    key_origin: KeyOrigin,
    wallet: Option<LoadedWallet>,
    turbo: TurboClient,
    reader: GatewayReader,
    outbox: Option<Outbox>,
    home: PathBuf,
    tasks: crate::registry::Tasks,
}

/// Shared state of every lifecycle operation; cheap to clone.
#[derive(Clone)]
pub struct Provenance {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provenance")
            .field("tracking_uri", &self.inner.mlflow.tracking_uri())
            .field("public_key", &self.inner.key.public_key_hex())
            .field("home", &self.inner.home)
            .finish()
    }
}

/// A signed envelope and what happened to its upload.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The signed envelope.
    pub envelope: Value,
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
    /// `event_id` of the envelope.
    pub fn event_id(&self) -> &str {
        self.envelope["event_id"].as_str().unwrap_or_default()
    }
}

/// A signed envelope recorded in the outbox, not yet uploaded.
#[derive(Debug, Clone)]
pub struct Staged {
    envelope: Value,
    envelope_bytes: Vec<u8>,
    writeback: Writeback,
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

/// `json.dump(value, indent=2)` as the plugin writes `proof.json`.
pub fn pretty(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

impl Provenance {
    /// Builds the shared state: loads (or creates once) the signing key and
    /// the upload wallet, and opens the outbox under `settings.home`.
    pub fn new(
        mlflow: MlflowClient,
        gateway: GatewayConfig,
        settings: Settings,
    ) -> Result<Self, ProvenanceError> {
        if settings.read_only {
            return Ok(Provenance {
                inner: Arc::new(Inner {
                    turbo: TurboClient::new(gateway.clone()),
                    reader: GatewayReader::new(gateway.clone()),
                    mlflow,
                    gateway,
                    key: SigningKey::generate(),
                    key_origin: KeyOrigin::Ephemeral,
                    wallet: None,
                    outbox: None,
                    home: settings.home,
                    tasks: Default::default(),
                }),
            });
        }
        let (key, key_origin) =
            keystore::load_or_create(&settings.home, settings.signing_key.as_deref())?;
        let wallet = if settings.upload {
            Some(wallet::resolve(
                gateway.wallet_path.as_deref(),
                Some(&settings.home.join("wallet.json")),
            )?)
        } else {
            None
        };
        let outbox = Some(Outbox::open(settings.home.join("outbox.sqlite"))?);
        Ok(Provenance {
            inner: Arc::new(Inner {
                turbo: TurboClient::new(gateway.clone()),
                reader: GatewayReader::new(gateway.clone()),
                mlflow,
                gateway,
                key,
                key_origin,
                wallet,
                outbox,
                home: settings.home,
                tasks: Default::default(),
            }),
        })
    }

    /// From the environment (MLflow, gateway and `ARIO_MLFLOW_*` variables).
    pub fn from_env() -> Result<Self, ProvenanceError> {
        Self::new(
            MlflowClient::from_env()?,
            GatewayConfig::from_env(),
            Settings::from_env(),
        )
    }

    /// From the environment, for verification and audit only: no key file,
    /// wallet or outbox is read or created.
    pub fn from_env_read_only() -> Result<Self, ProvenanceError> {
        Self::new(
            MlflowClient::from_env()?,
            GatewayConfig::from_env(),
            Settings {
                read_only: true,
                ..Settings::from_env()
            },
        )
    }

    /// The MLflow client.
    pub fn mlflow(&self) -> &MlflowClient {
        &self.inner.mlflow
    }
    /// Gateway settings.
    pub fn gateway(&self) -> &GatewayConfig {
        &self.inner.gateway
    }
    /// Gateway reader.
    pub fn reader(&self) -> &GatewayReader {
        &self.inner.reader
    }
    /// The signing public key (hex).
    pub fn public_key_hex(&self) -> String {
        self.inner.key.public_key_hex()
    }
    /// Where the signing key came from.
    pub fn key_origin(&self) -> KeyOrigin {
        self.inner.key_origin
    }
    /// The outbox (none in a read-only context).
    pub fn outbox(&self) -> Result<&Outbox, ProvenanceError> {
        self.inner.outbox.as_ref().ok_or_else(|| {
            ProvenanceError::Invalid(
                "this context is read-only: it has no outbox and anchors nothing".into(),
            )
        })
    }
    /// Home directory.
    pub fn home(&self) -> &Path {
        &self.inner.home
    }
    /// The upload wallet, when uploading is on.
    pub fn wallet(&self) -> Option<&LoadedWallet> {
        self.inner.wallet.as_ref()
    }
    pub(crate) fn tasks(&self) -> &crate::registry::Tasks {
        &self.inner.tasks
    }

    /// An unsigned `ario.mlflow/v1` envelope with a fresh event id.
    pub fn unsigned_envelope(
        &self,
        event_type: &str,
        subject: Value,
        payload_hash: &str,
        previous_hash: &str,
    ) -> Value {
        json!({
            "event_id": uuid::Uuid::new_v4().to_string(),
            "event_type": event_type,
            "subject": subject,
            "payload_hash": payload_hash,
            "previous_hash": previous_hash,
            "signed_at": signed_at_now(),
            "spec_version": SPEC_VERSION,
            "public_key": self.inner.key.public_key_hex(),
        })
    }

    /// Signs an envelope built by [`Self::unsigned_envelope`].
    pub fn sign(&self, unsigned: &Value) -> Result<(Value, Vec<u8>), ProvenanceError> {
        let signed = sign_envelope(unsigned, &self.inner.key)?;
        let bytes = canonicalize(&signed)?;
        Ok((signed, bytes))
    }

    /// Records the signed envelope in the outbox (durably, before any upload).
    pub fn stage(
        &self,
        envelope: Value,
        envelope_bytes: Vec<u8>,
        writeback: Writeback,
    ) -> Result<Staged, ProvenanceError> {
        let event_id = envelope["event_id"].as_str().unwrap_or_default().to_owned();
        let event_type = envelope["event_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let text = String::from_utf8_lossy(&envelope_bytes).into_owned();
        self.outbox()?
            .put(&event_id, &event_type, &text, &writeback)?;
        Ok(Staged {
            envelope,
            envelope_bytes,
            writeback,
        })
    }

    /// Uploads a staged envelope and writes back what the upload makes true.
    /// An upload failure is not an error: the item stays pending for `retry`.
    pub async fn deliver(&self, staged: Staged) -> Result<Committed, ProvenanceError> {
        let Staged {
            envelope,
            envelope_bytes,
            writeback,
        } = staged;
        let event_id = envelope["event_id"].as_str().unwrap_or_default().to_owned();
        let (uploaded, upload_error) = match self.upload(&envelope, &envelope_bytes).await {
            Ok(u) => {
                let receipt = u.raw_receipt.as_ref().map(|r| r.to_string());
                self.outbox()?
                    .uploaded(&event_id, &u.id, receipt.as_deref())?;
                self.write_back(&event_id, &writeback, &u.id, receipt.as_deref())
                    .await?;
                (Some(u), None)
            }
            Err(e) => {
                let permanent = matches!(e, UploadError::Rejected { status, .. } if (400..500).contains(&status) && status != 402 && status != 408 && status != 429);
                self.outbox()?
                    .attempt_failed(&event_id, &e.to_string(), permanent)?;
                tracing::warn!(event_id = %event_id, error = %e, "upload failed; the signed envelope is in the outbox");
                (None, Some(e.to_string()))
            }
        };
        Ok(Committed {
            envelope,
            envelope_bytes,
            uploaded,
            upload_error,
        })
    }

    /// [`Self::stage`] then [`Self::deliver`].
    pub async fn commit_and_write_back(
        &self,
        envelope: Value,
        envelope_bytes: Vec<u8>,
        writeback: Writeback,
    ) -> Result<Committed, ProvenanceError> {
        let staged = self.stage(envelope, envelope_bytes, writeback)?;
        self.deliver(staged).await
    }

    async fn upload(&self, envelope: &Value, bytes: &[u8]) -> Result<Uploaded, UploadError> {
        let Some(w) = &self.inner.wallet else {
            return Err(UploadError::Disabled("uploads switched off".into()));
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
        .map_err(|e| UploadError::Disabled(format!("cannot sign the data item: {e}")))?;
        self.inner.turbo.upload(&item).await
    }

    /// The wallet tags (`ario.wallet_mode`, `ario.wallet_type`), when uploading.
    pub fn wallet_tags(&self) -> Vec<(&'static str, String)> {
        match &self.inner.wallet {
            Some(w) => vec![
                (tags::WALLET_MODE, w.mode.as_str().to_owned()),
                (tags::WALLET_TYPE, w.wallet.chain().as_str().to_owned()),
            ],
            None => vec![],
        }
    }

    /// Uploads an artifact below a run's root.
    pub async fn put_artifact(
        &self,
        root: &ArtifactRoot,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ProvenanceError> {
        Ok(self.inner.mlflow.upload_artifact(root, path, bytes).await?)
    }

    async fn run_root_of(&self, run_id: &str) -> Result<ArtifactRoot, ProvenanceError> {
        let run = self.inner.mlflow.run(run_id).await?;
        Ok(io::run_root(&run)?)
    }

    /// Writes what an upload makes true (transaction tags, receipts, chain
    /// heads) and marks the outbox item anchored.
    pub async fn write_back(
        &self,
        event_id: &str,
        writeback: &Writeback,
        tx_id: &str,
        receipt: Option<&str>,
    ) -> Result<usize, ProvenanceError> {
        let result = self
            .write_back_inner(writeback, tx_id, receipt, event_id)
            .await;
        let err = result.as_ref().err().map(|e| e.to_string());
        self.outbox()?.written_back(event_id, err.as_deref())?;
        result
    }

    async fn write_back_inner(
        &self,
        writeback: &Writeback,
        tx: &str,
        receipt: Option<&str>,
        event_id: &str,
    ) -> Result<usize, ProvenanceError> {
        let c = &self.inner.mlflow;
        let url = self.inner.gateway.arweave_url(tx);
        let receipt_bytes =
            receipt.and_then(|r| serde_json::from_str::<Value>(r).ok().map(|v| pretty(&v)));
        let mut n = 0;
        match writeback {
            Writeback::Training {
                run_id,
                registered_model,
                payload_hash,
            } => {
                if let Some(r) = receipt_bytes {
                    let root = self.run_root_of(run_id).await?;
                    self.put_artifact(&root, "ario/receipt.json", r).await?;
                }
                for (k, v) in [
                    (tags::TRAINING_TX, tx),
                    (tags::ARWEAVE_URL, url.as_str()),
                    (tags::VERIFY_STATUS, "anchored"),
                ] {
                    io::set_run_tag(c, run_id, k, v).await?;
                    n += 1;
                }
                if let Some(m) = registered_model {
                    io::set_model_tag(c, m, tags::LAST_TRAINING_HASH, payload_hash).await?;
                    n += 1;
                }
            }
            Writeback::Dataset { run_id, name } => {
                if let Some(run_id) = run_id {
                    let key = format!("{}{name}", tags::DATASET_ANCHOR_TX_PREFIX);
                    io::set_run_tag(c, run_id, &key, tx).await?;
                    n += 1;
                }
            }
            Writeback::Registration {
                name,
                version,
                run_id,
            } => {
                if let (Some(r), Some(run_id)) = (receipt_bytes, run_id) {
                    let root = self.run_root_of(run_id).await?;
                    self.put_artifact(&root, "ario/registration_receipt.json", r)
                        .await?;
                }
                for (k, v) in [
                    (tags::REGISTRATION_TX, tx),
                    (tags::ARWEAVE_URL, url.as_str()),
                    (tags::VERIFY_STATUS, "anchored"),
                ] {
                    io::set_version_tag(c, name, version, k, v).await?;
                    n += 1;
                }
            }
            Writeback::Promotion {
                name,
                version,
                run_id,
            }
            | Writeback::Alias {
                name,
                version,
                run_id,
            } => {
                let (dir, tag) = if matches!(writeback, Writeback::Promotion { .. }) {
                    ("promotions", tags::PROMOTION_TX)
                } else {
                    ("aliases", tags::ALIAS_TX)
                };
                if let (Some(r), Some(run_id)) = (receipt_bytes, run_id) {
                    let root = self.run_root_of(run_id).await?;
                    self.put_artifact(&root, &format!("ario/{dir}/{event_id}/receipt.json"), r)
                        .await?;
                }
                io::set_version_tag(c, name, version, tag, tx).await?;
                n += 1;
            }
            Writeback::Prediction {
                decision_id,
                trace_id,
                run_id,
            } => {
                if let (Some(r), Some(run_id)) = (receipt_bytes, run_id) {
                    let root = self.run_root_of(run_id).await?;
                    self.put_artifact(
                        &root,
                        &format!("ario/predictions/{decision_id}/receipt.json"),
                        r,
                    )
                    .await?;
                }
                if let Some(t) = trace_id {
                    for (k, v) in [
                        (tags::PREDICTION_TX, tx),
                        (tags::ARWEAVE_URL, url.as_str()),
                        (tags::PROOF_STATUS, "anchored"),
                    ] {
                        io::set_trace_tag(c, t, k, v).await?;
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Uploads every pending item (and finishes write-backs left undone);
    /// returns the items as they now stand.
    pub async fn retry(&self) -> Result<Vec<OutboxItem>, ProvenanceError> {
        let ob = self.outbox()?;
        let mut out = Vec::new();
        for item in ob.list(&[OutboxState::Pending, OutboxState::Uploaded])? {
            let (tx, receipt) = if item.state == OutboxState::Uploaded {
                (item.tx_id.clone().unwrap_or_default(), item.receipt.clone())
            } else {
                let envelope: Value = match ario_envelope::json::parse(item.envelope.as_bytes()) {
                    Ok(v) => v,
                    Err(e) => {
                        ob.attempt_failed(
                            &item.event_id,
                            &format!("stored envelope unreadable: {e}"),
                            true,
                        )?;
                        continue;
                    }
                };
                match self.upload(&envelope, item.envelope.as_bytes()).await {
                    Ok(u) => {
                        let receipt = u.raw_receipt.as_ref().map(|r| r.to_string());
                        ob.uploaded(&item.event_id, &u.id, receipt.as_deref())?;
                        (u.id, receipt)
                    }
                    Err(e) => {
                        ob.attempt_failed(&item.event_id, &e.to_string(), false)?;
                        if let Some(i) = ob.get(&item.event_id)? {
                            out.push(i);
                        }
                        continue;
                    }
                }
            };
            if let Err(e) = self
                .write_back(&item.event_id, &item.writeback, &tx, receipt.as_deref())
                .await
            {
                tracing::warn!(event_id = %item.event_id, error = %e, "write-back to MLflow failed; will retry");
            }
            if let Some(i) = ob.get(&item.event_id)? {
                out.push(i);
            }
        }
        Ok(out)
    }
}
