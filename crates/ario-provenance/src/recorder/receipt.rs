//! What goes into a recorder and what comes back at once.

use serde::Serialize;
use serde_json::{Map, Value};

/// What `record` returns at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionReceipt {
    /// `{stream}-{batch}-{leaf}`.
    pub decision_id: String,
    /// The batch.
    pub batch_seq: u64,
    /// The leaf within it.
    pub leaf_index: u64,
    /// `SHA-256(0x00 ‖ JCS(record))`, hex.
    pub leaf_hash: String,
    /// The plugin's input hash.
    pub input_hash: String,
    /// The plugin's output hash.
    pub output_hash: String,
    /// When it was recorded.
    pub decided_at: String,
    /// The MLflow trace being written for it (`trace_each` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// One decision to record.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    /// The model input.
    pub input: Value,
    /// The model output.
    pub output: Value,
    /// Caller metadata.
    pub metadata: Map<String, Value>,
    /// Inference latency, when measured.
    pub latency_ms: Option<f64>,
}
