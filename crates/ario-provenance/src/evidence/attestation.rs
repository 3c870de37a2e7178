//! A stage's attestation, checked again from the answer the bundle
//! recorded: the operator's RSA-PSS signature, its address, and that it
//! binds this transaction and these envelope bytes.

use ario_envelope::rsa_pss::RsaJwk;
use ario_gateway::verify_service::VerifyResult;
use serde_json::Value;

use crate::trust::{TrustPolicy, DEFAULT_MIN_ATTESTATION_LEVEL};
use crate::verify::attestation::judge;
use crate::verify::check::AttestationEvidence;
use crate::verify::verdict::{attestation_row, row, Outcome, Row, ATTESTATION};

/// Appended to the detail of a re-checked attestation row.
const FROM_RECORD: &str = "(from the answer recorded in the bundle)";

/// The attestation row of a stage: informative, as in a live verification,
/// unless the recorded attestation is shown false.
pub(super) fn attestation_row_offline(
    st: &Value,
    envelope: &Value,
    trust: Option<&TrustPolicy>,
) -> Row {
    let recorded = st.get("attestation_evidence").filter(|v| !v.is_null());
    let Some(recorded) = recorded else {
        let why = if st.get("attestation").is_some_and(|a| !a.is_null()) {
            "carried as recorded: the bundle lacks the service's signed answer, so it cannot be checked again"
        } else {
            "not checked: the bundle holds no attestation for this stage"
        };
        return row(ATTESTATION, Outcome::Undetermined, why, false);
    };
    let parsed = serde_json::from_value::<AttestationEvidence>(recorded.clone())
        .ok()
        .filter(|ev| ev.answer.is_object());
    let Some(ev) = parsed else {
        return row(
            ATTESTATION,
            Outcome::Undetermined,
            "not checked: the recorded answer is not in the bundle format",
            false,
        );
    };
    let (Some(tx), Ok(bytes)) = (
        st.get("tx_id").and_then(Value::as_str),
        ario_envelope::jcs::canonicalize(envelope),
    ) else {
        return row(
            ATTESTATION,
            Outcome::Undetermined,
            "not checked: the stage has no transaction or no readable envelope",
            false,
        );
    };
    let key = ev.operator_key_n.map(|n| RsaJwk {
        n,
        e: "AQAB".into(),
    });
    let min = trust.map_or(DEFAULT_MIN_ATTESTATION_LEVEL, |t| t.min_attestation_level);
    let check = judge(VerifyResult::from_answer(ev.answer), key, tx, &bytes, min);
    let mut r = attestation_row(&check);
    r.detail = format!("{} {FROM_RECORD}", r.detail);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The attestation vectors: Verify answers, the operator's key, and the
    /// envelope and transaction they are checked against.
    fn cases() -> Vec<Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-vectors/attestations/attestations-01.json"
        );
        let text = std::fs::read_to_string(path).expect("the attestation vectors");
        let v: Value = serde_json::from_str(&text).expect("vectors are JSON");
        v["cases"].as_array().expect("a list of cases").clone()
    }

    fn stage_of(case: &Value) -> (Value, Value) {
        let i = &case["inputs"];
        let bytes = hex::decode(i["envelope_hex"].as_str().unwrap()).unwrap();
        let envelope: Value = serde_json::from_slice(&bytes).unwrap();
        let st = json!({
            "tx_id": i["tx_id"],
            "attestation": {"attestation_level": i["answer"]["level"]},
            "attestation_evidence": {
                "answer": i["answer"],
                "operator_key_n": i["operator_jwk"]["n"],
            },
        });
        (st, envelope)
    }

    #[test]
    fn each_recorded_answer_is_judged_as_a_live_one_would_be() {
        for case in cases() {
            let name = case["name"].as_str().unwrap();
            let (st, envelope) = stage_of(&case);
            let r = attestation_row_offline(&st, &envelope, None);
            let want = match name {
                // The exponent is 65537 here as in the live check (the
                // service's key answer carries only the modulus), so a key
                // presented with e = 1 is never used: with the real
                // exponent the operator's signature holds.
                "valid-level-3" | "exponent-one-forgery" => (Outcome::Pass, false),
                "level-2-signature-not-checked" => (Outcome::Pending, false),
                "no-attestation" => (Outcome::Undetermined, false),
                _ => (Outcome::Fail, true),
            };
            assert_eq!((r.outcome, r.decisive), want, "{name}: {}", r.detail);
            assert!(r.detail.ends_with(FROM_RECORD), "{name}: {}", r.detail);
        }
    }

    #[test]
    fn a_policy_that_accepts_level_2_passes_it_with_the_caveat() {
        let case = cases()
            .into_iter()
            .find(|c| c["name"] == "level-2-signature-not-checked")
            .unwrap();
        let (st, envelope) = stage_of(&case);
        let policy = TrustPolicy {
            min_attestation_level: 2,
            signers: Vec::new(),
            uploaders: Vec::new(),
            follow_rotations: false,
        };
        let r = attestation_row_offline(&st, &envelope, Some(&policy));
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.detail);
        assert!(r.detail.contains("did not check"), "{}", r.detail);
    }

    #[test]
    fn another_envelope_or_transaction_in_the_stage_fails_the_recorded_attestation() {
        let case = cases()
            .into_iter()
            .find(|c| c["name"] == "valid-level-3")
            .unwrap();
        let (st, envelope) = stage_of(&case);
        let mut other = envelope.clone();
        other["event_type"] = json!("model_registered");
        let r = attestation_row_offline(&st, &other, None);
        assert_eq!(
            (r.outcome, r.decisive),
            (Outcome::Fail, true),
            "{}",
            r.detail
        );
        let mut moved = st.clone();
        moved["tx_id"] = json!("x".repeat(43));
        let r = attestation_row_offline(&moved, &envelope, None);
        assert_eq!(
            (r.outcome, r.decisive),
            (Outcome::Fail, true),
            "{}",
            r.detail
        );
    }

    #[test]
    fn without_the_recorded_answer_nothing_is_claimed() {
        let recorded_only = json!({"tx_id": "t", "attestation": {"attestation_level": 3}});
        let none = json!({"tx_id": "t", "attestation": null, "attestation_evidence": null});
        let garbled = json!({"tx_id": "t", "attestation_evidence": {"answer": 1}});
        for st in [recorded_only, none, garbled] {
            let r = attestation_row_offline(&st, &json!({}), None);
            assert_eq!(
                (r.outcome, r.decisive),
                (Outcome::Undetermined, false),
                "{st}"
            );
        }
    }
}
