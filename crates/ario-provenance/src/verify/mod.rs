//! Verification of anchored events against Arweave and live MLflow.
//!
//! Each check is data ([`check`]): passed, failed for a typed reason, or not
//! run for a typed cause. The panel and the status come from one pure
//! function ([`verdict`]); locating the payload, re-deriving it from live
//! MLflow and asking ar.io Verify are the I/O around it.

pub mod check;
pub mod verdict;

pub use history::{REANCHOR_REASON, SUPERSEDES};

pub mod decision;

pub(crate) mod attestation;
mod batch;
mod history;
mod live;
mod locate;
mod trust_and_writeback;

use ario_envelope::envelope::{verify_envelope, Envelope, VerifyOptions};
use ario_envelope::SpecVersionStatus;
use ario_mlflow_client::records::version_tags;
use ario_mlflow_client::{MlflowError, TagTarget};
use serde::{Serialize, Serializer};
use serde_json::Value;

use check::{Check, FailReason, NotRunCause};
use verdict::{CheckSet, EnvelopeChecks, Row, Status};

use crate::event::{EventKind, Subject};
use crate::layout::tx_tag;
use crate::tags;
use crate::verifier::Verifier;

/// What was asked to be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A training run.
    Run,
    /// A model version (registration, promotions, alias moves).
    Model,
    /// A decision's trace.
    Trace,
    /// A dataset anchor.
    Dataset,
    /// A batched decision (its checkpoint).
    Decision,
}

/// The object an envelope must be about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// `subject.run_id`.
    Run(String),
    /// `subject.name` and `subject.version`.
    Version(String, String),
    /// `subject.trace_id`.
    Trace(String),
    /// `subject.decision_id`.
    Decision(String),
    /// `subject.stream_id` and `subject.batch_seq` of a decision batch.
    Batch(String, u64),
    /// Any dataset; with a run, its payload is re-derived from that run's logged input.
    Dataset {
        /// The run whose logged input re-derives the payload.
        run: Option<String>,
    },
}

impl Expect {
    fn members(&self) -> Vec<(&'static str, &str)> {
        match self {
            Expect::Run(r) => vec![("run_id", r)],
            Expect::Version(n, v) => vec![("name", n), ("version", v)],
            Expect::Trace(t) => vec![("trace_id", t)],
            Expect::Decision(d) => vec![("decision_id", d)],
            Expect::Batch(stream, _) => vec![("stream_id", stream)],
            Expect::Dataset { .. } => vec![],
        }
    }
    fn dataset_run(&self) -> Option<&str> {
        match self {
            Expect::Dataset { run } => run.as_deref(),
            _ => None,
        }
    }
}

fn envelope_value<S: Serializer>(e: &Option<Envelope>, s: S) -> Result<S::Ok, S::Error> {
    e.as_ref().map(Envelope::to_value).serialize(s)
}

/// The result of verifying one anchored object.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// What was asked about.
    pub kind: TargetKind,
    /// The object (`run <id>`, `iris/v1`, …).
    pub target: String,
    /// The transaction checked.
    pub tx_id: Option<String>,
    /// Event type of the envelope.
    pub event_type: Option<String>,
    /// Overall status, computed from the rows.
    pub status: Status,
    /// The panel.
    pub rows: Vec<Row>,
    /// The checks run on the envelope (absent when none was obtained).
    pub checks: Option<EnvelopeChecks>,
    /// The envelope fetched.
    #[serde(serialize_with = "envelope_value")]
    pub envelope: Option<Envelope>,
    /// Field names that differ between live MLflow and the anchored payload.
    pub live_mismatches: Vec<String>,
    /// MLflow tags written back (after a full pass, or a failure).
    pub tags_written: usize,
}

impl Verification {
    fn not_anchored(kind: TargetKind, target: String, why: String) -> Self {
        Verification {
            kind,
            target,
            tx_id: None,
            event_type: None,
            status: Status::NotAnchored,
            rows: vec![Row {
                label: verdict::PROOF_FOUND.into(),
                outcome: verdict::Outcome::Fail,
                detail: why,
                decisive: true,
            }],
            checks: None,
            envelope: None,
            live_mismatches: vec![],
            tags_written: 0,
        }
    }

    /// The event kind of the envelope, when it is one of ours.
    pub fn event_kind(&self) -> Option<EventKind> {
        self.event_type.as_deref().and_then(EventKind::from_wire)
    }
}

