//! MLflow 3 webhook deliveries: the signature and timestamp check, and the
//! registry events they carry (`spec/mlflow/serve.md`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Header naming the delivery (a UUID per delivery, reused by MLflow's retries).
pub const DELIVERY_ID_HEADER: &str = "x-mlflow-delivery-id";
/// Header carrying the Unix time (seconds) the delivery was signed.
pub const TIMESTAMP_HEADER: &str = "x-mlflow-timestamp";
/// Header carrying `v1,<base64 HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-mlflow-signature";
/// How far a delivery's timestamp may be from our clock, by default.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The longest body accepted (MLflow's registry payloads are well under 64 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why a delivery was refused (answered 400/401; nothing is queued).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A required header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The timestamp header is not a decimal Unix time.
    #[error("the timestamp header is not a Unix time")]
    BadTimestamp,
    /// The timestamp is outside the tolerance window (a replay or a skewed clock).
    #[error("the delivery's timestamp is {skew_secs} s from this server's clock (tolerance {tolerance_secs} s)")]
    StaleTimestamp {
        /// Distance from our clock, in seconds.
        skew_secs: u64,
        /// The window.
        tolerance_secs: u64,
    },
    /// The signature header has no `v1,` part we can decode.
    #[error("the signature header has no v1 signature")]
    BadSignatureFormat,
    /// No `v1` signature matches the body under our secret.
    #[error("the signature does not match the body under this server's secret")]
    SignatureMismatch,
    /// The delivery id is not a plausible id (empty, too long, or not printable).
    #[error("the delivery id is malformed")]
    BadDeliveryId,
    /// The body is too large.
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The body is not the JSON object MLflow sends.
    #[error("the body is not an MLflow webhook payload: {0}")]
    BadBody(String),
}

impl Refusal {
    /// Short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::MissingHeader(_) => "missing_header",
            Refusal::BadTimestamp | Refusal::StaleTimestamp { .. } => "timestamp",
            Refusal::BadSignatureFormat | Refusal::SignatureMismatch => "signature",
            Refusal::BadDeliveryId => "delivery_id",
            Refusal::TooLarge => "too_large",
            Refusal::BadBody(_) => "body",
        }
    }
}

/// The headers of one delivery, as received.
#[derive(Debug, Clone, Default)]
pub struct DeliveryHeaders<'a> {
    /// `X-MLflow-Delivery-Id`.
    pub delivery_id: Option<&'a str>,
    /// `X-MLflow-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-MLflow-Signature`.
    pub signature: Option<&'a str>,
}

/// The shared secret a webhook was created with.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// A secret from its text (MLflow keys the HMAC with its UTF-8 bytes).
    pub fn new(secret: &str) -> Self {
        WebhookSecret(secret.as_bytes().to_vec())
    }

    fn mac(&self, delivery_id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable_key(),
        };
        mac.update(delivery_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `X-MLflow-Signature` value MLflow would send for these parts.
    pub fn sign(&self, delivery_id: &str, timestamp: &str, body: &[u8]) -> String {
        let tag = self
            .mac(delivery_id, timestamp, body)
            .finalize()
            .into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }
}

#[allow(clippy::panic)]
fn unreachable_key() -> ! {
    panic!("HMAC-SHA256 accepts keys of every length")
}

/// A delivery that passed the checks: its id and the event it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `X-MLflow-Delivery-Id`.
    pub delivery_id: String,
    /// The signed Unix time.
    pub timestamp: u64,
    /// The event.
    pub event: RegistryEvent,
}

/// Checks one delivery: headers present, delivery id sane, timestamp within
/// `tolerance_secs` of `now_secs`, a `v1` signature over
/// `<id>.<timestamp>.<body>` matching `secret` (compared in constant time),
/// and a body that parses. Order matters: nothing about the body is trusted
/// before the signature is.
pub fn check_delivery(
    secret: &WebhookSecret,
    headers: &DeliveryHeaders<'_>,
    body: &[u8],
    now_secs: u64,
    tolerance_secs: u64,
) -> Result<Delivery, Refusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    let id = headers
        .delivery_id
        .ok_or(Refusal::MissingHeader(DELIVERY_ID_HEADER))?;
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::BadDeliveryId);
    }
    let ts_text = headers
        .timestamp
        .ok_or(Refusal::MissingHeader(TIMESTAMP_HEADER))?;
    let ts: u64 = ts_text.parse().map_err(|_| Refusal::BadTimestamp)?;
    let skew = ts.abs_diff(now_secs);
    if skew > tolerance_secs {
        return Err(Refusal::StaleTimestamp {
            skew_secs: skew,
            tolerance_secs,
        });
    }
    let header = headers
        .signature
        .ok_or(Refusal::MissingHeader(SIGNATURE_HEADER))?;
    // Several space-separated signatures may be sent while a secret rotates.
    let candidates: Vec<Vec<u8>> = header
        .split(' ')
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(Refusal::BadSignatureFormat);
    }
    let ok = candidates
        .iter()
        .any(|sig| secret.mac(id, ts_text, body).verify_slice(sig).is_ok());
    if !ok {
        return Err(Refusal::SignatureMismatch);
    }
    let event = RegistryEvent::parse(body)?;
    Ok(Delivery {
        delivery_id: id.to_owned(),
        timestamp: ts,
        event,
    })
}

