//! Reconciliation: what MLflow holds that should be anchored and is not,
//! `ario.*` transaction tags whose envelope is about another object, and
//! anchors (found on the gateways by our tags) whose MLflow object is gone.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::ProvenanceError;
use crate::verifier::Verifier;

mod objects;
mod traces;

/// Most objects of each kind one reconciliation looks at.
pub const MAX_OBJECTS: usize = 10_000;

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Experiments (names or ids) whose finished runs should be anchored.
    pub experiments: Vec<String>,
    /// Registered models to look at (empty: every model).
    pub models: Vec<String>,
    /// Only objects created at or after this time (Unix milliseconds).
    pub since_ms: Option<i64>,
    /// Also look for anchors on the gateways whose MLflow object is gone.
    pub orphans: bool,
}

/// One thing that is not as it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// A finished run that logged a model has no training anchor.
    RunNotAnchored {
        /// Run id.
        run_id: String,
        /// Its experiment.
        experiment_id: String,
    },
    /// A model version has no registration anchor.
    VersionNotAnchored {
        /// Registered model.
        name: String,
        /// Version.
        version: String,
        /// Its source URI.
        source: String,
        /// Its source run.
        run_id: Option<String>,
    },
    /// An alias points at a version that carries no alias anchor.
    AliasNotAnchored {
        /// Registered model.
        name: String,
        /// Alias.
        alias: String,
        /// The version it points at.
        version: String,
    },
    /// A trace carries `ario.*` tags of a decision but no transaction (and
    /// is neither batched into a checkpoint nor waiting in an outbox).
    TraceNotAnchored {
        /// Trace id.
        trace_id: String,
        /// Its experiment.
        experiment_id: String,
    },
    /// A transaction tag names an envelope about another object.
    TagMismatch {
        /// The MLflow object (`run:<id>` or `model:<name>/<version>`).
        object: String,
        /// The tag.
        tag: String,
        /// Its transaction.
        tx_id: String,
        /// What the envelope is about instead.
        detail: String,
    },
    /// An anchor whose MLflow object no longer exists.
    Orphan {
        /// Transaction.
        tx_id: String,
        /// Event type.
        event_type: String,
        /// The subject it names.
        subject: String,
    },
}

impl Finding {
    /// The finding's name, as serialized (`run_not_anchored`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::RunNotAnchored { .. } => "run_not_anchored",
            Finding::VersionNotAnchored { .. } => "version_not_anchored",
            Finding::AliasNotAnchored { .. } => "alias_not_anchored",
            Finding::TraceNotAnchored { .. } => "trace_not_anchored",
            Finding::TagMismatch { .. } => "tag_mismatch",
            Finding::Orphan { .. } => "orphan",
        }
    }

    /// Whether this is something missing (an object with no anchor).
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            Finding::RunNotAnchored { .. }
                | Finding::VersionNotAnchored { .. }
                | Finding::AliasNotAnchored { .. }
                | Finding::TraceNotAnchored { .. }
        )
    }
}

/// How many objects were looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Finished runs.
    pub runs: usize,
    /// Model versions.
    pub versions: usize,
    /// Aliases.
    pub aliases: usize,
    /// Traces with `ario.*` tags.
    pub traces: usize,
    /// Transaction tags whose envelope was fetched.
    pub tags: usize,
    /// Anchors found on the gateways.
    pub anchors: usize,
}

/// The outcome of one reconciliation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reconciliation {
    /// What was found.
    pub findings: Vec<Finding>,
    /// What was looked at.
    pub checked: Checked,
    /// Checks that could not run, and why.
    pub undetermined: Vec<String>,
}

impl Reconciliation {
    /// Objects with no anchor.
    pub fn missing(&self) -> usize {
        self.findings.iter().filter(|f| f.is_missing()).count()
    }

    /// The CLI's exit code: 1 when anything is missing or mismatched, 3
    /// when a check could not run, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.findings.is_empty() {
            1
        } else if !self.undetermined.is_empty() {
            3
        } else {
            0
        }
    }
}

impl Verifier {
    /// Reconciles MLflow with the anchors, within `scope`.
    pub async fn reconcile(&self, scope: &Scope) -> Result<Reconciliation, ProvenanceError> {
        let mut out = Reconciliation::default();
        for exp in &scope.experiments {
            // An experiment MLflow does not know (a typo, or deleted) is
            // reported and skipped: the other checks still run.
            let found = match self.experiment_id(exp).await {
                Ok(id) => self
                    .finished_runs(&id, scope.since_ms)
                    .await
                    .map(|runs| (id, runs)),
                Err(e) => Err(e),
            };
            let (id, runs) = match found {
                Ok(x) => x,
                Err(ProvenanceError::Mlflow(e)) if e.is_not_found() => {
                    out.undetermined.push(format!(
                        "experiment {exp:?} not found in MLflow; its runs were not looked at"
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if runs.len() >= MAX_OBJECTS {
                out.undetermined.push(format!(
                    "experiment {id}: the run listing stopped at {MAX_OBJECTS}; later runs were not looked at"
                ));
            }
            for run in runs {
                out.checked.runs += 1;
                self.reconcile_run(&run, &id, &mut out).await?;
            }
            self.reconcile_traces(&id, &mut out).await?;
        }
        let versions = self.versions(&scope.models).await?;
        let mut known = BTreeSet::new();
        for mv in &versions {
            let (Some(name), Some(version)) = (mv.name.clone(), mv.version.clone()) else {
                continue;
            };
            known.insert(format!("{name}/{version}"));
            if scope
                .since_ms
                .is_some_and(|s| mv.creation_timestamp.unwrap_or(0) < s)
            {
                continue;
            }
            out.checked.versions += 1;
            self.reconcile_version(mv, &name, &version, &mut out).await;
        }
        self.reconcile_aliases(&versions, &mut out).await?;
        let truncated = versions.len() >= MAX_OBJECTS;
        if truncated {
            out.undetermined.push(format!(
                "the version listing stopped at {MAX_OBJECTS}; later versions were not looked at, and orphans were not searched"
            ));
        }
        if scope.orphans && !truncated {
            self.orphans(&scope.models, &known, &mut out).await;
        }
        Ok(out)
    }
}
