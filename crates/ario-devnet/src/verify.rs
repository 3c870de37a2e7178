//! The ar.io Verify API and an agent verify-status gate, as the devnet serves them.

use std::sync::Arc;

use ario_envelope::encoding::{b64url_encode, sha256, sha256_hex};
use ario_gateway::fetch::is_tx_id;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::{lock, DevnetState};

pub(super) async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "gateway": true}))
}

fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // civil-from-days (Howard Hinnant), good for 1970..
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

pub(super) async fn submit(
    State(s): State<Arc<DevnetState>>,
    body: Option<Json<Value>>,
) -> Response {
    let tx = body
        .as_ref()
        .and_then(|b| b.get("txId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(tx) = tx else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "txId is required"})),
        )
            .into_response();
    };
    if !is_tx_id(&tx) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "Invalid transaction ID format"})),
        )
            .into_response();
    }
    let vid = format!(
        "vrf-{}",
        &sha256_hex(format!("{tx}{}", lock(&s.verifications).len()).as_bytes())[..16]
    );
    let result = match s.store.get(&tx) {
        None => json!({
            "verificationId": vid, "timestamp": now_rfc3339(), "txId": tx, "level": 1,
            "existence": {"status": "not_found", "blockHeight": null, "blockTimestamp": null, "blockId": null},
            "authenticity": {"status": "unverified", "signatureValid": null, "signatureSkipReason": "not found"},
            "owner": null, "metadata": null, "bundle": null, "gatewayAssessment": null, "attestation": null,
            "links": {"dashboard": format!("/report/{vid}"), "pdf": format!("/api/v1/verify/{vid}/pdf"), "rawData": format!("{}/{tx}", s.base_url)},
        }),
        Some(item) => {
            let cap = s.faults().verify_level_cap.unwrap_or(3).clamp(1, 3);
            let level = 3u8.min(cap);
            let data = &item.item.data;
            let attested_at = now_rfc3339();
            let block_ts = item.timestamp / 1000;
            let payload = json!({
                "attestation_version": "ario.evidence.attestation/v1", "attested_at": attested_at,
                "block_height": item.height, "block_timestamp": block_ts, "data_hash": sha256_hex(data),
                "data_size": data.len(), "gateway": s.base_url, "level": level, "operator": s.operator_address(),
                "owner_address": item.owner_address, "signature_verified": level == 3, "tx_id": tx,
            });
            let attestation = match sign_attestation(&s, &payload) {
                Ok((sig, hash)) => json!({
                    "operator": s.operator_address(), "gateway": s.base_url, "signature": sig, "payloadHash": hash,
                    "payload": payload, "attestedAt": attested_at,
                }),
                Err(e) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": e})))
                        .into_response()
                }
            };
            json!({
                "verificationId": vid, "timestamp": attested_at, "txId": tx, "level": level,
                "existence": {"status": "confirmed", "blockHeight": item.height, "blockTimestamp": block_ts, "blockId": format!("devnet-block-{}", item.height)},
                "authenticity": {"status": if level == 3 {"signature_verified"} else {"hash_verified"}, "signatureValid": level == 3,
                                 "signatureSkipReason": null, "dataHash": b64url_encode(&sha256(data)),
                                 "gatewayHash": b64url_encode(&sha256(data)), "hashMatch": true},
                "owner": {"address": item.owner_address, "publicKey": b64url_encode(&item.item.owner), "addressVerified": true},
                "metadata": {"dataSize": data.len(), "contentType": item.content_type(),
                             "tags": item.item.tags.iter().map(|t| json!({"name": t.name, "value": t.value})).collect::<Vec<_>>()},
                "bundle": {"isBundled": true, "rootTransactionId": format!("devnet-bundle-{}", item.height)},
                "gatewayAssessment": {"verified": true, "stable": true, "trusted": true, "hops": 0},
                "attestation": attestation,
                "links": {"dashboard": format!("/report/{vid}"), "pdf": format!("/api/v1/verify/{vid}/pdf"), "rawData": format!("{}/{tx}", s.base_url)},
            })
        }
    };
    lock(&s.verifications).insert(vid, result.clone());
    Json(result).into_response()
}

fn sign_attestation(s: &DevnetState, payload: &Value) -> Result<(String, String), String> {
    let bytes = ario_envelope::canonicalize(payload).map_err(|e| e.to_string())?;
    let key = BlindedSigningKey::<Sha256>::new_with_salt_len(s.operator_key.clone(), 32);
    let sig = key
        .try_sign_with_rng(&mut rand_core::OsRng, &bytes)
        .map_err(|e| e.to_string())?;
    Ok((b64url_encode(&sig.to_vec()), b64url_encode(&sha256(&bytes))))
}

pub(super) async fn get_result(
    State(s): State<Arc<DevnetState>>,
    Path(vid): Path<String>,
) -> Response {
    match lock(&s.verifications).get(&vid) {
        Some(v) => Json(v.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Verification not found"})),
        )
            .into_response(),
    }
}

pub(super) async fn attestation(
    State(s): State<Arc<DevnetState>>,
    Path(vid): Path<String>,
) -> Response {
    let found = lock(&s.verifications)
        .get(&vid)
        .and_then(|v| v.get("attestation").cloned())
        .filter(|a| !a.is_null());
    match found {
        Some(mut a) => {
            a["operatorPublicKey"] = json!(b64url_encode(&s.operator_key.n().to_bytes_be()));
            Json(a).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "No attestation"})),
        )
            .into_response(),
    }
}

pub(super) async fn verify_status(
    State(s): State<Arc<DevnetState>>,
    Path(asset): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((secret, assets)) = &s.verify_status else {
        return (StatusCode::NOT_FOUND, "verify-status not configured").into_response();
    };
    let given = headers
        .get("x-ario-management-secret")
        .and_then(|v| v.to_str().ok());
    if given != Some(secret.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized"})),
        )
            .into_response();
    }
    match assets.get(&asset) {
        Some(status) => Json(status.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown asset"})),
        )
            .into_response(),
    }
}
