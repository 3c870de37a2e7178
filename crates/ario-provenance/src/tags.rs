//! The `ario.*` tag names: a contract shared with the Python plugin.

/// Envelope public key (hex).
pub const PUBLIC_KEY: &str = "ario.public_key";
/// `anchored`, `signed` or `verified`.
pub const VERIFY_STATUS: &str = "ario.verify_status";
/// The event's payload hash.
pub const PAYLOAD_HASH: &str = "ario.payload_hash";
/// Directory digest of the logged model.
pub const ARTIFACT_HASH: &str = "ario.artifact_hash";
/// Training transaction.
pub const TRAINING_TX: &str = "ario.training_tx";
/// `https://{gateway_host}/{tx}`.
pub const ARWEAVE_URL: &str = "ario.arweave_url";
/// How the upload wallet was obtained.
pub const WALLET_MODE: &str = "ario.wallet_mode";
/// `solana` or `arweave`.
pub const WALLET_TYPE: &str = "ario.wallet_type";
/// Prefix of the per-dataset anchor tags on a run.
pub const DATASET_ANCHOR_TX_PREFIX: &str = "ario.dataset_anchor_tx.";
/// Registered-model chain head (a payload hash).
pub const LAST_TRAINING_HASH: &str = "ario.last_training_hash";
/// Registration transaction (model version).
pub const REGISTRATION_TX: &str = "ario.registration_tx";
/// `"true"`/`"false"` (model version / trace).
pub const ARTIFACT_VERIFIED: &str = "ario.artifact_verified";
/// Latest promotion payload hash.
pub const PROMOTION_PAYLOAD_HASH: &str = "ario.promotion_payload_hash";
/// Latest promotion transaction.
pub const PROMOTION_TX: &str = "ario.promotion_tx";
/// Latest alias-move payload hash (ours).
pub const ALIAS_PAYLOAD_HASH: &str = "ario.alias_payload_hash";
/// Latest alias-move transaction (ours).
pub const ALIAS_TX: &str = "ario.alias_tx";
/// The exact prediction payload (second surface).
pub const PAYLOAD_JSON: &str = "ario.payload_json";
/// Decision id.
pub const DECISION_ID: &str = "ario.decision_id";
/// Model name on a trace.
pub const MODEL_NAME: &str = "ario.model_name";
/// Model version on a trace.
pub const MODEL_VERSION: &str = "ario.model_version";
/// Input hash on a trace.
pub const INPUT_HASH: &str = "ario.input_hash";
/// Output hash on a trace.
pub const OUTPUT_HASH: &str = "ario.output_hash";
/// `anchoring`, `anchored`, `failed` or `disabled`.
pub const PROOF_STATUS: &str = "ario.proof_status";
/// Prediction transaction.
pub const PREDICTION_TX: &str = "ario.prediction_tx";
/// Legacy read-only alias of [`PREDICTION_TX`].
pub const ARWEAVE_TX_LEGACY: &str = "ario.arweave_tx";
/// Attestation level after a verification.
pub const ATTESTATION_LEVEL: &str = "ario.attestation_level";
/// Verify report URL.
pub const REPORT_URL: &str = "ario.report_url";
/// Attesting gateway.
pub const ATTESTED_BY: &str = "ario.attested_by";
/// Attestation time.
pub const ATTESTED_AT: &str = "ario.attested_at";
/// When our verifier last confirmed every decisive check (ours).
pub const VERIFIED_AT: &str = "ario.verified_at";
/// When a verification last failed (ours).
pub const VERIFY_FAILED_AT: &str = "ario.verify_failed_at";
/// Which row failed and why, at the last failed verification (ours).
pub const VERIFY_FAILURE: &str = "ario.verify_failure";
/// The transaction of the latest key rotation, as `keys rotate` reports it
/// (a key belongs to no MLflow object, so no object carries this tag).
pub const ROTATION_TX: &str = "ario.rotation_tx";
/// The transaction of a model version's latest decision checkpoint (ours).
pub const CHECKPOINT_TX: &str = "ario.checkpoint_tx";
