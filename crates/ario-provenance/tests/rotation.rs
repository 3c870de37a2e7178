//! Key rotation: the retiring key anchors a handover naming its successor;
//! a verifier that pins the retired key follows it only when told to, and
//! only from a key it trusts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use ario_provenance::trust::TrustPolicy;
use ario_provenance::verify::check::{CheckOutcome, FailReason};
use ario_provenance::{AnchorRunOptions, ProvenanceError, Status, Verifier};

fn policy(key: &str, follow: bool) -> TrustPolicy {
    let text =
        format!("follow_rotations = {follow}\n[[signer]]\nname = \"ci\"\npublic_key = \"{key}\"\n");
    TrustPolicy::parse(&text, Path::new("trust.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verifier_follows_a_trusted_handover_and_nothing_else() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let old = f.prov.public_key_hex();
    let verifier = |p: TrustPolicy| {
        Verifier::new(f.prov.mlflow().clone(), common::gateway(&f.devnet.url())).with_trust(p)
    };
    let run1 = common::iris_run(f.server)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.prov
        .anchor_run(&run1, &AnchorRunOptions::default())
        .await
        .unwrap();

    let r = f.prov.rotate_key("scheduled").await.unwrap();
    assert_eq!(r.retired_public_key, old);
    assert!(
        r.committed.tx_id().is_some(),
        "{:?}",
        r.committed.upload_error
    );
    let handover: serde_json::Value = serde_json::from_slice(&r.payload_bytes).unwrap();
    for k in [
        "retired_public_key",
        "retired_at",
        "new_public_key",
        "reason",
    ] {
        assert!(handover.get(k).is_some(), "{k}");
    }

    // The next process signs with the successor; the retired key is kept.
    let next = common::provenance(f.server.url(), &f.devnet.url(), f.home.path());
    assert_eq!(next.public_key_hex(), r.new_public_key);
    assert!(f
        .home
        .path()
        .join("keys/retired")
        .join(format!("{old}.json"))
        .exists());
    let run2 = common::iris_run(f.server)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    next.anchor_run(&run2, &AnchorRunOptions::default())
        .await
        .unwrap();

    let following = verifier(policy(&old, true));
    let v = following.verify_run(&run2, false).await.unwrap();
    assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
    let trusted = &v.checks.as_ref().unwrap().signer_trusted;
    assert!(trusted.message.contains("successor of ci"), "{trusted:?}");
    assert_eq!(
        following.verify_run(&run1, false).await.unwrap().status,
        Status::Verified
    );

    let strict = verifier(policy(&old, false));
    let v = strict.verify_run(&run2, false).await.unwrap();
    assert_eq!(
        v.checks.as_ref().unwrap().signer_trusted.outcome,
        CheckOutcome::Failed(FailReason::UnknownSigner),
        "without follow_rotations the successor is a stranger"
    );

    // A stranger hands "their" key over: a handover by an untrusted key is not followed.
    let stranger_home = tempfile::tempdir().unwrap();
    let stranger = common::provenance(f.server.url(), &f.devnet.url(), stranger_home.path());
    stranger.rotate_key("takeover").await.unwrap();
    let successor = common::provenance(f.server.url(), &f.devnet.url(), stranger_home.path());
    let run3 = common::iris_run(f.server)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    successor
        .anchor_run(&run3, &AnchorRunOptions::default())
        .await
        .unwrap();
    let v = following.verify_run(&run3, false).await.unwrap();
    assert_eq!(
        v.checks.as_ref().unwrap().signer_trusted.outcome,
        CheckOutcome::Failed(FailReason::UnknownSigner)
    );

    // A key set in the environment is rotated there.
    let mut env_settings = ario_provenance::Settings::from_env();
    env_settings.home = stranger_home.path().join("env");
    env_settings.signing_key = Some("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=".into());
    env_settings.upload = false;
    let env_anchorer = ario_provenance::Anchorer::new(
        f.prov.mlflow().clone(),
        common::gateway(&f.devnet.url()),
        env_settings,
    )
    .unwrap();
    assert!(matches!(
        env_anchorer.rotate_key("x").await,
        Err(ProvenanceError::KeyFromEnvironment)
    ));
}
