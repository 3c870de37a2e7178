//! `test-vectors/trust/`: the trust decision (key × window × signing time ×
//! uploader → outcome and code), for kernels that implement trust files.

use ario_provenance::trust::TrustPolicy;
use ario_provenance::verify::check::CheckOutcome;
use serde_json::{json, Value};

const K1: &str = "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6";
const K2: &str = "9e3b4f1c8a6d2e5f7b0a9c1e3f5a7d2e4c6f8b0a1d3e5f7a9b1c2d4e6f8a0b3c";
const K3: &str = "4cb5fbb1f6cf83c54213b6692b88a4d4922eaa0987d76f1e2f5fd2f33b53d72e";

const POLICY: &str = r#"min_attestation_level = 3

[[signer]]
name = "training-ci"
public_key = "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6"
not_before = "2026-01-01T00:00:00Z"
not_after = "2027-01-01T00:00:00Z"
retired_at = "2026-09-01T00:00:00Z"

[[signer]]
name = "training-ci-next"
public_key = "9e3b4f1c8a6d2e5f7b0a9c1e3f5a7d2e4c6f8b0a1d3e5f7a9b1c2d4e6f8a0b3c"
not_before = "2026-09-01T00:00:00Z"

[[uploader]]
address = "owner-a"
"#;

fn outcome(o: CheckOutcome) -> (&'static str, Option<&'static str>) {
    match o {
        CheckOutcome::Passed => ("passed", None),
        CheckOutcome::Failed(r) => ("failed", Some(r.code())),
        CheckOutcome::NotRun(c) => ("not_run", Some(c.code())),
    }
}

/// The vector file.
pub(crate) fn trust_decisions() -> anyhow::Result<Value> {
    let policy = TrustPolicy::parse(POLICY, std::path::Path::new("trust.toml"))?;
    let mut cases = Vec::new();
    let uploaders: [(Value, Result<Option<&str>, &str>); 3] = [
        (json!("owner-a"), Ok(Some("owner-a"))),
        (json!("owner-b"), Ok(Some("owner-b"))),
        (Value::Null, Err("the uploader could not be found out")),
    ];
    for (key, at) in [
        (K1, "2026-06-15T12:00:00.123456+00:00"),
        (K1, "2025-12-31T23:59:59Z"),
        (K1, "2026-09-01T00:00:00Z"),
        (K1, "2026-09-01T00:00:00.000001Z"),
        (K1, "2027-01-01T00:00:01Z"),
        (K2, "2026-08-31T23:59:59Z"),
        (K2, "2030-01-01T00:00:00+02:00"),
        (K3, "2026-06-15T12:00:00Z"),
        (K1, "not a time"),
    ] {
        for (owner_json, owner) in &uploaders {
            let c = policy.judge(Some(key), Some(at), *owner);
            let (result, code) = outcome(c.outcome);
            cases.push(json!({
                "public_key": key, "signed_at": at, "uploader": owner_json,
                "expected": {"outcome": result, "code": code},
            }));
        }
    }
    Ok(json!({
        "vector_id": "trust-decisions-01",
        "description": "The Signer Trusted decision of one trust file for keys, signing times and uploaders (null uploader: it could not be found out)",
        "policy_toml": POLICY,
        "cases": cases,
    }))
}
