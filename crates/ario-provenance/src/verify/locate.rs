//! Finding the payload bytes an envelope commits to: the stored artifact
//! named by the event's layout, or — for datasets — the payload rebuilt from
//! the run's logged input.

use ario_mlflow_client::MlflowError;

use super::check::{Check, FailReason, NotRunCause};
use crate::event::{EventKind, Subject};
use crate::layout::{artifact_path, batch_folder, ArtifactFile};
use crate::payload;
use crate::run_facts::run_datasets;
use crate::verifier::Verifier;

/// Largest payload artifact read back (payloads are a few KiB).
const MAX_PAYLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// The payload bytes, or the check that says why there are none.
pub(crate) type Located = Result<Vec<u8>, Check>;

/// An MLflow error as a check result: an unreachable server, a refusal by
/// its authentication or a file too large to read back leaves the question
/// open; any other answer (not found, or an error in place of the bytes)
/// means the thing is not there.
pub(crate) fn mlflow_check(e: &MlflowError, what: &str, missing: FailReason) -> Check {
    let message = format!("{what}: {e}");
    if matches!(e, MlflowError::Unreachable { .. }) {
        Check::not_run(NotRunCause::MlflowUnreachable, message)
    } else if matches!(e, MlflowError::Unauthorized { .. }) {
        Check::not_run(NotRunCause::MlflowRefused, message)
    } else if matches!(e, MlflowError::TooLarge { .. }) {
        // There, but not read: the question stays open.
        Check::not_run(NotRunCause::ArtifactTooLarge, message)
    } else {
        Check::failed(missing, message)
    }
}

fn missing(e: &MlflowError, what: &str) -> Check {
    let c = mlflow_check(e, what, FailReason::PayloadArtifactMissing);
    match c.fail_reason() {
        Some(_) => Check::failed(
            FailReason::PayloadArtifactMissing,
            format!("payload_artifact_not_available: {}", c.message),
        ),
        None => c,
    }
}

impl Verifier {
    pub(crate) async fn read_run_artifact(&self, run_id: &str, path: &str, cap: u64) -> Located {
        let c = self.mlflow();
        let root = c
            .run_root(run_id)
            .await
            .map_err(|e| missing(&e, &format!("run {run_id}")))?;
        c.read_artifact(&root, path, cap)
            .await
            .map_err(|e| missing(&e, &format!("payload artifact {path}")))
    }

    /// The payload bytes of an envelope of `kind` about `subject`.
    pub(crate) async fn locate_payload(
        &self,
        kind: EventKind,
        subject: &Subject,
        event_id: &str,
        dataset_run: Option<&str>,
    ) -> Located {
        let not_locatable = |why: String| Check::not_run(NotRunCause::SubjectNotLocatable, why);
        let (run_id, id) = match subject {
            Subject::Run { run_id } => (run_id.clone(), event_id.to_owned()),
            Subject::ModelVersion { name, version } => {
                let mv = self
                    .mlflow()
                    .model_version(name, version)
                    .await
                    .map_err(|e| missing(&e, &format!("model version {name}/{version}")))?;
                let Some(run_id) = mv.run_id.filter(|r| !r.is_empty()) else {
                    return Err(Check::failed(
                        FailReason::PayloadArtifactMissing,
                        "payload_artifact_not_available: model version has no run",
                    ));
                };
                (run_id, event_id.to_owned())
            }
            Subject::Prediction {
                decision_id,
                model_run_id: Some(run_id),
                ..
            } => (run_id.clone(), decision_id.clone()),
            Subject::Prediction { .. } => {
                return Err(Check::failed(
                    FailReason::PayloadArtifactMissing,
                    "payload_artifact_not_available: the decision names no model run",
                ))
            }
            Subject::DecisionBatch {
                stream_id,
                batch_seq,
                model_run_id: Some(run_id),
                ..
            } => (run_id.clone(), batch_folder(stream_id, *batch_seq)),
            Subject::DecisionBatch { .. } => {
                return Err(Check::failed(
                    FailReason::PayloadArtifactMissing,
                    "payload_artifact_not_available: the decision batch names no model run",
                ))
            }
            Subject::Signer { .. } => {
                return Err(not_locatable(
                    "a key rotation's payload stays with the key holder, not in MLflow".into(),
                ))
            }
            Subject::Dataset { name, digest } => {
                return match dataset_run {
                    Some(run_id) => self.rebuild_dataset(run_id, name, digest).await,
                    None => Err(Check::not_run(
                        NotRunCause::DatasetRunNotGiven,
                        "datasets are not stored in MLflow; pass --run RUN_ID to re-derive from the run's logged input",
                    )),
                };
            }
        };
        match artifact_path(kind, &id, ArtifactFile::Payload) {
            Some(path) => {
                self.read_run_artifact(&run_id, &path, MAX_PAYLOAD_BYTES)
                    .await
            }
            None => Err(not_locatable(format!(
                "a {kind} event keeps no payload in MLflow"
            ))),
        }
    }

    async fn rebuild_dataset(
        &self,
        run_id: &str,
        name: &Option<String>,
        digest: &Option<String>,
    ) -> Located {
        let run = self
            .mlflow()
            .run(run_id)
            .await
            .map_err(|e| missing(&e, &format!("run {run_id}")))?;
        let found = run_datasets(&run)
            .into_iter()
            .find(|d| &d.name == name && &d.digest == digest);
        match found {
            Some(d) => payload::canonical(&payload::dataset(&d))
                .map_err(|e| Check::failed(FailReason::PayloadUnreadable, e.to_string())),
            None => Err(Check::failed(
                FailReason::PayloadArtifactMissing,
                format!(
                    "payload_artifact_not_available: run {run_id} has no logged dataset {:?} with digest {:?}",
                    name.as_deref().unwrap_or_default(),
                    digest.as_deref().unwrap_or_default()
                ),
            )),
        }
    }
}
