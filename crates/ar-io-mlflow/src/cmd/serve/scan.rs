//! `serve`'s periodic scan: reconciles MLflow with the anchors and queues
//! what is missing (finished runs of `--anchor-runs` experiments, versions
//! registered while no webhook reached us), under ids that make a finding
//! queue once however often it is found.

use std::sync::Arc;
use std::time::Duration;

use ario_provenance::inbox::{Delivery, RegistryEvent};
use ario_provenance::reconcile::{Finding, Scope};
use ario_provenance::Anchorer;
use tokio::sync::watch;

use super::http::Shared;
use super::metrics::label;

/// The findings counted in `ario_serve_reconcile_objects`.
const FINDINGS: [&str; 6] = [
    "run_not_anchored",
    "version_not_anchored",
    "alias_not_anchored",
    "trace_not_anchored",
    "tag_mismatch",
    "orphan",
];

/// Scans every `every` until `stopping`.
pub(crate) async fn scan_loop(
    anchorer: Anchorer,
    shared: Arc<Shared>,
    experiments: Vec<String>,
    every: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let scope = Scope {
        experiments,
        ..Scope::default()
    };
    loop {
        match scan_once(&anchorer, &shared, &scope).await {
            Ok(n) if n > 0 => tracing::info!(queued = n, "scan queued missing anchors"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scan failed; next one as scheduled"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.changed() => return,
        }
    }
}

/// One reconciliation; queues each missing run or version; returns how many
/// were newly queued.
async fn scan_once(
    anchorer: &Anchorer,
    shared: &Shared,
    scope: &Scope,
) -> Result<usize, ario_provenance::ProvenanceError> {
    let r = anchorer.verifier().reconcile(scope).await?;
    for kind in FINDINGS {
        let n = r.findings.iter().filter(|f| f.kind() == kind).count();
        shared
            .metrics
            .reconcile
            .get_or_create(&label("finding", kind))
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let mut queued = 0;
    for f in &r.findings {
        let (id, event) = match f {
            Finding::RunNotAnchored { run_id, .. } => (
                format!("scan:run:{run_id}"),
                RegistryEvent::RunFinished {
                    run_id: run_id.clone(),
                },
            ),
            Finding::VersionNotAnchored {
                name,
                version,
                source,
                run_id,
            } => (
                format!("scan:version:{name}/{version}"),
                RegistryEvent::VersionCreated {
                    name: name.clone(),
                    version: version.clone(),
                    source: source.clone(),
                    run_id: run_id.clone(),
                },
            ),
            _ => continue,
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let d = Delivery {
            delivery_id: id,
            timestamp: 0,
            event,
        };
        if let ario_provenance::inbox::Enqueued::New(_) = shared.queue.enqueue(&d, &body).await? {
            queued += 1;
            shared.metrics.queued.inc();
            if matches!(f, Finding::RunNotAnchored { .. }) {
                shared.metrics.runs_queued.inc();
            }
        }
    }
    if queued > 0 {
        shared.wake.notify_waiters();
    }
    Ok(queued)
}
