//! Optional per-decision MLflow traces of a recorder (`trace_each`): a
//! complete trace with one root span per decision, written in the
//! background so the hot path stays local.

use std::collections::BTreeMap;

use ario_mlflow_client::traces::NewTrace;
use ario_mlflow_client::MlflowClient;
use serde_json::json;

use super::DecisionReceipt;
use crate::checkpoint::BatchModel;
use crate::tags;

/// Where traces go, and the writes still running.
#[derive(Debug)]
pub(crate) struct Tracer {
    pub(crate) client: MlflowClient,
    pub(crate) experiment_id: String,
    pub(crate) model: BatchModel,
    pub(crate) running: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

fn nanos(rfc3339: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

impl Tracer {
    /// The trace of one decision.
    fn trace(&self, r: &DecisionReceipt, latency_ms: Option<f64>) -> NewTrace {
        let end = nanos(&r.decided_at);
        let took = (latency_ms.unwrap_or(0.0).max(0.0) * 1e6) as u64;
        let m = &self.model;
        let tags = BTreeMap::from([
            (tags::DECISION_ID.to_owned(), r.decision_id.clone()),
            (tags::MODEL_NAME.to_owned(), m.model_name.clone()),
            (tags::MODEL_VERSION.to_owned(), m.model_version.clone()),
            (tags::INPUT_HASH.to_owned(), r.input_hash.clone()),
            (tags::OUTPUT_HASH.to_owned(), r.output_hash.clone()),
            (tags::PROOF_STATUS.to_owned(), "batched".to_owned()),
        ]);
        NewTrace {
            otel_trace_id: NewTrace::random_id(),
            experiment_id: self.experiment_id.clone(),
            name: "decision".into(),
            start_unix_nanos: end.saturating_sub(took),
            end_unix_nanos: end,
            inputs: json!({"model_uri": m.model_uri, "input_hash": r.input_hash}),
            outputs: json!({"output_hash": r.output_hash}),
            attributes: BTreeMap::from([
                ("ario.decision_id".to_owned(), json!(r.decision_id)),
                ("ario.leaf_hash".to_owned(), json!(r.leaf_hash)),
            ]),
            tags,
        }
    }

    /// Writes the traces of `receipts` in the background and names each
    /// one in its receipt.
    pub(crate) fn spawn(&self, receipts: &mut [DecisionReceipt], latencies: &[Option<f64>]) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: decision traces not written");
            return;
        };
        let mut traces = Vec::with_capacity(receipts.len());
        for (r, l) in receipts.iter_mut().zip(latencies) {
            let t = self.trace(r, *l);
            r.trace_id = Some(t.trace_id());
            traces.push(t);
        }
        let client = self.client.clone();
        let task = rt.spawn(async move {
            for t in traces {
                if let Err(e) = client.log_trace(&t).await {
                    tracing::warn!(trace = %t.trace_id(), error = %e, "decision trace not written");
                }
            }
        });
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.retain(|t| !t.is_finished());
        running.push(task);
    }

    /// Waits for every trace write started so far.
    pub(crate) async fn settle(&self) {
        let tasks = std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }
}
