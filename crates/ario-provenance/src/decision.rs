//! Decisions of a [`VerifiedModel`]: one `prediction` anchor per recorded
//! decision, with an MLflow trace that carries the payload as its second
//! surface.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_mlflow_client::traces::NewTrace;
use ario_mlflow_client::TagTarget;
use serde_json::{json, Value};

use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject, UNKNOWN_RUN};
use crate::model::VerifiedModel;
use crate::payload::{self, PredictionFields};
use crate::pipeline::PreparedEvent;
use crate::tags;
use crate::tasks::{self, AnchorHandle, AnchorStatus};
use crate::writeback::Writeback;

/// Options of one decision.
#[derive(Debug, Clone, Default)]
pub struct DecisionOptions {
    /// Inference latency to record (`latency_ms`).
    pub latency_ms: f64,
    /// Extra payload members.
    pub metadata: BTreeMap<String, Value>,
}

/// A recorded decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The decision id.
    pub decision_id: String,
    /// The payload.
    pub payload: Value,
    /// Its hash.
    pub payload_hash: String,
    /// The MLflow trace written for it.
    pub trace_id: Option<String>,
    /// The background anchor.
    pub handle: AnchorHandle,
}

impl VerifiedModel {
    /// Writes the decision's complete trace (info, tags and a root span with
    /// the model, hashes and latency). `Ok(false)` without an experiment or
    /// on a server without v3 traces.
    async fn write_trace(
        &self,
        otel_id: &str,
        f: &PredictionFields,
        tags_map: BTreeMap<String, String>,
    ) -> Result<bool, ProvenanceError> {
        let Some(exp) = &self.experiment_id else {
            return Ok(false);
        };
        let end = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let took = (f.latency_ms.max(0.0) * 1e6) as u64;
        let t = NewTrace {
            otel_trace_id: otel_id.to_owned(),
            experiment_id: exp.clone(),
            name: "decision".into(),
            start_unix_nanos: end.saturating_sub(took),
            end_unix_nanos: end,
            inputs: json!({"model_uri": f.model_uri, "input_hash": f.input_hash}),
            outputs: json!({"output_hash": f.output_hash}),
            attributes: BTreeMap::from([
                ("ario.decision_id".to_owned(), json!(f.decision_id)),
                ("ario.model_name".to_owned(), json!(f.model_name)),
                ("ario.model_version".to_owned(), json!(f.model_version)),
                ("ario.latency_ms".to_owned(), json!(f.latency_ms)),
            ]),
            tags: tags_map,
        };
        Ok(self.anchorer.mlflow().log_trace(&t).await?)
    }

    /// Records one decision: builds the `prediction` payload with the
    /// plugin's hashing recipes, writes its trace, tags and artifacts, stores
    /// the signed envelope in the outbox and anchors it in the background.
    pub async fn record_decision(
        &self,
        input: &Value,
        output: &Value,
        opts: DecisionOptions,
    ) -> Result<Decision, ProvenanceError> {
        if let Some(g) = self.gate.as_ref().filter(|g| g.recheck_per_decision) {
            g.check("predict", g.max_cache_age).await?;
        }
        let decision_id = uuid::Uuid::new_v4().to_string();
        let otel_id = NewTrace::random_id();
        let trace_id = format!("tr-{otel_id}");
        let mut fields = PredictionFields {
            decision_id: decision_id.clone(),
            model_name: self.name.clone(),
            model_version: self.version.clone(),
            run_id: self.run_id.clone().unwrap_or_else(|| UNKNOWN_RUN.into()),
            model_uri: self.model_uri.clone(),
            input_hash: payload::input_hash(input)?,
            output_hash: payload::output_hash(output)?,
            latency_ms: opts.latency_ms,
            artifact_verified: self.artifact_verified.filter(|v| *v),
            mlflow_trace_id: Some(trace_id.clone()),
        };
        let build = |f: &PredictionFields| -> Result<(Value, Vec<u8>), ProvenanceError> {
            let p = payload::prediction(f, &opts.metadata);
            let b = payload::canonical(&p)?;
            Ok((p, b))
        };
        let (mut p, mut bytes) = build(&fields)?;
        let have_trace = self
            .write_trace(&otel_id, &fields, self.trace_tags(&decision_id, &p, &bytes))
            .await?;
        if !have_trace {
            fields.mlflow_trace_id = None;
            (p, bytes) = build(&fields)?;
        }
        let hash = sha256_hex(&bytes);
        let trace = have_trace.then(|| trace_id.clone());
        let a = &self.anchorer;
        let store_in = self.run_root.clone();
        let staged = a
            .stage(PreparedEvent {
                kind: EventKind::Prediction,
                subject: Subject::Prediction {
                    decision_id: decision_id.clone(),
                    model_run_id: self.run_id.clone(),
                    trace_id: trace.clone(),
                },
                payload_bytes: bytes,
                previous_hash: self.previous_hash.clone(),
                store_in,
                pre_tags: vec![],
                writeback: Writeback::Prediction {
                    decision_id: decision_id.clone(),
                    trace_id: trace.clone(),
                    run_id: self.run_id.clone(),
                },
            })
            .await?;
        let a = a.clone();
        let failed_trace = trace.clone();
        let handle = tasks::spawn(None, async move {
            let status = match a.deliver(staged).await {
                Ok(c) => c.status(),
                Err(e) => AnchorStatus::Failed {
                    error: e.to_string(),
                },
            };
            if let (Some(t), false) = (
                failed_trace,
                matches!(status, AnchorStatus::Anchored { .. }),
            ) {
                let target = TagTarget::Trace(t);
                if let Err(e) = a
                    .mlflow()
                    .set_tag(&target, tags::PROOF_STATUS, "failed")
                    .await
                {
                    tracing::warn!(error = %e, "could not mark the trace's proof as failed");
                }
            }
            status
        });
        Ok(Decision {
            decision_id,
            payload: p,
            payload_hash: hash,
            trace_id: trace,
            handle,
        })
    }

    /// The `ario.*` tags of a decision's trace (the payload is its second surface).
    fn trace_tags(&self, decision_id: &str, p: &Value, bytes: &[u8]) -> BTreeMap<String, String> {
        let mut t = BTreeMap::new();
        t.insert(
            tags::PAYLOAD_JSON.to_owned(),
            String::from_utf8_lossy(bytes).into_owned(),
        );
        t.insert(tags::DECISION_ID.to_owned(), decision_id.to_owned());
        t.insert(tags::MODEL_NAME.to_owned(), self.name.clone());
        t.insert(tags::MODEL_VERSION.to_owned(), self.version.clone());
        for (k, m) in [
            (tags::INPUT_HASH, "input_hash"),
            (tags::OUTPUT_HASH, "output_hash"),
        ] {
            t.insert(k.to_owned(), p[m].as_str().unwrap_or_default().to_owned());
        }
        t.insert(tags::PAYLOAD_HASH.to_owned(), sha256_hex(bytes));
        t.insert(tags::PROOF_STATUS.to_owned(), "anchoring".to_owned());
        if self.artifact_verified == Some(true) {
            t.insert(tags::ARTIFACT_VERIFIED.to_owned(), "true".to_owned());
        }
        t
    }
}
