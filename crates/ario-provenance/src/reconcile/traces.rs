//! Decision traces that carry our tags but no transaction.

use ario_mlflow_client::generated::types;

use super::{Finding, Reconciliation, MAX_OBJECTS};
use crate::error::ProvenanceError;
use crate::event::EventKind;
use crate::layout::tx_tag;
use crate::tags;
use crate::verifier::Verifier;

/// Whether a trace's tags show a decision that should have an anchor and
/// has none: not batched (a checkpoint proves it), not signed and waiting.
pub(super) fn unanchored(tags: &std::collections::HashMap<String, String>) -> bool {
    if !tags.keys().any(|k| k.starts_with("ario.")) {
        return false;
    }
    if tags.contains_key(tx_tag(EventKind::Prediction)) {
        return false;
    }
    match tags.get(tags::PROOF_STATUS).map(String::as_str) {
        Some("batched") => false,
        Some("anchoring") => !tags.contains_key(tags::PAYLOAD_HASH),
        _ => true,
    }
}

impl Verifier {
    /// Searches an experiment's traces (MLflow 3) for unanchored decisions.
    pub(super) async fn reconcile_traces(
        &self,
        experiment_id: &str,
        out: &mut Reconciliation,
    ) -> Result<(), ProvenanceError> {
        let mut token: Option<String> = None;
        let mut seen = 0usize;
        loop {
            let body = types::SearchTracesV3Body {
                filter: None,
                locations: vec![types::TraceLocation {
                    mlflow_experiment: Some(types::MlflowExperimentLocation {
                        experiment_id: Some(experiment_id.to_owned()),
                    }),
                    type_: Some("MLFLOW_EXPERIMENT".into()),
                }],
                max_results: Some(500),
                order_by: vec![],
                page_token: token.clone(),
            };
            let page = match self
                .mlflow()
                .call(|api| {
                    let b = body.clone();
                    async move { api.search_traces_v3(&b).await }
                })
                .await
            {
                Ok(p) => p,
                // MLflow 2.x has no v3 trace search.
                Err(e) if e.is_not_found() => {
                    out.undetermined.push(format!(
                        "traces of experiment {experiment_id} not searched: this MLflow has no trace search (v3)"
                    ));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            for t in &page.traces {
                seen += 1;
                if !t.tags.keys().any(|k| k.starts_with("ario.")) {
                    continue;
                }
                out.checked.traces += 1;
                if unanchored(&t.tags) {
                    out.findings.push(Finding::TraceNotAnchored {
                        trace_id: t.trace_id.clone().unwrap_or_default(),
                        experiment_id: experiment_id.to_owned(),
                    });
                }
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) if seen < MAX_OBJECTS => token = Some(t),
                Some(_) => {
                    out.undetermined.push(format!(
                        "experiment {experiment_id}: the trace listing stopped at {MAX_OBJECTS}; later traces were not looked at"
                    ));
                    return Ok(());
                }
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::unanchored;

    fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn which_decision_traces_count_as_missing_an_anchor() {
        assert!(!unanchored(&tags(&[("mlflow.user", "x")])), "not ours");
        assert!(!unanchored(&tags(&[
            ("ario.decision_id", "d"),
            ("ario.prediction_tx", "t")
        ])));
        assert!(!unanchored(&tags(&[
            ("ario.decision_id", "d"),
            ("ario.proof_status", "batched")
        ])));
        assert!(!unanchored(&tags(&[
            ("ario.decision_id", "d"),
            ("ario.proof_status", "anchoring"),
            ("ario.payload_hash", "h")
        ])));
        assert!(unanchored(&tags(&[
            ("ario.decision_id", "d"),
            ("ario.proof_status", "failed")
        ])));
        assert!(unanchored(&tags(&[("ario.decision_id", "d")])));
    }
}
