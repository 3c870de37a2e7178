//! Turbo upload, gateway read and control-plane routes.

use std::sync::Arc;

use ario_envelope::encoding::{b64url_encode, sha256};
use ario_gateway::ans104::DataItem;
use ario_gateway::fetch::is_tx_id;
use ario_gateway::turbo::Receipt;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::json;
use sha2::Sha256;

use crate::{faults, graphql, verify, DevnetState, Faults};

pub(super) fn router(state: Arc<DevnetState>) -> Router {
    Router::new()
        .route("/health", get(|| async { "OK" }))
        // Turbo upload service
        .route("/turbo", get(info))
        .route("/turbo/", get(info))
        .route("/turbo/info", get(info))
        .route("/turbo/health", get(|| async { "OK" }))
        .route("/turbo/tx", post(upload))
        .route("/turbo/tx/{token}", post(upload_token))
        .route("/turbo/v1/tx", post(upload))
        .route("/turbo/v1/tx/{token}", post(upload_token))
        .route("/turbo/tx/{id}/status", get(status))
        .route("/turbo/v1/tx/{id}/status", get(status))
        // Gateway
        .route("/raw/{id}", get(raw).head(raw))
        .route("/{id}", get(raw).head(raw))
        .route("/tx/{id}/status", get(l1_status))
        .route("/graphql", post(graphql::handle))
        // Verify API (as mounted under /verify by ar.io operators)
        .route("/verify/health", get(verify::health))
        .route("/verify/api/v1/verify", post(verify::submit))
        .route("/verify/api/v1/verify/{vid}", get(verify::get_result))
        .route(
            "/verify/api/v1/verify/{vid}/attestation",
            get(verify::attestation),
        )
        // Agent verify-status gate
        .route("/v1/verify-status/{asset}", get(verify::verify_status))
        // Control plane
        .route("/__devnet/faults", get(get_faults).post(set_faults))
        .route("/__devnet/requests", get(requests))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .with_state(state)
}

async fn info(State(s): State<Arc<DevnetState>>) -> Json<serde_json::Value> {
    Json(json!({
        "version": "0.2.0",
        "addresses": {"arweave": s.receipt_address()},
        "gateway": s.base_url,
        "freeUploadLimitBytes": s.free_limit_bytes.unwrap_or(s.max_item_bytes),
        "devnet": true,
    }))
}

async fn upload_token(
    State(s): State<Arc<DevnetState>>,
    Path(_token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    accept(&s, &headers, &body)
}

async fn upload(State(s): State<Arc<DevnetState>>, headers: HeaderMap, body: Bytes) -> Response {
    accept(&s, &headers, &body)
}

fn text(status: StatusCode, msg: &str) -> Response {
    (status, msg.to_owned()).into_response()
}

fn accept(s: &DevnetState, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        if ct.as_bytes() != b"application/octet-stream" {
            return text(StatusCode::BAD_REQUEST, "Invalid Content Type");
        }
    }
    if body.len() > s.max_item_bytes {
        return text(StatusCode::BAD_REQUEST, "Data item is too large");
    }
    if s.free_limit_bytes.is_some_and(|limit| body.len() > limit) {
        return text(StatusCode::PAYMENT_REQUIRED, "Insufficient balance");
    }
    let Ok(item) = DataItem::parse(body) else {
        return text(StatusCode::BAD_REQUEST, "Data item parsing error!");
    };
    if !item.verify().unwrap_or(false) {
        return text(StatusCode::BAD_REQUEST, "Invalid Data Item!");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    let id = item.id();
    let owner = b64url_encode(&sha256(&item.owner));
    match s.store.insert(item, now) {
        Ok(Some(stored)) => match sign_receipt(s, &id, &owner, now, stored.height) {
            Ok(r) => (StatusCode::OK, Json(r)).into_response(),
            Err(e) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Unable to sign receipt: {e}"),
            ),
        },
        Ok(None) => text(
            StatusCode::ACCEPTED,
            &format!("Data item with ID {id} has already been uploaded to this service!"),
        ),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("No durable storage available: {e}"),
        ),
    }
}

fn sign_receipt(
    s: &DevnetState,
    id: &str,
    owner: &str,
    timestamp: u64,
    height: u64,
) -> Result<Receipt, String> {
    let mut r = Receipt {
        id: id.to_owned(),
        owner: owner.to_owned(),
        version: "0.2.0".into(),
        timestamp,
        deadline_height: height + 200,
        data_caches: vec![s.base_url.clone()],
        fast_finality_indexes: vec![s.base_url.clone()],
        winc: "0".into(),
        public: b64url_encode(&s.receipt_key.n().to_bytes_be()),
        signature: String::new(),
    };
    let key = BlindedSigningKey::<Sha256>::new_with_salt_len(s.receipt_key.clone(), 0);
    let sig = key
        .try_sign_with_rng(&mut rand_core::OsRng, &r.signing_message())
        .map_err(|e| e.to_string())?;
    r.signature = b64url_encode(&sig.to_vec());
    Ok(r)
}

async fn status(State(s): State<Arc<DevnetState>>, Path(id): Path<String>) -> Response {
    match s.store.get(&id) {
        Some(item) => Json(json!({
            "status": "FINALIZED", "info": "permanent", "bundleId": format!("devnet-bundle-{}", item.height),
            "winc": "0", "payloadContentType": item.content_type(), "rawContentLength": item.item.to_bytes().len(),
        }))
        .into_response(),
        None => text(StatusCode::NOT_FOUND, "TX doesn't exist"),
    }
}

async fn raw(
    State(s): State<Arc<DevnetState>>,
    method: Method,
    Path(id): Path<String>,
) -> Response {
    if !is_tx_id(&id) {
        return text(StatusCode::BAD_REQUEST, &format!("Invalid ID: {id}"));
    }
    let Some(item) = s.store.get(&id) else {
        return text(StatusCode::NOT_FOUND, "Not found");
    };
    let data = item.item.data.clone();
    let digest = b64url_encode(&sha256(&data));
    let std_digest = ario_envelope::encoding::b64_encode(&sha256(&data));
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, item.content_type())
        .header(header::CONTENT_LENGTH, data.len())
        .header("x-ar-io-digest", &digest)
        .header("content-digest", format!("sha-256=:{std_digest}:"))
        .header(header::ETAG, format!("\"{digest}\""))
        .header("x-ar-io-verified", "true")
        .header("x-ar-io-stable", "true")
        .header("x-ar-io-trusted", "true")
        .header("x-ar-io-data-id", &id)
        .header(
            "x-ar-io-root-transaction-id",
            format!("devnet-bundle-{}", item.height),
        )
        .header(header::CACHE_CONTROL, "public, max-age=2592000, immutable");
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(data)
    };
    builder.body(body).unwrap_or_default()
}

async fn l1_status(Path(_id): Path<String>) -> Response {
    // Gateways proxy /tx/* to Arweave nodes, which know only L1 transactions:
    // a bundled data item is never found here (ask the bundler instead).
    text(StatusCode::NOT_FOUND, "Not Found")
}

async fn get_faults(State(s): State<Arc<DevnetState>>) -> Json<Faults> {
    Json(s.faults())
}

async fn set_faults(State(s): State<Arc<DevnetState>>, Json(f): Json<Faults>) -> Json<Faults> {
    s.set_faults(f.clone());
    Json(f)
}

async fn requests(State(s): State<Arc<DevnetState>>) -> Json<Vec<crate::RequestRecord>> {
    Json(crate::lock(&s.log).clone())
}
