//! The attestation check: ask ar.io Verify about the transaction and check
//! the operator's RSA-PSS signature and what it binds.

use ario_envelope::rsa_pss::RsaJwk;
use ario_gateway::verify_service::{
    check_attestation, VerifyClient, VerifyResult, VerifyServiceError,
};

use super::check::{Attestation, AttestationEvidence, Check, FailReason, NotRunCause};
use crate::trust::DEFAULT_MIN_ATTESTATION_LEVEL;
use crate::verifier::Verifier;

impl Verifier {
    /// The attestation check of the envelope at `tx_id`.
    pub(crate) async fn attestation(&self, tx_id: &str, envelope_bytes: &[u8]) -> Check {
        let Some(client) = VerifyClient::from_config(self.gateway()) else {
            return Check::not_run(
                NotRunCause::AttestationNotEnabled,
                "ario_verify_not_enabled",
            );
        };
        let result = match client.submit(tx_id).await {
            Ok(r) => r,
            Err(VerifyServiceError::Request(e)) => {
                return Check::not_run(
                    NotRunCause::AttestationUnreachable,
                    format!("ar.io Verify unreachable: {e}"),
                )
            }
            Err(e) => {
                return Check::failed(
                    FailReason::AttestationNoResult,
                    format!("ario_verify_returned_no_result: {e}"),
                )
            }
        };
        let min = self
            .trust()
            .map_or(DEFAULT_MIN_ATTESTATION_LEVEL, |t| t.min_attestation_level);
        // The operator's key is only worth asking for when the level counts.
        let key = match &result.verification_id {
            Some(id) if result.level.unwrap_or(0) >= min => {
                client.operator_key(id).await.ok().flatten()
            }
            _ => None,
        };
        judge(result, key, tx_id, envelope_bytes, min)
    }
}

/// The attestation check over an answer in hand, live or recorded in an
/// evidence bundle: the level against `min`, then the operator's signature
/// and what it binds (the transaction, the envelope's bytes, the owner the
/// answer names).
pub(crate) fn judge(
    result: VerifyResult,
    key: Option<RsaJwk>,
    tx_id: &str,
    envelope_bytes: &[u8],
    min: u8,
) -> Check {
    let level = result.level.unwrap_or(0);
    let by = result
        .attested_by
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let details = Attestation {
        attestation_level: level,
        attested_by: result.attested_by.clone(),
        attested_at: result.attested_at.clone(),
        report_url: result.report_url.clone(),
        min_attestation_level: min,
        evidence: Some(Box::new(AttestationEvidence {
            answer: result.raw.clone(),
            operator_key_n: key.as_ref().map(|k| k.n.clone()),
        })),
    };
    if level < min {
        return Check::failed(
            FailReason::AttestationBelowThreshold,
            format!("attestation_level_below_threshold: level {level} (by {by})"),
        )
        .with_attestation(details);
    }
    // The attested payload must name the owner the service reports.
    let Some(owner) = result.owner_address.clone() else {
        return Check::not_run(
            NotRunCause::AttestationIncomplete,
            format!("level {level} by {by}; the answer names no owner, so what the attestation binds cannot be checked"),
        )
        .with_attestation(details);
    };
    let chk = check_attestation(&result, key.as_ref(), tx_id, envelope_bytes, Some(&owner));
    let bound = [
        chk.signature_ok,
        chk.operator_bound,
        chk.data_hash_bound,
        chk.tx_bound,
    ];
    let check = if bound.contains(&Some(false)) {
        Check::failed(
            FailReason::AttestationInvalid,
            format!(
                "attestation by {by} does not hold: operator signature {:?}, operator {:?}, data hash {:?}, tx {:?}",
                chk.signature_ok, chk.operator_bound, chk.data_hash_bound, chk.tx_bound
            ),
        )
    } else if bound.contains(&None) {
        Check::not_run(
            NotRunCause::OperatorKeyUnavailable,
            format!("level {level} by {by}; the operator's signature could not be checked"),
        )
    } else {
        let caveat = if level < 3 {
            " — level below 3 accepted by the trust policy: the operator did not check the item's signature"
        } else {
            ""
        };
        Check::passed(format!(
            "Verified by {by} (level {level}, operator signature checked){caveat}"
        ))
    };
    check.with_attestation(details)
}
