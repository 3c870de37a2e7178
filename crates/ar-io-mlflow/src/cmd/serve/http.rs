//! `serve`'s routes: the webhook receiver, the read-only verification API,
//! health, readiness and metrics.

use std::sync::Arc;

use ario_provenance::inbox::{
    check_delivery, DeliveryHeaders, Enqueued, Queue, Refusal, WebhookSecret,
};
use ario_provenance::{ProvenanceError, Verification, Verifier};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Notify;

use super::metrics::{label, Metrics};
use crate::cmd::verify::name_version;

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) queue: Queue,
    pub(crate) secret: Option<WebhookSecret>,
    pub(crate) tolerance_secs: u64,
    pub(crate) verifier: Verifier,
    pub(crate) metrics: Metrics,
    pub(crate) token: Option<String>,
    /// Wakes the workers when an event is queued.
    pub(crate) wake: Notify,
}

type St = State<Arc<Shared>>;

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v1/verify/run/{id}", get(verify_run))
        .route("/v1/verify/model/{name}/{version}", get(verify_model))
        .route("/v1/verify/trace/{id}", get(verify_trace))
        .route("/v1/audit/{name}/{version}", get(audit))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), bearer));
    Router::new()
        .route("/webhooks/mlflow", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(api)
        .with_state(shared)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

/// Read-only routes need `Authorization: Bearer <token>` when a token is set.
async fn bearer(State(s): St, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()));
        if !ok {
            let mut r = error(StatusCode::UNAUTHORIZED, "a bearer token is required");
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `POST /webhooks/mlflow`: checks, queues durably, then answers.
async fn webhook(State(s): St, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(secret) = &s.secret else {
        return error(
            StatusCode::NOT_FOUND,
            "webhooks are off: start serve with --webhook-secret",
        );
    };
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let dh = DeliveryHeaders {
        delivery_id: h(ario_provenance::inbox::webhook::DELIVERY_ID_HEADER),
        timestamp: h(ario_provenance::inbox::webhook::TIMESTAMP_HEADER),
        signature: h(ario_provenance::inbox::webhook::SIGNATURE_HEADER),
    };
    let delivery = match check_delivery(secret, &dh, &body, unix_now(), s.tolerance_secs) {
        Ok(d) => d,
        Err(r) => {
            s.metrics
                .refused
                .get_or_create(&label("reason", r.label()))
                .inc();
            tracing::warn!(reason = %r, "webhook refused");
            let status = match r {
                Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                Refusal::BadBody(_) | Refusal::BadDeliveryId | Refusal::MissingHeader(_) => {
                    StatusCode::BAD_REQUEST
                }
                _ => StatusCode::UNAUTHORIZED,
            };
            return error(status, r);
        }
    };
    let name = delivery.event.wire_name();
    let id = delivery.delivery_id.clone();
    match s.queue.enqueue(&delivery, &body).await {
        Ok(Enqueued::New(row)) => {
            s.metrics
                .received
                .get_or_create(&label("event", name.clone()))
                .inc();
            s.metrics.queued.inc();
            s.wake.notify_waiters();
            tracing::info!(delivery_id = %id, event = %name, row, "queued");
            Json(json!({"queued": true, "delivery_id": id})).into_response()
        }
        Ok(Enqueued::Duplicate) => {
            s.metrics.duplicates.inc();
            Json(json!({"queued": false, "duplicate": true, "delivery_id": id})).into_response()
        }
        Ok(Enqueued::Conflict) => {
            s.metrics
                .refused
                .get_or_create(&label("reason", "conflict"))
                .inc();
            error(
                StatusCode::CONFLICT,
                format!("delivery {id} was received before with other content"),
            )
        }
        // Not stored: MLflow retries on 503.
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn readyz(State(s): St) -> Response {
    let q = s.queue.stats().await;
    let mlflow = s
        .verifier
        .mlflow()
        .call(|api| async move { api.get_health().await })
        .await
        .map(|_| ());
    match (q, mlflow) {
        (Ok(stats), Ok(())) => Json(json!({"ready": true, "queue": stats})).into_response(),
        (q, m) => {
            let why = match (q, m) {
                (Err(e), _) => format!("queue: {e}"),
                (_, Err(e)) => format!("mlflow: {e}"),
                _ => "not ready".into(),
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"ready": false, "reason": why})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(s): St) -> Response {
    if let Ok(st) = s.queue.stats().await {
        s.metrics
            .depth
            .set(i64::try_from(st.queued + st.leased).unwrap_or(i64::MAX));
        s.metrics
            .oldest_age
            .set(i64::try_from(st.oldest_age_secs).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// A verification as the CLI prints it with `--format json`, with its exit
/// code in `X-Ario-Exit-Code`; an error as the CLI's exit code says.
fn verification(r: Result<Verification, ario_mlflow_client::MlflowError>) -> Response {
    match r.map_err(ProvenanceError::from) {
        Ok(v) => {
            let code = v.status.exit_code();
            let mut resp = Json(&v).into_response();
            resp.headers_mut()
                .insert("x-ario-exit-code", HeaderValue::from(u16::from(code)));
            resp
        }
        Err(e) => failure(&e),
    }
}

fn failure(e: &ProvenanceError) -> Response {
    let code = crate::exit::code(Some(e.kind()));
    let status = match code {
        crate::exit::UNDETERMINED => StatusCode::SERVICE_UNAVAILABLE,
        crate::exit::FAILED => StatusCode::UNPROCESSABLE_ENTITY,
        _ if matches!(e, ProvenanceError::Mlflow(m) if m.is_not_found()) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut resp = error(status, e);
    resp.headers_mut()
        .insert("x-ario-exit-code", HeaderValue::from(u16::from(code)));
    resp
}

async fn verify_run(State(s): St, Path(id): Path<String>) -> Response {
    verification(s.verifier.verify_run(&id, false).await)
}

async fn verify_model(State(s): St, Path((name, version)): Path<(String, String)>) -> Response {
    verification(s.verifier.verify_model(&name, &version, false).await)
}

async fn verify_trace(State(s): St, Path(id): Path<String>) -> Response {
    verification(s.verifier.verify_trace(&id, false).await)
}

async fn audit(
    State(s): St,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (name, version) = name_version(&format!("{name}/{version}"));
    let audit = match s.verifier.audit(&name, &version, Some(20)).await {
        Ok(a) => a,
        Err(e) => return failure(&e),
    };
    let code = audit.exit_code();
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let mut resp = if html {
        match ario_provenance::report::audit_html(&audit, s.verifier.gateway()) {
            Ok(page) => {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
            }
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    } else {
        Json(&audit).into_response()
    };
    resp.headers_mut()
        .insert("x-ario-exit-code", HeaderValue::from(u16::from(code)));
    resp
}