fn signature_check(env: &Value, payload: Option<&[u8]>) -> Check {
    let verdict = verify_envelope(
        env,
        VerifyOptions {
            payload_bytes: payload,
            allow_legacy: true,
        },
    );
    if !verdict.signature_ok {
        let reasons: Vec<&str> = verdict.reasons.iter().map(|r| r.as_str()).collect();
        Check::failed(FailReason::SignatureInvalid, reasons.join(", "))
    } else if verdict.spec_version_status == SpecVersionStatus::Unsupported {
        Check::failed(
            FailReason::UnsupportedSpecVersion,
            "unsupported_spec_version",
        )
    } else {
        Check::passed("")
    }
}

/// The batch-number mismatch of a decision batch's subject, if any.
fn expect_seq(expect: &Expect, subject: Option<&Value>) -> Option<String> {
    let Expect::Batch(_, want) = expect else {
        return None;
    };
    let got = subject
        .and_then(|s| s.get("batch_seq"))
        .and_then(Value::as_u64);
    (got != Some(*want)).then(|| format!("subject.batch_seq is {got:?}, expected {want}"))
}

fn subject_check(env: &Value, expect: &Expect, gateway: &str) -> Check {
    let subject = env.get("subject");
    let mismatched: Vec<String> = expect
        .members()
        .into_iter()
        .filter(|(k, want)| subject.and_then(|s| s.get(*k)).and_then(Value::as_str) != Some(*want))
        .map(|(k, want)| {
            let got = subject
                .and_then(|s| s.get(k))
                .cloned()
                .unwrap_or(Value::Null);
            format!("subject.{k} is {got:?}, expected {want:?}")
        })
        .chain(expect_seq(expect, subject))
        .collect();
    if mismatched.is_empty() {
        Check::passed(format!("envelope retrieved from {gateway}"))
    } else {
        Check::failed(
            FailReason::SubjectMismatch,
            format!(
                "envelope is about another object: {}",
                mismatched.join("; ")
            ),
        )
    }
}

impl Verifier {
    /// Verifies the envelope at `tx_id` against live MLflow.
    pub async fn verify_tx(
        &self,
        kind: TargetKind,
        target: &str,
        tx_id: &str,
        expect: &Expect,
    ) -> Verification {
        let mut v = Verification {
            kind,
            target: target.into(),
            tx_id: Some(tx_id.into()),
            event_type: None,
            status: Status::Undetermined,
            rows: vec![],
            checks: None,
            envelope: None,
            live_mismatches: vec![],
            tags_written: 0,
        };
        let (set, env) = self.run_checks(tx_id, expect, &mut v).await;
        v.rows = verdict::rows(v.event_kind(), &set);
        v.status = verdict::status(&set, &v.rows);
        v.checks = set.envelope;
        v.envelope = env;
        v
    }

