#![allow(clippy::unwrap_used)]

use super::*;
use crate::verify::check::CheckOutcome;

const K1: &str = "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6";
const K2: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn policy(extra: &str) -> TrustPolicy {
    let text = format!(
        r#"
[[signer]]
name = "training-ci"
public_key = "{K1}"
not_before = "2026-01-01T00:00:00Z"
not_after = "2027-01-01T00:00:00Z"
retired_at = "2026-09-01T00:00:00Z"
{extra}"#
    );
    TrustPolicy::parse(&text, Path::new("trust.toml")).unwrap()
}

fn outcome(p: &TrustPolicy, key: &str, at: &str) -> CheckOutcome {
    p.judge(Some(key), Some(at), Ok(None)).outcome
}

#[test]
fn key_window_and_signing_time_decide() {
    let p = policy("");
    assert_eq!(p.min_attestation_level, 3);
    use CheckOutcome::*;
    for (key, at, want) in [
        (K1, "2026-06-15T12:00:00.123456+00:00", Passed),
        (
            K1,
            "2025-12-31T23:59:59+00:00",
            Failed(FailReason::KeyNotYetValid),
        ),
        (
            K1,
            "2026-09-01T00:00:01+00:00",
            Failed(FailReason::KeyRetired),
        ),
        (K1, "2027-01-01T00:00:01Z", Failed(FailReason::KeyExpired)),
        (
            K2,
            "2026-06-15T12:00:00Z",
            Failed(FailReason::UnknownSigner),
        ),
        (K1, "yesterday", Failed(FailReason::UnknownSigner)),
    ] {
        assert_eq!(outcome(&p, key, at), want, "{key} {at}");
    }
    assert_eq!(
        outcome(&p, &K1.to_uppercase(), "2026-06-15T12:00:00Z"),
        Passed,
        "keys compare without case"
    );
}

#[test]
fn a_rotated_key_has_one_entry_per_window() {
    let p = policy(&format!(
        "[[signer]]\nname = \"next\"\npublic_key = \"{K1}\"\nnot_before = \"2026-10-01T00:00:00Z\"\n"
    ));
    assert_eq!(
        outcome(&p, K1, "2026-11-01T00:00:00Z"),
        CheckOutcome::Passed,
        "a later window of the same key"
    );
}

#[test]
fn listed_uploaders_are_required() {
    let p = policy("[[uploader]]\naddress = \"owner-a\"\n");
    let at = Some("2026-06-15T12:00:00Z");
    assert_eq!(
        p.judge(Some(K1), at, Ok(Some("owner-a"))).outcome,
        CheckOutcome::Passed
    );
    assert_eq!(
        p.judge(Some(K1), at, Ok(Some("owner-b"))).outcome,
        CheckOutcome::Failed(FailReason::UntrustedUploader)
    );
    assert_eq!(
        p.judge(Some(K1), at, Err("GraphQL down")).outcome,
        CheckOutcome::NotRun(NotRunCause::UploaderUnknown),
        "an uploader that cannot be found out is not a pass"
    );
}

#[test]
fn a_bad_trust_file_is_an_error_never_an_empty_policy() {
    let path = Path::new("t.toml");
    for text in [
        "",
        "min_attestation_level = 3\n",
        "min_attestation_level = 4\n[[signer]]\nname = \"a\"\npublic_key = \"00\"\n",
        "[[signer]]\nname = \"a\"\npublic_key = \"xyz\"\n",
        &format!("[[signer]]\nname = \"a\"\npublic_key = \"{K1}\"\nnot_after = \"soon\"\n"),
        &format!("[[signer]]\nname = \"a\"\npublic_key = \"{K1}\"\nunknown = 1\n"),
        &format!("[[signer]]\nname = \"a\"\npublic_key = \"{K1}\"\nnot_before = \"2027-01-01T00:00:00Z\"\nnot_after = \"2026-01-01T00:00:00Z\"\n"),
        "[[signer\n",
    ] {
        assert!(TrustPolicy::parse(text, path).is_err(), "{text:?}");
    }
    assert!(matches!(
        TrustPolicy::load(Path::new("/nonexistent/trust.toml")),
        Err(TrustFileError::Read { .. })
    ));
}