/// A registry change MLflow reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RegistryEvent {
    /// `model_version.created`.
    VersionCreated {
        /// Registered model name.
        name: String,
        /// Version.
        version: String,
        /// Source URI.
        source: String,
        /// Source run, when MLflow knows it.
        run_id: Option<String>,
    },
    /// `model_version_alias.created` (also sent when an alias moves).
    AliasCreated {
        /// Registered model name.
        name: String,
        /// Alias.
        alias: String,
        /// The version the alias now points at.
        version: String,
    },
    /// `model_version_alias.deleted`.
    AliasDeleted {
        /// Registered model name.
        name: String,
        /// Alias.
        alias: String,
    },
    /// `model_version_tag.set`.
    VersionTagSet {
        /// Registered model name.
        name: String,
        /// Version.
        version: String,
        /// Tag key.
        key: String,
    },
    /// `model_version_tag.deleted`.
    VersionTagDeleted {
        /// Registered model name.
        name: String,
        /// Version.
        version: String,
        /// Tag key.
        key: String,
    },
    /// A finished training run found by `serve`'s scan (MLflow sends no
    /// webhook for runs).
    RunFinished {
        /// Run id.
        run_id: String,
    },
    /// Any other `entity.action` (registered models, prompts, budgets, tests).
    Other {
        /// `entity.action`.
        name: String,
    },
}

#[derive(Deserialize)]
struct Body {
    entity: String,
    action: String,
    #[serde(default)]
    data: Map<String, Value>,
}

fn field(data: &Map<String, Value>, key: &str) -> Result<String, Refusal> {
    match data.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(Refusal::BadBody(format!("data.{key} is not a string"))),
    }
}

impl RegistryEvent {
    /// Parses a webhook body (`{"entity", "action", "timestamp", "data"}`).
    pub fn parse(body: &[u8]) -> Result<RegistryEvent, Refusal> {
        let b: Body = serde_json::from_slice(body).map_err(|e| Refusal::BadBody(e.to_string()))?;
        let d = &b.data;
        Ok(match (b.entity.as_str(), b.action.as_str()) {
            ("model_version", "created") => RegistryEvent::VersionCreated {
                name: field(d, "name")?,
                version: field(d, "version")?,
                source: field(d, "source")?,
                run_id: match d.get("run_id") {
                    Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(Value::String(_)) | Some(Value::Null) | None => None,
                    Some(_) => return Err(Refusal::BadBody("data.run_id is not a string".into())),
                },
            },
            ("model_version_alias", "created") => RegistryEvent::AliasCreated {
                name: field(d, "name")?,
                alias: field(d, "alias")?,
                version: field(d, "version")?,
            },
            ("model_version_alias", "deleted") => RegistryEvent::AliasDeleted {
                name: field(d, "name")?,
                alias: field(d, "alias")?,
            },
            ("model_version_tag", "set") => RegistryEvent::VersionTagSet {
                name: field(d, "name")?,
                version: field(d, "version")?,
                key: field(d, "key")?,
            },
            ("model_version_tag", "deleted") => RegistryEvent::VersionTagDeleted {
                name: field(d, "name")?,
                version: field(d, "version")?,
                key: field(d, "key")?,
            },
            (entity, action) => RegistryEvent::Other {
                name: format!("{entity}.{action}"),
            },
        })
    }

    /// The object whose events are handled one at a time, in order: the
    /// registered model for registry events (a registration before the
    /// alias moves that chain to it), the run for a finished run.
    pub fn serial_key(&self) -> Option<String> {
        match self {
            RegistryEvent::VersionCreated { name, .. }
            | RegistryEvent::AliasCreated { name, .. }
            | RegistryEvent::AliasDeleted { name, .. }
            | RegistryEvent::VersionTagSet { name, .. }
            | RegistryEvent::VersionTagDeleted { name, .. } => Some(format!("model:{name}")),
            RegistryEvent::RunFinished { run_id } => Some(format!("run:{run_id}")),
            RegistryEvent::Other { .. } => None,
        }
    }

    /// `entity.action` as MLflow names it.
    pub fn wire_name(&self) -> String {
        match self {
            RegistryEvent::VersionCreated { .. } => "model_version.created".into(),
            RegistryEvent::AliasCreated { .. } => "model_version_alias.created".into(),
            RegistryEvent::AliasDeleted { .. } => "model_version_alias.deleted".into(),
            RegistryEvent::VersionTagSet { .. } => "model_version_tag.set".into(),
            RegistryEvent::VersionTagDeleted { .. } => "model_version_tag.deleted".into(),
            RegistryEvent::RunFinished { .. } => "run.finished".into(),
            RegistryEvent::Other { name } => name.clone(),
        }
    }
}

/// The registry events `serve` subscribes to, as `(entity, action)` in
/// MLflow's REST spelling.
pub const SUBSCRIBED: &[(&str, &str)] = &[
    ("MODEL_VERSION", "CREATED"),
    ("MODEL_VERSION_ALIAS", "CREATED"),
    ("MODEL_VERSION_ALIAS", "DELETED"),
    ("MODEL_VERSION_TAG", "SET"),
    ("MODEL_VERSION_TAG", "DELETED"),
];

#[cfg(test)]
mod tests;
