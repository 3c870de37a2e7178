use super::*;

fn every_check_state() -> Vec<Check> {
    vec![
        Check::passed(""),
        Check::failed(FailReason::AnchoredBytesMismatch, "f"),
        Check::not_run(NotRunCause::MlflowUnreachable, "n"),
        Check::not_run(NotRunCause::NoLiveSurface, "none"),
    ]
}

fn attestation_states() -> Vec<Check> {
    vec![
        Check::passed("ok"),
        Check::failed(FailReason::AttestationBelowThreshold, "level 1"),
        Check::failed(FailReason::AttestationInvalid, "bad"),
        Check::not_run(NotRunCause::AttestationUnreachable, "down"),
    ]
}

fn found() -> Check {
    Check::passed("envelope retrieved")
}

fn trust_states() -> Vec<Check> {
    vec![
        Check::passed("signed by ci"),
        Check::failed(FailReason::UnknownSigner, "stranger"),
        Check::not_run(NotRunCause::NoTrustPolicy, "any key accepted"),
        Check::not_run(NotRunCause::UploaderUnknown, "GraphQL down"),
    ]
}

fn history_states() -> Vec<Check> {
    vec![
        Check::passed("no other"),
        Check::failed(FailReason::HistoryConflict, "rewritten"),
        Check::not_run(NotRunCause::HistoryNotApplicable, "many per subject"),
        Check::not_run(NotRunCause::HistoryUnavailable, "GraphQL down"),
    ]
}

fn no_history() -> Check {
    Check::not_run(NotRunCause::HistoryNotApplicable, "many per subject")
}

fn no_policy() -> Check {
    Check::not_run(NotRunCause::NoTrustPolicy, "any key accepted")
}

/// The whole table: every kind × every state of every check.
#[test]
fn status_is_verified_exactly_when_every_decisive_check_passed() {
    let mut cases = 0;
    for kind in EventKind::ALL.map(Some).into_iter().chain([None]) {
        for proof in [found(), Check::failed(FailReason::SubjectMismatch, "other")] {
            for sig in every_check_state() {
                for bytes in every_check_state() {
                    for live in every_check_state() {
                        let combos = attestation_states().into_iter().flat_map(|a| {
                            trust_states().into_iter().flat_map(move |t| {
                                let a = a.clone();
                                history_states()
                                    .into_iter()
                                    .map(move |h| (a.clone(), t.clone(), h))
                            })
                        });
                        for (att, trust, hist) in combos {
                            cases += 1;
                            let set = CheckSet {
                                proof: proof.clone(),
                                envelope: Some(EnvelopeChecks {
                                    signature: sig.clone(),
                                    anchored_bytes: bytes.clone(),
                                    source_of_truth: live.clone(),
                                    ario_attestation: att.clone(),
                                    signer_trusted: trust.clone(),
                                    anchor_history: hist.clone(),
                                }),
                            };
                            let r = rows(kind, &set);
                            let s = status(&set, &r);
                            assert_eq!(r.len(), 6);
                            let hist_ok = hist.ok() == Some(true)
                                || hist.not_run_cause() == Some(NotRunCause::HistoryNotApplicable);
                            let trust_ok = trust.ok() == Some(true)
                                || trust.not_run_cause() == Some(NotRunCause::NoTrustPolicy);
                            let no_surface =
                                live.not_run_cause() == Some(NotRunCause::NoLiveSurface);
                            let live_ok = live.ok() == Some(true) || no_surface;
                            let all_pass = proof.ok() == Some(true)
                                && sig.ok() == Some(true)
                                && bytes.ok() == Some(true)
                                && live_ok
                                && att.fail_reason() != Some(FailReason::AttestationInvalid)
                                && trust_ok
                                && hist_ok;
                            let any_fail = proof.ok() == Some(false)
                                || sig.ok() == Some(false)
                                || bytes.ok() == Some(false)
                                || live.ok() == Some(false)
                                || att.fail_reason() == Some(FailReason::AttestationInvalid)
                                || trust.ok() == Some(false)
                                || hist.ok() == Some(false);
                            let want = if any_fail {
                                Status::Failed
                            } else if all_pass {
                                Status::Verified
                            } else {
                                Status::Undetermined
                            };
                            assert_eq!(
                                s, want,
                                "{kind:?} {proof:?} {sig:?} {bytes:?} {live:?} {att:?}"
                            );
                            let label = kind.map_or("Record Matches", EventKind::record_label);
                            assert_eq!(r[1].label, label);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(
        cases,
        (EventKind::ALL.len() + 1) * 2 * 4 * 4 * 4 * 4 * 4 * 4
    );
}

#[test]
fn a_check_that_could_not_run_never_shows_as_passed() {
    let set = CheckSet {
        proof: found(),
        envelope: Some(EnvelopeChecks {
            signature: Check::passed(""),
            anchored_bytes: Check::passed(""),
            source_of_truth: Check::not_run(NotRunCause::MlflowUnreachable, "MLflow down"),
            ario_attestation: Check::not_run(NotRunCause::AttestationNotEnabled, "off"),
            signer_trusted: no_policy(),
            anchor_history: no_history(),
        }),
    };
    let r = rows(Some(EventKind::Training), &set);
    assert_eq!(r[1].outcome, Outcome::Undetermined);
    assert_eq!(r[1].detail, "MLflow down");
    assert_eq!(r[5].outcome, Outcome::Undetermined);
    assert!(!r[5].decisive);
    assert_eq!(
        r[4].outcome,
        Outcome::NotApplicable,
        "no single anchor to compare"
    );
    assert!(!r[4].decisive);
    assert_eq!(
        r[3].outcome,
        Outcome::NotApplicable,
        "no policy: not checked"
    );
    assert!(!r[3].decisive);
    assert_eq!(status(&set, &r), Status::Undetermined);
}

#[test]
fn events_without_a_live_surface_pass_on_their_bytes() {
    let set = CheckSet {
        proof: found(),
        envelope: Some(EnvelopeChecks {
            signature: Check::passed(""),
            anchored_bytes: Check::passed(""),
            source_of_truth: Check::not_run(NotRunCause::NoLiveSurface, ""),
            ario_attestation: Check::passed("att"),
            signer_trusted: no_policy(),
            anchor_history: no_history(),
        }),
    };
    let r = rows(Some(EventKind::StageTransition), &set);
    assert_eq!(r[1].label, "Promotion Record Matches");
    assert_eq!(r[1].outcome, Outcome::Pass);
    assert!(r[1].detail.contains("no live MLflow surface"));
    assert_eq!(status(&set, &r), Status::Verified);
}

#[test]
fn a_proof_that_was_not_obtained_decides_alone() {
    for (proof, want) in [
        (
            Check::not_run(NotRunCause::GatewayUnavailable, "down"),
            Status::Unavailable,
        ),
        (
            Check::failed(FailReason::NotAnEnvelope, "junk"),
            Status::Malformed,
        ),
        (
            Check::failed(FailReason::EnvelopeNotFound, "404"),
            Status::Failed,
        ),
    ] {
        let set = CheckSet {
            proof,
            envelope: None,
        };
        let r = rows(None, &set);
        assert_eq!(r.len(), 1);
        assert_eq!(status(&set, &r), want);
    }
}

#[test]
fn exit_codes_follow_the_status() {
    let codes: Vec<u8> = Status::ALL.map(Status::exit_code).to_vec();
    assert_eq!(codes, vec![0, 1, 2, 2, 3, 3]);
    assert_eq!(status_of_rows(&[]), Status::Undetermined);
}
