//! `recorder`: a sidecar that opens a verified model once and records
//! decisions for services not written in Rust, over HTTP on loopback.
//!
//! - `POST /v1/decisions` — one decision `{input, output, metadata?, latency_ms?}`
//!   or an array of them; answers the receipt(s) once journaled.
//! - `GET /v1/decisions/{id}/proof` — the inclusion proof once the batch is
//!   checkpointed (200), `pending` before (202), `unknown` (404).
//! - `GET /v1/health` — the stream id and counters.
//!
//! SIGINT or SIGTERM stops accepting, closes the open batch and waits for
//! its checkpoint.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use ario_provenance::checkpoint::DecisionId;
use ario_provenance::{
    DecisionInput, DecisionRecorder, OpenOptions, ProofState, RecorderOptions, VerifiedModel,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::common::{anchorer, block_on, shutdown_signal};

/// `recorder`
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Model URI: `models:/name/version`, `models:/name@alias`, …
    #[arg(long)]
    model: String,
    /// Address to listen on (loopback by default; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// Decisions per checkpoint.
    #[arg(long, default_value_t = ario_provenance::recorder::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// Longest time a batch stays open, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    max_batch_age_ms: u64,
    /// Journal directory (default: under the home directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Refuse a model with no anchored artifact hash to check.
    #[arg(long)]
    require_verified: bool,
    /// Also write one MLflow trace per decision.
    #[arg(long)]
    trace_each: bool,
    /// Longest wait for the last checkpoint at shutdown, in seconds.
    #[arg(long, default_value_t = 60)]
    shutdown_wait: u64,
}

/// One decision as posted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Posted {
    input: Value,
    output: Value,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    latency_ms: Option<f64>,
}

impl From<Posted> for DecisionInput {
    fn from(p: Posted) -> Self {
        DecisionInput {
            input: p.input,
            output: p.output,
            metadata: p.metadata,
            latency_ms: p.latency_ms,
        }
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

async fn post_decisions(State(r): State<DecisionRecorder>, body: axum::body::Bytes) -> Response {
    let value = match ario_envelope::json::parse(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")),
    };
    let single = !value.is_array();
    let items = match value {
        Value::Array(a) => a,
        v => vec![v],
    };
    let mut inputs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<Posted>(item) {
            Ok(p) => inputs.push(DecisionInput::from(p)),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("decision {i}: {e}")),
        }
    }
    match r.record_many(&inputs) {
        Ok(mut receipts) if single => match receipts.pop() {
            Some(one) => Json(one).into_response(),
            None => error(StatusCode::INTERNAL_SERVER_ERROR, "no receipt"),
        },
        Ok(receipts) => Json(receipts).into_response(),
        Err(
            e @ (ario_provenance::RecorderError::Canon(_)
            | ario_provenance::RecorderError::TooDeep { .. }),
        ) => error(StatusCode::BAD_REQUEST, e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn get_proof(State(r): State<DecisionRecorder>, Path(id): Path<String>) -> Response {
    let id: DecisionId = match id.parse() {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match r.proof(&id) {
        Ok(s @ ProofState::Ready(_)) => Json(s).into_response(),
        Ok(s @ ProofState::Pending) => (StatusCode::ACCEPTED, Json(s)).into_response(),
        Ok(s @ ProofState::Unknown) => (StatusCode::NOT_FOUND, Json(s)).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn health(State(r): State<DecisionRecorder>) -> Response {
    Json(json!({"stream_id": r.stream_id(), "stats": r.stats()})).into_response()
}

pub(crate) fn run(a: &Args) -> anyhow::Result<u8> {
    block_on(async {
        let prov = anchorer()?;
        let open = OpenOptions {
            require_verified: a.require_verified,
            ..Default::default()
        };
        let model = VerifiedModel::open(&prov, &a.model, open).await?;
        let opts = RecorderOptions {
            batch_size: a.batch_size.max(1),
            max_batch_age: Duration::from_millis(a.max_batch_age_ms.max(1)),
            sync_interval: Duration::from_millis(a.max_batch_age_ms.max(1)),
            dir: a.dir.clone(),
            trace_each: a.trace_each,
        };
        let recorder = DecisionRecorder::open(&model, opts)
            .await
            .context("opening the decision recorder")?;
        let app = Router::new()
            .route("/v1/decisions", post(post_decisions))
            .route("/v1/decisions/{id}/proof", get(get_proof))
            .route("/v1/health", get(health))
            .with_state(recorder.clone());
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("binding {}", a.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let stop = shutdown_signal();
        println!(
            "recording decisions of {}/v{} on http://{addr} (stream {})",
            model.name,
            model.version,
            recorder.stream_id()
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .context("serving")?;
        tokio::time::timeout(Duration::from_secs(a.shutdown_wait), recorder.close())
            .await
            .context("the last checkpoint did not finish in time; the journal keeps it for the next start")?
            .context("closing the recorder")?;
        let s = recorder.stats();
        println!(
            "closed: {} checkpoint(s) of {} decision(s), {} uploaded",
            s.checkpoints, s.decisions, s.uploads
        );
        Ok(crate::exit::OK)
    })
}
