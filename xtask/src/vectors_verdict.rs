//! `test-vectors/verdict/`: the verification decision table — check
//! outcomes → panel rows → status → exit code — over every combination of
//! the outcomes each check can have, for kernels that render our verdicts.

use ario_provenance::verify::check::{Check, CheckOutcome, FailReason, NotRunCause};
use ario_provenance::verify::verdict::{rows, status, CheckSet, EnvelopeChecks};
use ario_provenance::EventKind;
use serde_json::{json, Value};

fn pass() -> Check {
    Check::passed("ok")
}

fn fail(r: FailReason) -> Check {
    Check::failed(r, "failed")
}

fn not_run(c: NotRunCause) -> Check {
    Check::not_run(c, "not run")
}

fn code(c: &Check) -> Value {
    match c.outcome {
        CheckOutcome::Passed => json!(["passed"]),
        CheckOutcome::Failed(r) => json!(["failed", r.code()]),
        CheckOutcome::NotRun(n) => json!(["not_run", n.code()]),
    }
}

fn outcome_name(o: ario_provenance::Outcome) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// The outcomes each check takes in the table.
fn options() -> [Vec<Check>; 6] {
    [
        // signature
        vec![
            pass(),
            fail(FailReason::SignatureInvalid),
            not_run(NotRunCause::NoPayload),
        ],
        // anchored bytes
        vec![
            pass(),
            fail(FailReason::AnchoredBytesMismatch),
            not_run(NotRunCause::NoPayload),
        ],
        // source of truth (live MLflow)
        vec![
            pass(),
            fail(FailReason::LiveMismatch),
            not_run(NotRunCause::MlflowUnreachable),
            not_run(NotRunCause::NoLiveSurface),
        ],
        // attestation
        vec![
            pass(),
            fail(FailReason::AttestationBelowThreshold),
            fail(FailReason::AttestationInvalid),
            not_run(NotRunCause::AttestationNotEnabled),
        ],
        // signer trusted
        vec![
            pass(),
            fail(FailReason::UnknownSigner),
            not_run(NotRunCause::UploaderUnknown),
            not_run(NotRunCause::NoTrustPolicy),
        ],
        // anchor history
        vec![
            pass(),
            fail(FailReason::HistoryConflict),
            not_run(NotRunCause::HistoryUnavailable),
            not_run(NotRunCause::HistoryNotApplicable),
        ],
    ]
}

fn case(kind: EventKind, set: &CheckSet) -> Value {
    let r = rows(Some(kind), set);
    let s = status(set, &r);
    let mut checks = serde_json::Map::new();
    checks.insert("proof".into(), code(&set.proof));
    if let Some(e) = &set.envelope {
        for (name, c) in [
            ("signature", &e.signature),
            ("anchored_bytes", &e.anchored_bytes),
            ("source_of_truth", &e.source_of_truth),
            ("ario_attestation", &e.ario_attestation),
            ("signer_trusted", &e.signer_trusted),
            ("anchor_history", &e.anchor_history),
        ] {
            checks.insert(name.into(), code(c));
        }
    }
    json!({
        "event_type": kind.wire_name(),
        "checks": checks,
        "expect": {
            "rows": r.iter().map(|row| json!([row.label, outcome_name(row.outcome), row.decisive])).collect::<Vec<_>>(),
            "status": s,
            "exit_code": s.exit_code(),
        }
    })
}

/// The vector file.
pub(crate) fn decision_table() -> Value {
    let mut cases = Vec::new();
    // No envelope obtained: the proof check alone decides.
    for proof in [
        fail(FailReason::EnvelopeNotFound),
        fail(FailReason::NotAnEnvelope),
        fail(FailReason::SubjectMismatch),
        not_run(NotRunCause::GatewayUnavailable),
        not_run(NotRunCause::SubjectNotLocatable),
    ] {
        let set = CheckSet {
            proof,
            envelope: None,
        };
        cases.push(case(EventKind::Training, &set));
    }
    let [sig, bytes, live, att, trust, hist] = options();
    let kinds = [
        EventKind::Training,
        EventKind::Registration,
        EventKind::StageTransition,
        EventKind::Prediction,
    ];
    let mut n = 0usize;
    for s in &sig {
        for b in &bytes {
            for l in &live {
                for a in &att {
                    for t in &trust {
                        for h in &hist {
                            let set = CheckSet {
                                proof: pass(),
                                envelope: Some(EnvelopeChecks {
                                    signature: s.clone(),
                                    anchored_bytes: b.clone(),
                                    source_of_truth: l.clone(),
                                    ario_attestation: a.clone(),
                                    signer_trusted: t.clone(),
                                    anchor_history: h.clone(),
                                }),
                            };
                            cases.push(case(kinds[n % kinds.len()], &set));
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    json!({
        "format": "ario-mlflow-rs/verdict-vector/v1",
        "vector_id": "verdict-decision-table-01",
        "description": "every combination of check outcomes the table distinguishes, with the rows, status and exit code a verifier must derive",
        "record_labels": {
            "training_complete": EventKind::Training.record_label(),
            "model_registered": EventKind::Registration.record_label(),
            "stage_transition": EventKind::StageTransition.record_label(),
            "prediction": EventKind::Prediction.record_label(),
        },
        "cases": cases,
    })
}
