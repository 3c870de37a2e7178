//! ar.io Verify client: health, submit, poll, and a real check of the
//! operator's RSA-PSS attestation (the Python plugin only trusts it).

use std::time::Duration;

use ario_envelope::encoding::{b64url_decode, b64url_encode, sha256, sha256_hex};
use ario_envelope::rsa_pss::{operator_address, verify_rsa_pss_sha256_bytes, RsaJwk};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::config::{GatewayConfig, RetryPolicy};
use ario_http::{self as http, RequestFailure};

/// The fields of a Verify answer the provenance checks use (plus the raw JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyResult {
    /// Server-side id of this verification.
    pub verification_id: Option<String>,
    /// `existence.status` (`confirmed`, `pending`, `not_found`), or `unknown`.
    pub status: String,
    /// Attestation level 1..=3 (advisory: only 3 means the operator checked the signature).
    pub level: Option<u8>,
    /// `authenticity.signatureValid`.
    pub signature_valid: Option<bool>,
    /// `authenticity.dataHash`: base64url SHA-256 of the bytes the operator downloaded.
    pub data_hash: Option<String>,
    /// `owner.address`.
    pub owner_address: Option<String>,
    /// Report page (absolute).
    pub report_url: Option<String>,
    /// PDF certificate (absolute).
    pub pdf_url: Option<String>,
    /// `attestation.gateway`.
    pub attested_by: Option<String>,
    /// `attestation.attestedAt`.
    pub attested_at: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

/// Why a Verify call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyServiceError {
    /// No Verify URL is configured.
    #[error("ar.io Verify client not enabled")]
    NotEnabled,
    /// HTTP failure.
    #[error("ar.io Verify request failed: {0}")]
    Request(RequestFailure),
    /// Non-success status.
    #[error("ar.io Verify answered HTTP {0}")]
    Status(u16),
    /// Unparseable answer.
    #[error("ar.io Verify answer is not the expected JSON: {0}")]
    Parse(String),
}

/// Outcome of checking an operator attestation against our envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationCheck {
    /// RSA-PSS-SHA256 (salt 32, e = 65537) over JCS(payload) verifies; `None` when
    /// there is no attestation or it uses the older, unverifiable format.
    pub signature_ok: Option<bool>,
    /// `payload.operator` == attestation `operator` == address of the key.
    pub operator_bound: Option<bool>,
    /// The attested data hash is the SHA-256 of our envelope bytes.
    pub data_hash_bound: Option<bool>,
    /// The attested transaction is ours.
    pub tx_bound: Option<bool>,
    /// Level 3 with a verified item signature.
    pub level_ok: bool,
    /// The operator address.
    pub operator: Option<String>,
}

impl AttestationCheck {
    /// True only when every check ran and passed.
    pub fn passed(&self) -> bool {
        self.level_ok
            && [
                self.signature_ok,
                self.operator_bound,
                self.data_hash_bound,
                self.tx_bound,
            ]
            .iter()
            .all(|c| *c == Some(true))
    }
}

/// Client of an ar.io Verify deployment.
#[derive(Debug, Clone)]
pub struct VerifyClient {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    retry: RetryPolicy,
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_owned)
}

impl VerifyResult {
    /// Reads a Verify answer as the service wrote it (links as given): also
    /// how a recorded answer is read back offline.
    pub fn from_answer(raw: Value) -> Self {
        VerifyResult {
            verification_id: s(&raw, &["verificationId"]),
            status: s(&raw, &["existence", "status"]).unwrap_or_else(|| "unknown".into()),
            level: raw
                .get("level")
                .and_then(Value::as_u64)
                .and_then(|l| u8::try_from(l).ok()),
            signature_valid: raw
                .get("authenticity")
                .and_then(|a| a.get("signatureValid"))
                .and_then(Value::as_bool),
            data_hash: s(&raw, &["authenticity", "dataHash"]),
            owner_address: s(&raw, &["owner", "address"]),
            report_url: s(&raw, &["links", "dashboard"]),
            pdf_url: s(&raw, &["links", "pdf"]),
            attested_by: s(&raw, &["attestation", "gateway"]),
            attested_at: s(&raw, &["attestation", "attestedAt"]),
            raw,
        }
    }
}

impl VerifyClient {
    /// A client for `config.verify_url`, or `None` when Verify is not configured.
    pub fn from_config(config: &GatewayConfig) -> Option<Self> {
        config.verify_url.as_ref().map(|base| VerifyClient {
            client: http::client(),
            base: base.trim_end_matches('/').to_owned(),
            timeout: config.verify_timeout,
            retry: config.retry.clone(),
        })
    }

    fn absolute(&self, link: Option<String>) -> Option<String> {
        link.map(|l| {
            if l.starts_with("http") {
                l
            } else {
                format!("{}{}", self.base, l)
            }
        })
    }

    /// `GET {base}/health` answers 200.
    pub async fn health(&self) -> bool {
        let url = format!("{}/health", self.base);
        let deadline = Instant::now() + Duration::from_secs(5);
        matches!(http::send(&self.retry, Duration::from_secs(5), deadline, || self.client.get(&url)).await, Ok(r) if r.status().is_success())
    }

