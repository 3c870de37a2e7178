//! Turbo (ar.io bundler) upload client, signed receipts and bundler status.

use ario_envelope::encoding::{b64url_decode, b64url_encode, sha256};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::ans104::deep_hash::{deep_hash, Chunk};
use crate::ans104::{DataItem, Tag};
use crate::config::GatewayConfig;
use ario_http::{self as http, RequestFailure};

/// `App-Name` of every item the plugin family uploads.
pub const APP_NAME: &str = "ar-io-mlflow";

/// The plugin's six data-item tags, in order, then `extra` (a name that
/// shadows one of the six is ignored).
pub fn envelope_tags(envelope: &Value, app_version: &str, extra: &[Tag]) -> Vec<Tag> {
    let field = |k: &str, default: &str| match envelope.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => default.to_owned(),
        Some(other) => other.to_string(),
    };
    let mut tags = vec![
        Tag::new("Content-Type", "application/json"),
        Tag::new("App-Name", APP_NAME),
        Tag::new(
            "App-Version",
            if app_version.is_empty() {
                "unknown"
            } else {
                app_version
            },
        ),
        Tag::new("Event-Type", field("event_type", "unknown")),
        Tag::new("Event-Id", field("event_id", "unknown")),
        Tag::new("Chain-Prev", field("previous_hash", "GENESIS")),
    ];
    for t in extra {
        if tags.iter().take(6).any(|b| b.name == t.name) {
            tracing::warn!(tag = %t.name, "extra tag would shadow a baseline tag; ignored");
        } else {
            tags.push(t.clone());
        }
    }
    tags
}

/// A receipt as Turbo returns it (unknown members kept in `raw`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Data item id.
    pub id: String,
    /// Normalized owner address of the uploader.
    pub owner: String,
    /// Receipt format version.
    #[serde(default)]
    pub version: String,
    /// Upload time, ms since the epoch.
    #[serde(default)]
    pub timestamp: u64,
    /// Block height by which the item is promised on chain.
    #[serde(default)]
    pub deadline_height: u64,
    /// Gateways caching the item.
    #[serde(default)]
    pub data_caches: Vec<String>,
    /// Fast-finality indexes.
    #[serde(default)]
    pub fast_finality_indexes: Vec<String>,
    /// Cost in winston credits.
    #[serde(default)]
    pub winc: String,
    /// Receipt signer's RSA modulus (base64url).
    #[serde(default)]
    pub public: String,
    /// RSA-PSS signature over the receipt (base64url).
    #[serde(default)]
    pub signature: String,
}

impl Receipt {
    /// The 48-byte message a receipt signature covers.
    pub fn signing_message(&self) -> [u8; 48] {
        let dh = self.deadline_height.to_string();
        let ts = self.timestamp.to_string();
        deep_hash(&Chunk::List(&[
            Chunk::Blob(b"Bundlr"),
            Chunk::Blob(self.version.as_bytes()),
            Chunk::Blob(self.id.as_bytes()),
            Chunk::Blob(dh.as_bytes()),
            Chunk::Blob(ts.as_bytes()),
        ]))
    }

    /// The receipt signer's address: base64url(SHA-256(public)).
    pub fn signer_address(&self) -> Option<String> {
        b64url_decode(&self.public)
            .ok()
            .map(|n| b64url_encode(&sha256(&n)))
    }

    /// True when the receipt signature verifies under its own `public` key.
    pub fn signature_valid(&self) -> bool {
        let (Ok(n), Ok(sig)) = (b64url_decode(&self.public), b64url_decode(&self.signature)) else {
            return false;
        };
        crate::ans104::item::rsa_pss_any_salt(&n, &self.signing_message(), &sig)
    }
}

/// What an accepted upload returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The item id (checked against the receipt).
    pub id: String,
    /// The receipt; `None` when Turbo answered 202 (already in flight).
    pub receipt: Option<Receipt>,
    /// The receipt JSON exactly as served (kept as `ario/receipt.json`).
    pub raw_receipt: Option<Value>,
}

/// Why an upload did not go through.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// Uploading is switched off (no usable wallet, or configured off).
    #[error("anchor disabled: {0}")]
    Disabled(String),
    /// Turbo refused the item (4xx: invalid item, 402 insufficient balance, 403…).
    #[error("upload rejected with HTTP {status}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Turbo's message (first 200 characters).
        message: String,
    },
    /// Retries ran out (429, 5xx, transport errors, deadline).
    #[error("upload service unavailable: {0}")]
    Unavailable(RequestFailure),
    /// The answer is not a usable receipt.
    #[error("invalid receipt: {0}")]
    InvalidReceipt(String),
}