    async fn run_checks(
        &self,
        tx_id: &str,
        expect: &Expect,
        v: &mut Verification,
    ) -> (CheckSet, Option<Envelope>) {
        let alone = |proof| {
            (
                CheckSet {
                    proof,
                    envelope: None,
                },
                None,
            )
        };
        let fetched = match self.reader().fetch_envelope(tx_id).await {
            Ok(f) => f,
            Err(e) if e.is_unavailable() => {
                return alone(Check::not_run(
                    NotRunCause::GatewayUnavailable,
                    e.to_string(),
                ))
            }
            Err(e) => return alone(Check::failed(FailReason::EnvelopeNotFound, e.to_string())),
        };
        let env = match fetched.json() {
            Ok(env @ Value::Object(_)) => env,
            _ => {
                return alone(Check::failed(
                    FailReason::NotAnEnvelope,
                    format!("the bytes at {tx_id} are not an envelope (JSON object)"),
                ))
            }
        };
        let typed = Envelope::from_value(env.clone()).ok();
        v.event_type = env
            .get("event_type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let proof = subject_check(&env, expect, &fetched.gateway);
        let kind = v.event_kind();
        let located = match (kind, Subject::from_json(env.get("subject"))) {
            (Some(k), Ok(subject)) => {
                let event_id = env
                    .get("event_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.locate_payload(k, &subject, event_id, expect.dataset_run())
                    .await
            }
            (None, _) => Err(Check::not_run(
                NotRunCause::SubjectNotLocatable,
                format!(
                    "unknown event type {:?}",
                    v.event_type.as_deref().unwrap_or_default()
                ),
            )),
            (_, Err(e)) => Err(Check::not_run(
                NotRunCause::SubjectNotLocatable,
                e.to_string(),
            )),
        };
        let (anchored_bytes, payload) = match located {
            Ok(b) => {
                let h = ario_envelope::encoding::sha256_hex(&b);
                if Some(h.as_str()) == env.get("payload_hash").and_then(Value::as_str) {
                    (Check::passed(""), Some(b))
                } else {
                    let msg = format!("anchored_bytes_mismatch: stored payload hashes to {h}");
                    (Check::failed(FailReason::AnchoredBytesMismatch, msg), None)
                }
            }
            Err(c) => (c, None),
        };
        let signature = signature_check(&env, payload.as_deref());
        let (source_of_truth, diff) = match (&payload, kind) {
            (Some(b), Some(k)) => self.source_of_truth(k, b).await,
            _ => (
                Check::not_run(NotRunCause::NoPayload, "no_payload_to_compare"),
                vec![],
            ),
        };
        v.live_mismatches = diff;
        let ario_attestation = self.attestation(tx_id, &fetched.bytes).await;
        let signer_trusted = self.signer_trusted(tx_id, &env).await;
        let anchor_history = self.history(kind, tx_id, &env, payload.as_deref()).await;
        let set = CheckSet {
            proof,
            envelope: Some(EnvelopeChecks {
                signature,
                anchored_bytes,
                source_of_truth,
                ario_attestation,
                signer_trusted,
                anchor_history,
            }),
        };
        (set, typed)
    }

    /// `verify run <RUN_ID>`: the training anchor of a run.
    pub async fn verify_run(
        &self,
        run_id: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let tags = self.mlflow().run_tags(run_id).await?;
        let target = format!("run {run_id}");
        let Some(tx) = tags.get(tx_tag(EventKind::Training)) else {
            let why = format!(
                "Run {run_id}: no {} tag found. Not anchored.",
                tx_tag(EventKind::Training)
            );
            return Ok(Verification::not_anchored(TargetKind::Run, target, why));
        };
        let mut v = self
            .verify_tx(TargetKind::Run, &target, tx, &Expect::Run(run_id.into()))
            .await;
        if write_back {
            self.write_outcome(&mut v, &TagTarget::Run(run_id.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify model <NAME>/<VERSION>`: the registration anchor of a version.
    pub async fn verify_model(
        &self,
        name: &str,
        version: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let mv = self.mlflow().model_version(name, version).await?;
        let target = format!("{name}/v{version}");
        let tag = tx_tag(EventKind::Registration);
        let Some(tx) = version_tags(&mv).get(tag).cloned() else {
            let why = format!("Model {name}/v{version}: no {tag} tag found. Not anchored.");
            return Ok(Verification::not_anchored(TargetKind::Model, target, why));
        };
        let expect = Expect::Version(name.into(), version.into());
        let mut v = self
            .verify_tx(TargetKind::Model, &target, &tx, &expect)
            .await;
        if write_back {
            self.write_outcome(&mut v, &TagTarget::Version(name.into(), version.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify trace <TRACE_ID>`: the prediction anchor of a trace.
    pub async fn verify_trace(
        &self,
        trace_id: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let target = format!("trace {trace_id}");
        let t = match self.mlflow().trace_tags(trace_id).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() || matches!(e, MlflowError::Http { status: 404, .. }) => {
                let why = format!("Trace {trace_id} not found.");
                return Ok(Verification::not_anchored(TargetKind::Trace, target, why));
            }
            Err(e) => return Err(e),
        };
        let tag = tx_tag(EventKind::Prediction);
        let Some(tx) = t.get(tag).or(t.get(tags::ARWEAVE_TX_LEGACY)).cloned() else {
            let why = format!("Trace {trace_id}: no {tag} tag found. Not anchored yet.");
            return Ok(Verification::not_anchored(TargetKind::Trace, target, why));
        };
        let mut v = self
            .verify_tx(
                TargetKind::Trace,
                &target,
                &tx,
                &Expect::Trace(trace_id.into()),
            )
            .await;
        if write_back {
            self.write_outcome(&mut v, &TagTarget::Trace(trace_id.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify dataset <TX_ID> [--run RUN_ID]`.
    pub async fn verify_dataset(&self, tx_id: &str, run_id: Option<&str>) -> Verification {
        let expect = Expect::Dataset {
            run: run_id.map(str::to_owned),
        };
        self.verify_tx(
            TargetKind::Dataset,
            &format!("dataset {tx_id}"),
            tx_id,
            &expect,
        )
        .await
    }
}