    /// `POST {base}/api/v1/verify {"txId"}`.
    pub async fn submit(&self, tx_id: &str) -> Result<VerifyResult, VerifyServiceError> {
        let url = format!("{}/api/v1/verify", self.base);
        let body = json!({ "txId": tx_id });
        let raw = self.json(|c| c.post(&url).json(&body)).await?;
        Ok(self.read_answer(raw))
    }

    async fn json(
        &self,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Value, VerifyServiceError> {
        let deadline = Instant::now() + self.timeout * (self.retry.max_retries + 1);
        let resp = http::send(&self.retry, self.timeout, deadline, || make(&self.client))
            .await
            .map_err(VerifyServiceError::Request)?;
        if !resp.status().is_success() {
            return Err(VerifyServiceError::Status(resp.status().as_u16()));
        }
        let bytes = http::read_capped(resp, 1024 * 1024)
            .await
            .map_err(VerifyServiceError::Request)?;
        serde_json::from_slice(&bytes).map_err(|e| VerifyServiceError::Parse(e.to_string()))
    }

    /// Reads a Verify answer (links made absolute against this service).
    pub fn read_answer(&self, raw: Value) -> VerifyResult {
        let mut r = VerifyResult::from_answer(raw);
        r.report_url = self.absolute(r.report_url);
        r.pdf_url = self.absolute(r.pdf_url);
        r
    }

    /// Submits until the level reaches `target_level` or `timeout` passes;
    /// returns the last answer (the error of the last attempt if none succeeded).
    pub async fn poll(
        &self,
        tx_id: &str,
        target_level: u8,
        timeout: Duration,
        interval: Duration,
    ) -> Result<VerifyResult, VerifyServiceError> {
        let deadline = Instant::now() + timeout;
        let mut last: Result<VerifyResult, VerifyServiceError> =
            Err(VerifyServiceError::NotEnabled);
        loop {
            match self.submit(tx_id).await {
                Ok(r) => {
                    let done = r.level.unwrap_or(0) >= target_level;
                    last = Ok(r);
                    if done {
                        return last;
                    }
                }
                Err(e) => {
                    if last.is_err() {
                        last = Err(e);
                    }
                }
            }
            if Instant::now() + interval >= deadline {
                return last;
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// The operator's public key for a verification (`…/attestation`'s `operatorPublicKey`).
    pub async fn operator_key(
        &self,
        verification_id: &str,
    ) -> Result<Option<RsaJwk>, VerifyServiceError> {
        let url = format!("{}/api/v1/verify/{verification_id}/attestation", self.base);
        match self.json(|c| c.get(&url)).await {
            Ok(v) => Ok(s(&v, &["operatorPublicKey"]).map(|n| RsaJwk {
                n,
                e: "AQAB".into(),
            })),
            Err(VerifyServiceError::Status(404)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Checks an attestation as the plugin never does: the operator's signature
/// (with the kernel primitive), the operator's address, and that the attested
/// bytes and transaction are ours. `owner` is our uploader's normalized address.
pub fn check_attestation(
    result: &VerifyResult,
    key: Option<&RsaJwk>,
    tx_id: &str,
    envelope_bytes: &[u8],
    owner: Option<&str>,
) -> AttestationCheck {
    let level_ok = result.level == Some(3) && result.signature_valid == Some(true);
    let att = result.raw.get("attestation").filter(|a| a.is_object());
    let payload = att.and_then(|a| a.get("payload")).filter(|p| p.is_object());
    let (Some(att), Some(payload)) = (att, payload) else {
        return AttestationCheck {
            signature_ok: None,
            operator_bound: None,
            data_hash_bound: None,
            tx_bound: None,
            level_ok,
            operator: None,
        };
    };
    let operator = s(att, &["operator"]);
    // The pre-2026-07 format (camelCase, sorted-key canon, max salt) is not verifiable here.
    let snake = payload.get("data_hash").is_some();
    let signature_ok = match (
        snake,
        key,
        s(att, &["signature"]).and_then(|sig| b64url_decode(&sig).ok()),
    ) {
        (true, Some(key), Some(sig)) => ario_envelope::canonicalize(payload)
            .ok()
            .map(|msg| verify_rsa_pss_sha256_bytes(&msg, &sig, key).unwrap_or(false)),
        _ => None,
    };
    let operator_bound = key.map(|k| {
        let derived = operator_address(&k.n).ok();
        derived.is_some()
            && derived == operator
            && derived.as_deref() == payload.get("operator").and_then(Value::as_str)
    });
    let data_hash_bound = snake.then(|| {
        s(payload, &["data_hash"])
            .is_some_and(|h| h.eq_ignore_ascii_case(&sha256_hex(envelope_bytes)))
            && result
                .data_hash
                .as_deref()
                .is_none_or(|d| d == b64url_encode(&sha256(envelope_bytes)))
            && owner.is_none_or(|o| s(payload, &["owner_address"]).as_deref() == Some(o))
    });
    let tx_bound = Some(s(payload, &["tx_id"]).as_deref() == Some(tx_id));
    AttestationCheck {
        signature_ok,
        operator_bound,
        data_hash_bound,
        tx_bound,
        level_ok,
        operator,
    }
}
