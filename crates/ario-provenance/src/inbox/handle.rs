//! What one queued registry event becomes: the anchor our CLI would have
//! made for the same change, made once.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_mlflow_client::records::version_tags;

use super::queue::Finish;
use super::store::Queue;
use super::webhook::RegistryEvent;
use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::EventKind;
use crate::layout::{payload_hash_tag, tx_tag};
use crate::payload;
use crate::tasks::AnchorStatus;

/// The result of handling one event: how it ends, or that it must be tried
/// again (the error says why).
#[derive(Debug)]
pub enum Handled {
    /// Finished.
    Finished(Finish),
    /// No proof could be made now (MLflow or a local store failed).
    Retry(String),
}

fn from_status(status: AnchorStatus) -> Handled {
    match status {
        AnchorStatus::Anchored { tx_id } => Handled::Finished(Finish::Done(Some(tx_id))),
        // Signed and kept in the outbox: the outbox's retry owns the upload now.
        AnchorStatus::Signed { .. } => Handled::Finished(Finish::Done(None)),
        AnchorStatus::Failed { error } => Handled::Retry(error),
        other => Handled::Retry(format!("anchor ended as {}", other.name())),
    }
}

fn retry_or_fail(e: ProvenanceError) -> Result<Handled, ProvenanceError> {
    use ario_mlflow_client::MlflowError;
    // Credentials or configuration that MLflow refuses are ours to fix, not
    // the event's fault: the event waits for them.
    if matches!(
        e,
        ProvenanceError::Mlflow(MlflowError::Unauthorized { .. } | MlflowError::Config(_))
    ) {
        return Ok(Handled::Retry(e.to_string()));
    }
    match e.kind() {
        crate::ErrorKind::Unavailable | crate::ErrorKind::Mlflow | crate::ErrorKind::Local => {
            Ok(Handled::Retry(e.to_string()))
        }
        // The object is gone or cannot be anchored as it is: say so, once.
        _ => Ok(Handled::Finished(Finish::Ignored(format!(
            "cannot be anchored: {e}"
        )))),
    }
}

/// Handles one event: anchors a new version's registration or an alias
/// move, unless MLflow already shows that exact anchor; records alias
/// deletions and tag changes without anchoring.
pub async fn handle_event(
    anchorer: &Anchorer,
    queue: &Queue,
    event: &RegistryEvent,
) -> Result<Handled, ProvenanceError> {
    match event {
        RegistryEvent::VersionCreated {
            name,
            version,
            source,
            run_id,
        } => match registration(anchorer, name, version, source, run_id.as_deref()).await {
            Ok(h) => Ok(h),
            Err(e) => retry_or_fail(e),
        },
        RegistryEvent::AliasCreated {
            name,
            alias,
            version,
        } => match alias_move(anchorer, queue, name, alias, version).await {
            Ok(h) => Ok(h),
            Err(e) => retry_or_fail(e),
        },
        RegistryEvent::AliasDeleted { name, alias } => {
            queue.set_alias_version(name, alias, None).await?;
            Ok(Handled::Finished(Finish::Ignored(
                "alias deletion recorded; ario.mlflow/v1 has no envelope for it".into(),
            )))
        }
        RegistryEvent::VersionTagSet { key, .. } | RegistryEvent::VersionTagDeleted { key, .. } => {
            Ok(Handled::Finished(Finish::Ignored(format!(
                "tag change ({key}) recorded; verification re-reads tags"
            ))))
        }
        RegistryEvent::RunFinished { run_id } => match training(anchorer, run_id).await {
            Ok(h) => Ok(h),
            Err(e) => retry_or_fail(e),
        },
        RegistryEvent::Other { name } => Ok(Handled::Finished(Finish::Ignored(format!(
            "{name} is not anchored"
        )))),
    }
}

async fn registration(
    anchorer: &Anchorer,
    name: &str,
    version: &str,
    source: &str,
    run_id: Option<&str>,
) -> Result<Handled, ProvenanceError> {
    let mv = anchorer.mlflow().model_version(name, version).await?;
    let tags = version_tags(&mv);
    if let Some(tx) = tags.get(tx_tag(EventKind::Registration)) {
        return Ok(Handled::Finished(Finish::Done(Some(tx.clone()))));
    }
    if tags.contains_key(payload_hash_tag(EventKind::Registration)) {
        // Another anchorer (the CLI's `register`, or a replica) signed it and
        // owns its upload.
        return Ok(Handled::Finished(Finish::Done(None)));
    }
    let status = anchorer
        .anchor_registration(name, version, source, run_id, &BTreeMap::new())
        .await?;
    Ok(from_status(status))
}

async fn training(anchorer: &Anchorer, run_id: &str) -> Result<Handled, ProvenanceError> {
    let c = anchorer.mlflow();
    let run = c.run(run_id).await?;
    let tags = ario_mlflow_client::records::run_tags(&run);
    if let Some(tx) = tags.get(tx_tag(EventKind::Training)) {
        return Ok(Handled::Finished(Finish::Done(Some(tx.clone()))));
    }
    if tags.contains_key(payload_hash_tag(EventKind::Training)) {
        return Ok(Handled::Finished(Finish::Done(None)));
    }
    if c.run_model_locations(&run).await?.is_empty() {
        return Ok(Handled::Finished(Finish::Ignored(
            "the run logged no model".into(),
        )));
    }
    let anchored = anchorer
        .anchor_run(
            run_id,
            &crate::AnchorRunOptions {
                // A run that logged a model but no dataset is still worth
                // anchoring; its payload says it has no dataset inputs.
                allow_empty_datasets: true,
                ..Default::default()
            },
        )
        .await?;
    Ok(match anchored.committed.map(|c| c.status()) {
        Some(s) => from_status(s),
        None => Handled::Retry("the run anchor made no proof".into()),
    })
}

async fn alias_move(
    anchorer: &Anchorer,
    queue: &Queue,
    name: &str,
    alias: &str,
    version: &str,
) -> Result<Handled, ProvenanceError> {
    let previous = queue.alias_version(name, alias).await?;
    let p = payload::alias_set(name, version, alias, previous.as_deref(), &BTreeMap::new());
    let hash = sha256_hex(&payload::canonical(&p)?);
    let mv = anchorer.mlflow().model_version(name, version).await?;
    let tags = version_tags(&mv);
    let handled = match (
        tags.get(payload_hash_tag(EventKind::AliasSet)),
        tags.get(tx_tag(EventKind::AliasSet)),
    ) {
        // The same move is anchored already (our CLI's `promote --alias`).
        (Some(h), Some(tx)) if *h == hash => Handled::Finished(Finish::Done(Some(tx.clone()))),
        // ... or signed by another anchorer, which owns its upload.
        (Some(h), None) if *h == hash => Handled::Finished(Finish::Done(None)),
        _ => {
            let ev = anchorer
                .prepare_version_event(EventKind::AliasSet, name, version, &p)
                .await?;
            from_status(anchorer.commit(ev).await?.status())
        }
    };
    if matches!(handled, Handled::Finished(_)) {
        queue.set_alias_version(name, alias, Some(version)).await?;
    }
    Ok(handled)
}
