//! Stable reason codes: the vocabulary every verdict speaks (see `spec/envelope/v1.md` §8).

use serde::{Serialize, Serializer};

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A stable, spec-defined reason attached to a verdict.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
        }

        impl Reason {
            /// Every reason code, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The wire string of this code.
            pub fn as_str(self) -> &'static str {
                match self { $(Reason::$variant => $text,)* }
            }

            /// Looks a code up by its wire string.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($text => Some(Reason::$variant),)* _ => None }
            }
        }
    };
}

reasons! {
    /// The bytes are not JSON.
    InvalidJson = "invalid_json",
    /// An object repeats a key.
    DuplicateKey = "duplicate_key",
    /// A string holds half of a UTF-16 surrogate pair.
    LoneSurrogate = "lone_surrogate",
    /// Containers nest deeper than 128 levels.
    DepthExceeded = "depth_exceeded",
    /// A number literal overflows a double.
    NumberOutOfRange = "number_out_of_range",
    /// The envelope is not a JSON object.
    EnvelopeNotAJsonObject = "envelope_not_a_json_object",
    /// No `spec_version` and the caller did not accept legacy envelopes.
    MissingSpecVersion = "missing_spec_version",
    /// `spec_version` names a profile or major this kernel does not accept.
    UnsupportedSpecVersion = "unsupported_spec_version",
    /// `payload_hash` is absent or not a string.
    MissingPayloadHash = "missing_payload_hash",
    /// The payload or committed bytes hash to something else.
    PayloadHashMismatch = "payload_hash_mismatch",
    /// No inline payload and no committed bytes: the binding is undetermined.
    PayloadNotSupplied = "payload_not_supplied",
    /// `public_key` is absent or not a string.
    MissingPublicKey = "missing_public_key",
    /// `public_key` is not 32 bytes of hex, or not a valid Ed25519 point.
    MalformedPublicKey = "malformed_public_key",
    /// `signature` is absent or not a string.
    MissingSignature = "missing_signature",
    /// `signature` is not 64 bytes of hex.
    MalformedSignature = "malformed_signature",
    /// The Ed25519 signature does not verify over the signed scope.
    SignatureInvalid = "signature_invalid",
    /// A value inside the envelope has no canonical form.
    CanonicalizationFailed = "canonicalization_failed",
    /// The envelope predates `spec_version` (accepted by the caller's choice).
    LegacyEnvelope = "legacy_envelope",
    /// An evidence bundle carries a body type this kernel cannot verify.
    UnsupportedBodyType = "unsupported_body_type",
    /// An evidence bundle's `body_hash` does not match its body.
    BodyHashMismatch = "body_hash_mismatch",
    /// A signature algorithm other than the one the record allows.
    UnsupportedSignatureAlg = "unsupported_signature_alg",
    /// The source bundle is only referenced and cannot be read offline.
    SourceBundleUnavailable = "source_bundle_unavailable",
    /// The inline source bundle does not hash to `source_bundle_hash`.
    SourceLinkageMismatch = "source_linkage_mismatch",
    /// The cached verdict disagrees with the recomputed one.
    VerdictDisagreement = "verdict_disagreement",
    /// An operator attestation's RSA-PSS signature does not verify.
    AttestationSignatureInvalid = "attestation_signature_invalid",
    /// An attestation's operator is not the address of its key.
    OperatorAddressUnbound = "operator_address_unbound",
    /// An attestation's data hash is not the hash of the checkpoint envelope.
    DataHashUnbound = "data_hash_unbound",
    /// An attestation names a checkpoint the source bundle does not hold.
    CheckpointUnresolved = "checkpoint_unresolved",
    /// A checkpoint's committed Merkle root differs from the bundle's.
    MerkleRootMismatch = "merkle_root_mismatch",
    /// A Merkle inclusion proof does not verify.
    InclusionInvalid = "inclusion_invalid",
    /// Disclosed content does not hash to the committed content hash.
    ContentMismatch = "content_mismatch",
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.as_str()), "duplicate {r}");
            assert_eq!(Reason::from_code(r.as_str()), Some(*r));
            assert!(r
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
