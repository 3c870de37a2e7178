//! Reading anchored envelopes back from an ordered list of gateways.

use std::fmt;

use ario_envelope::encoding::{b64url_encode, sha256};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::Instant;

use crate::config::GatewayConfig;
use ario_http::{self as http, RequestFailure};

/// True for a well-formed Arweave / ANS-104 id (43 base64url characters).
pub fn is_tx_id(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why one gateway did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatewayCause {
    /// A non-retryable HTTP status (404, 451, other 4xx).
    Status(u16),
    /// Retries, deadline, transport or size cap.
    Request(RequestFailure),
    /// The body's SHA-256 differs from the gateway's own `X-AR-IO-Digest`.
    DigestMismatch,
    /// The body is not JSON.
    NotJson,
}

impl fmt::Display for GatewayCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatewayCause::Status(s) => write!(f, "HTTP {s}"),
            GatewayCause::Request(r) => write!(f, "{r}"),
            GatewayCause::DigestMismatch => {
                f.write_str("body does not match the gateway's X-AR-IO-Digest")
            }
            GatewayCause::NotJson => f.write_str("body is not JSON"),
        }
    }
}

/// Why no gateway delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The id is not 43 base64url characters.
    #[error("not a transaction id: {0:?}")]
    InvalidTxId(String),
    /// No gateway is configured.
    #[error("no fetch gateways configured")]
    NoGateways,
    /// Every gateway failed; each cause is listed in order.
    #[error("fetch of {tx_id} failed across {} gateway(s): {}", causes.len(), causes.iter().map(|(g, c)| format!("{g}: {c}")).collect::<Vec<_>>().join(" | "))]
    AllFailed {
        /// The id asked for.
        tx_id: String,
        /// `(gateway, cause)` per gateway, in the order tried.
        causes: Vec<(String, GatewayCause)>,
    },
}

impl FetchError {
    /// True when every gateway was unreachable or unavailable (as opposed to
    /// answering "not found" or serving bad bytes): the caller's exit code 3.
    pub fn is_unavailable(&self) -> bool {
        match self {
            FetchError::AllFailed { causes, .. } => causes
                .iter()
                .all(|(_, c)| matches!(c, GatewayCause::Request(_))),
            FetchError::NoGateways => true,
            FetchError::InvalidTxId(_) => false,
        }
    }
}

/// An envelope read from a gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// The raw bytes served.
    pub bytes: Vec<u8>,
    /// The gateway that served them.
    pub gateway: String,
}

impl Fetched {
    /// The bytes as JSON (strict reader).
    pub fn json(&self) -> Result<Value, ario_envelope::json::JsonError> {
        ario_envelope::json::parse(&self.bytes)
    }
}

/// Reads data by id from the configured gateways, in order.
#[derive(Debug, Clone)]
pub struct GatewayReader {
    client: reqwest::Client,
    config: GatewayConfig,
}

impl GatewayReader {
    /// A reader over `config.gateways`.
    pub fn new(config: GatewayConfig) -> Self {
        GatewayReader {
            client: http::client(),
            config,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// The HTTP client.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// `GET /raw/<tx_id>` from each gateway until one serves JSON bytes whose
    /// digest (when the gateway states one) matches.
    pub async fn fetch_envelope(&self, tx_id: &str) -> Result<Fetched, FetchError> {
        if !is_tx_id(tx_id) {
            return Err(FetchError::InvalidTxId(tx_id.to_owned()));
        }
        if self.config.gateways.is_empty() {
            return Err(FetchError::NoGateways);
        }
        let deadline = Instant::now() + self.config.fetch_deadline;
        let mut causes = Vec::new();
        for gw in &self.config.gateways {
            match self.fetch_one(gw, tx_id, deadline).await {
                Ok(bytes) => {
                    return Ok(Fetched {
                        bytes,
                        gateway: gw.clone(),
                    })
                }
                Err(cause) => {
                    tracing::debug!(gateway = %gw, %cause, "gateway did not deliver");
                    causes.push((gw.clone(), cause));
                }
            }
        }
        Err(FetchError::AllFailed {
            tx_id: tx_id.to_owned(),
            causes,
        })
    }

    async fn fetch_one(
        &self,
        gateway: &str,
        tx_id: &str,
        deadline: Instant,
    ) -> Result<Vec<u8>, GatewayCause> {
        let url = format!("{}/raw/{tx_id}", GatewayConfig::gateway_base(gateway));
        let resp = http::send(
            &self.config.retry,
            self.config.fetch_timeout,
            deadline,
            || self.client.get(&url),
        )
        .await
        .map_err(GatewayCause::Request)?;
        if resp.status() != StatusCode::OK {
            return Err(GatewayCause::Status(resp.status().as_u16()));
        }
        let digest = resp
            .headers()
            .get("x-ar-io-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = http::read_capped(resp, self.config.max_envelope_bytes)
            .await
            .map_err(GatewayCause::Request)?;
        if digest.is_some_and(|d| d != b64url_encode(&sha256(&bytes))) {
            return Err(GatewayCause::DigestMismatch);
        }
        if ario_envelope::json::parse(&bytes).is_err() {
            return Err(GatewayCause::NotJson);
        }
        Ok(bytes)
    }
}
