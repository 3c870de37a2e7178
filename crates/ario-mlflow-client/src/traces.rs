//! Complete MLflow 3 traces: the trace info (`StartTraceV3`) and its root
//! span, exported as OTLP/JSON to the server's `/v1/traces`, so MLflow's
//! own tools can open the trace (`mlflow.get_trace`) and list it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::generated::types;
use crate::{MlflowClient, MlflowError};

/// A trace of one operation with a single root span.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrace {
    /// 32 lowercase hex digits: the OTLP trace id (the MLflow id is `tr-` + it).
    pub otel_trace_id: String,
    /// The experiment it belongs to.
    pub experiment_id: String,
    /// The root span's name (also the trace name).
    pub name: String,
    /// Span start, Unix nanoseconds.
    pub start_unix_nanos: u64,
    /// Span end, Unix nanoseconds.
    pub end_unix_nanos: u64,
    /// The span's inputs (shown as the request preview).
    pub inputs: Value,
    /// The span's outputs (shown as the response preview).
    pub outputs: Value,
    /// More span attributes (JSON values).
    pub attributes: BTreeMap<String, Value>,
    /// Trace tags.
    pub tags: BTreeMap<String, String>,
}

impl NewTrace {
    /// A fresh random trace id (32 lowercase hex digits).
    pub fn random_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
    /// The MLflow trace id: `tr-<hex>`.
    pub fn trace_id(&self) -> String {
        format!("tr-{}", self.otel_trace_id)
    }
    fn request_time(&self) -> String {
        let secs = i64::try_from(self.start_unix_nanos / 1_000_000_000).unwrap_or(0);
        let nanos = u32::try_from(self.start_unix_nanos % 1_000_000_000).unwrap_or(0);
        chrono::DateTime::from_timestamp(secs, nanos)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
    fn duration(&self) -> String {
        let ns = self.end_unix_nanos.saturating_sub(self.start_unix_nanos);
        format!("{}.{:09}s", ns / 1_000_000_000, ns % 1_000_000_000)
    }

    /// The `StartTraceV3` body.
    pub fn info_body(&self) -> Value {
        json!({"trace": {"trace_info": {
            "trace_id": self.trace_id(),
            "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": self.experiment_id}},
            "request_time": self.request_time(),
            "execution_duration": self.duration(),
            "state": "OK",
            "trace_metadata": {"mlflow.trace_schema.version": "3"},
            "tags": self.tags,
        }}})
    }

    /// The OTLP/JSON export of the root span. Attribute values are
    /// JSON-encoded text, as MLflow stores them.
    pub fn spans_body(&self) -> Value {
        let text = |v: &Value| json!({"stringValue": v.to_string()});
        let mut attributes = vec![
            json!({"key": "mlflow.spanType", "value": text(&json!("CHAIN"))}),
            json!({"key": "mlflow.spanInputs", "value": text(&self.inputs)}),
            json!({"key": "mlflow.spanOutputs", "value": text(&self.outputs)}),
        ];
        for (k, v) in &self.attributes {
            attributes.push(json!({"key": k, "value": text(v)}));
        }
        let span_id = &uuid::Uuid::new_v4().simple().to_string()[..16];
        json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ar-io-mlflow"}}]},
            "scopeSpans": [{"scope": {"name": "ar-io-mlflow"}, "spans": [{
                "traceId": self.otel_trace_id,
                "spanId": span_id,
                "name": self.name,
                "kind": 1,
                "startTimeUnixNano": self.start_unix_nanos.to_string(),
                "endTimeUnixNano": self.end_unix_nanos.to_string(),
                "attributes": attributes,
                "status": {"code": 1},
            }]}],
        }]})
    }
}

impl MlflowClient {
    /// Writes a complete trace: its info and tags, then its root span.
    /// `Ok(false)` when the server keeps no v3 traces (MLflow 2.x).
    pub async fn log_trace(&self, t: &NewTrace) -> Result<bool, MlflowError> {
        let body: types::StartTraceV3Body = serde_json::from_value(t.info_body())
            .map_err(|e| MlflowError::Decode(format!("trace info: {e}")))?;
        let url = self.url("/v1/traces");
        let spans = serde_json::to_vec(&t.spans_body()).unwrap_or_default();
        let start = self.call(|api| {
            let b = body.clone();
            async move { api.start_trace_v3(&b).await }
        });
        // MLflow accepts the two in either order: send them together.
        let export = self.send(|| {
            self.http
                .post(&url)
                .header("Content-Type", "application/json")
                .header("x-mlflow-experiment-id", &t.experiment_id)
                .body(spans.clone())
        });
        let (started, exported) = futures_util::future::join(start, export).await;
        match started {
            Ok(_) => {}
            // A 2.x server has neither endpoint: no trace.
            Err(MlflowError::Http { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        exported?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_times_and_attributes_are_what_mlflow_reads() {
        let t = NewTrace {
            otel_trace_id: "5ebdb9b76251072e05a0162c191ad680".into(),
            experiment_id: "1".into(),
            name: "decision".into(),
            start_unix_nanos: 1_796_197_571_464_946_724,
            end_unix_nanos: 1_796_197_571_714_946_724,
            inputs: json!({"x": 1}),
            outputs: json!([0]),
            attributes: BTreeMap::from([("ario.decision_id".to_owned(), json!("d"))]),
            tags: BTreeMap::new(),
        };
        let info = t.info_body();
        assert_eq!(
            info["trace"]["trace_info"]["trace_id"],
            "tr-5ebdb9b76251072e05a0162c191ad680"
        );
        assert_eq!(
            info["trace"]["trace_info"]["execution_duration"],
            "0.250000000s"
        );
        assert_eq!(
            info["trace"]["trace_info"]["request_time"],
            "2026-12-02T07:46:11.464Z"
        );
        let span = &t.spans_body()["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "5ebdb9b76251072e05a0162c191ad680");
        assert_eq!(span["spanId"].as_str().map(str::len), Some(16));
        assert_eq!(span["attributes"][1]["value"]["stringValue"], r#"{"x":1}"#);
        assert_eq!(span["attributes"][3]["key"], "ario.decision_id");
        assert_eq!(span["attributes"][3]["value"]["stringValue"], r#""d""#);
    }
}