/// Bundler status of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurboStatus {
    /// `CONFIRMED`, `FINALIZED` or `FAILED`.
    pub status: String,
    /// `new`, `pending`, `permanent` or `failed`.
    #[serde(default)]
    pub info: Option<String>,
    /// The bundle the item went into, once known.
    #[serde(default)]
    pub bundle_id: Option<String>,
}

/// Uploads signed items to Turbo.
#[derive(Debug, Clone)]
pub struct TurboClient {
    client: reqwest::Client,
    config: GatewayConfig,
}

impl TurboClient {
    /// A client for `config.upload_url`.
    pub fn new(config: GatewayConfig) -> Self {
        TurboClient {
            client: http::client(),
            config,
        }
    }

    /// Posts the item and checks the receipt: same id, same owner, a valid
    /// signature, and (when one is pinned) the expected signer.
    pub async fn upload(&self, item: &DataItem) -> Result<Uploaded, UploadError> {
        let url = format!(
            "{}/tx/{}",
            self.config.upload_url.trim_end_matches('/'),
            item.signature_type.turbo_token()
        );
        let body = item.to_bytes();
        let deadline =
            Instant::now() + self.config.upload_timeout * (self.config.retry.max_retries + 1);
        let resp = http::send(
            &self.config.retry,
            self.config.upload_timeout,
            deadline,
            || {
                self.client
                    .post(&url)
                    .header("content-type", "application/octet-stream")
                    .body(body.clone())
            },
        )
        .await
        .map_err(UploadError::Unavailable)?;
        let status = resp.status();
        if status == StatusCode::ACCEPTED {
            return Ok(Uploaded {
                id: item.id(),
                receipt: None,
                raw_receipt: None,
            });
        }
        if status != StatusCode::OK {
            let text = resp.text().await.unwrap_or_default();
            return Err(UploadError::Rejected {
                status: status.as_u16(),
                message: text.chars().take(200).collect(),
            });
        }
        let bytes = http::read_capped(resp, 64 * 1024)
            .await
            .map_err(UploadError::Unavailable)?;
        let raw: Value = serde_json::from_slice(&bytes)
            .map_err(|e| UploadError::InvalidReceipt(e.to_string()))?;
        let receipt: Receipt = serde_json::from_value(raw.clone())
            .map_err(|e| UploadError::InvalidReceipt(e.to_string()))?;
        self.check_receipt(item, &receipt)?;
        Ok(Uploaded {
            id: receipt.id.clone(),
            receipt: Some(receipt),
            raw_receipt: Some(raw),
        })
    }

    fn check_receipt(&self, item: &DataItem, r: &Receipt) -> Result<(), UploadError> {
        if r.id != item.id() {
            return Err(UploadError::InvalidReceipt(format!(
                "receipt id {} is not the item id {}",
                r.id,
                item.id()
            )));
        }
        if r.owner != item.owner_address() {
            return Err(UploadError::InvalidReceipt(
                "receipt owner is not the item owner".into(),
            ));
        }
        if !r.signature_valid() {
            return Err(UploadError::InvalidReceipt(
                "receipt signature does not verify".into(),
            ));
        }
        if let Some(pinned) = &self.config.receipt_signer {
            if r.signer_address().as_deref() != Some(pinned.as_str()) {
                return Err(UploadError::InvalidReceipt(
                    "receipt signed by an unexpected key".into(),
                ));
            }
        }
        Ok(())
    }

    /// `GET {status_url}/v1/tx/<id>/status`; `Ok(None)` when the bundler does not know the id.
    pub async fn status(&self, tx_id: &str) -> Result<Option<TurboStatus>, RequestFailure> {
        let url = format!(
            "{}/v1/tx/{tx_id}/status",
            self.config.status_url.trim_end_matches('/')
        );
        let deadline = Instant::now() + self.config.fetch_deadline;
        let resp = http::send(
            &self.config.retry,
            self.config.fetch_timeout,
            deadline,
            || self.client.get(&url),
        )
        .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let bytes = http::read_capped(resp, 64 * 1024).await?;
        Ok(serde_json::from_slice(&bytes).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn six_tags_in_order_and_no_shadowing() {
        let env = json!({"event_type": "training_complete", "event_id": "e-1", "previous_hash": "GENESIS"});
        let tags = envelope_tags(
            &env,
            "0.1.0",
            &[Tag::new("App-Name", "evil"), Tag::new("Team", "ml")],
        );
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "App-Name",
                "App-Version",
                "Event-Type",
                "Event-Id",
                "Chain-Prev",
                "Team"
            ]
        );
        assert_eq!(tags[1].value, "ar-io-mlflow");
        assert_eq!(tags[3].value, "training_complete");
        let defaults = envelope_tags(&json!({}), "", &[]);
        assert_eq!(
            (
                defaults[2].value.as_str(),
                defaults[4].value.as_str(),
                defaults[5].value.as_str()
            ),
            ("unknown", "unknown", "GENESIS")
        );
    }
}
