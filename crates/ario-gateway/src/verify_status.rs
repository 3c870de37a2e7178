//! Client of an agent's verify-status gate (`GET /v1/verify-status/<asset>`).
//!
//! It sends a management secret, so it never follows a redirect (a 3xx is a
//! transport error) and never prints the secret.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;
use zeroize::Zeroizing;

use ario_http as http;

/// Characters left unescaped in the asset id (as Python's `quote(safe="")`).
const ASSET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How the client authenticates.
pub enum Credential {
    /// `X-Ario-Management-Secret` (the agent's loopback management port).
    Secret(Zeroizing<String>),
    /// `Authorization: Bearer` (reserved; no server accepts it today).
    ApiKey(Zeroizing<String>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Secret(_) => "Credential::Secret(***)",
            Credential::ApiKey(_) => "Credential::ApiKey(***)",
        })
    }
}

/// The agent's verdict on an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Verified.
    Verified,
    /// Tampered.
    Tampered,
    /// Missing.
    Missing,
    /// Could not be checked.
    Unavailable,
    /// Anything else.
    Unknown,
}

/// One verify-status answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyStatus {
    /// Asset id.
    pub asset_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Agent.
    pub agent_id: String,
    /// Verdict (unknown strings normalize to `Unknown`).
    pub outcome: Outcome,
    /// When last verified.
    pub last_verified_at: Option<String>,
    /// Freshness bound, seconds.
    pub max_age: i64,
    /// The agent's own staleness judgement (trusted over local clocks).
    pub stale: bool,
    /// Policy hash.
    pub policy_hash: String,
    /// Current anchor transaction.
    pub current_tx_id: Option<String>,
}

/// Why the gate could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyStatusError {
    /// 401.
    #[error("verify-status refused the credential for asset {asset_id:?}")]
    Auth {
        /// Asset asked for.
        asset_id: String,
    },
    /// 404.
    #[error("verify-status does not know asset {asset_id:?}")]
    UnknownAsset {
        /// Asset asked for.
        asset_id: String,
    },
    /// 503 with a licence message.
    #[error("verify-status licence required for asset {asset_id:?}{}", upgrade_url.as_ref().map(|u| format!(" (upgrade: {u})")).unwrap_or_default())]
    License {
        /// Asset asked for.
        asset_id: String,
        /// Where to upgrade.
        upgrade_url: Option<String>,
    },
    /// Transport failure, redirect, other status, or a malformed answer.
    #[error("verify-status request failed for asset {asset_id:?}: {detail}")]
    Transport {
        /// Asset asked for.
        asset_id: String,
        /// What happened (never the secret).
        detail: String,
    },
}

/// The gate client, with an optional per-asset cache.
#[derive(Debug)]
pub struct VerifyStatusClient {
    client: reqwest::Client,
    base: String,
    credential: Credential,
    timeout: Duration,
    cache: Mutex<HashMap<String, (Instant, VerifyStatus)>>,
}

impl VerifyStatusClient {
    /// A client for `base` (e.g. `http://127.0.0.1:9847`).
    pub fn new(base: &str, credential: Credential) -> Self {
        VerifyStatusClient {
            client: http::client_no_redirects(),
            base: base.trim_end_matches('/').to_owned(),
            credential,
            timeout: Duration::from_secs(5),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Changes the request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The status of `asset_id`; a cached answer younger than `max_cache_age` is reused.
    pub async fn get(
        &self,
        asset_id: &str,
        max_cache_age: Option<Duration>,
    ) -> Result<VerifyStatus, VerifyStatusError> {
        if let Some(age) = max_cache_age {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, status)) = cache.get(asset_id) {
                if at.elapsed() < age {
                    return Ok(status.clone());
                }
            }
        }
        let transport = |detail: String| VerifyStatusError::Transport {
            asset_id: asset_id.to_owned(),
            detail,
        };
        let url = format!(
            "{}/v1/verify-status/{}",
            self.base,
            utf8_percent_encode(asset_id, ASSET)
        );
        let mut req = self.client.get(&url).timeout(self.timeout);
        req = match &self.credential {
            Credential::Secret(s) => req.header("X-Ario-Management-Secret", s.as_str()),
            Credential::ApiKey(k) => req.bearer_auth(k.as_str()),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| transport(http::describe(&e)))?;
        let status = resp.status().as_u16();
        let bytes = http::read_capped(resp, 256 * 1024)
            .await
            .map_err(|e| transport(e.to_string()))?;
        match status {
            200 => {}
            401 => {
                return Err(VerifyStatusError::Auth {
                    asset_id: asset_id.to_owned(),
                })
            }
            404 => {
                return Err(VerifyStatusError::UnknownAsset {
                    asset_id: asset_id.to_owned(),
                })
            }
            503 => {
                let upgrade_url = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
                    v.get("upgrade_url")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
                return Err(VerifyStatusError::License {
                    asset_id: asset_id.to_owned(),
                    upgrade_url,
                });
            }
            other => {
                let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
                return Err(transport(format!("HTTP {other}: {text}")));
            }
        }
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|_| transport("non-JSON 200 body".into()))?;
        let parsed =
            parse_status(&v).ok_or_else(|| transport("malformed verify-status response".into()))?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(asset_id.to_owned(), (Instant::now(), parsed.clone()));
        Ok(parsed)
    }
}

fn parse_status(v: &Value) -> Option<VerifyStatus> {
    let str_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let nullable = |k: &str| match v.get(k) {
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        _ => None,
    };
    let outcome = match v.get("outcome").and_then(Value::as_str)? {
        "verified" => Outcome::Verified,
        "tampered" => Outcome::Tampered,
        "missing" => Outcome::Missing,
        "unavailable" => Outcome::Unavailable,
        other => {
            tracing::warn!(
                outcome = other,
                "unknown verify-status outcome; treating as unknown"
            );
            Outcome::Unknown
        }
    };
    Some(VerifyStatus {
        asset_id: str_of("asset_id")?,
        tenant_id: str_of("tenant_id")?,
        agent_id: str_of("agent_id")?,
        outcome,
        last_verified_at: nullable("last_verified_at")?,
        max_age: v.get("max_age").and_then(Value::as_i64)?,
        stale: v.get("stale").and_then(Value::as_bool)?,
        policy_hash: str_of("policy_hash")?,
        current_tx_id: nullable("current_tx_id")?,
    })
}
