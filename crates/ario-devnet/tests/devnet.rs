//! The gateway clients against the devnet: the real wire protocol, real
//! signatures, injected faults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use ario_devnet::{Devnet, DevnetOptions, Faults};
use ario_gateway::ans104::{DataItem, Ed25519Signer, ItemSigner, UnsignedItem};
use ario_gateway::config::{GatewayConfig, RetryPolicy};
use ario_gateway::fetch::{FetchError, GatewayCause, GatewayReader};
use ario_gateway::http::RequestFailure;
use ario_gateway::turbo::{envelope_tags, TurboClient, UploadError};
use ario_gateway::verify_service::{check_attestation, VerifyClient};
use ario_gateway::verify_status::{Credential, Outcome, VerifyStatusClient, VerifyStatusError};
use ario_gateway::wallet::Wallet;
use serde_json::{json, Value};

/// Devnet keys are generated once per test binary and copied into each data dir.
fn keys_template() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ario-devnet-keys-{}", std::process::id()));
        for k in ["turbo-receipt.jwk.json", "verify-operator.jwk.json"] {
            ario_devnet::store::load_or_create_key(&dir.join("keys").join(k), 2048).unwrap();
        }
        dir
    })
}

async fn devnet() -> (Devnet, tempfile::TempDir) {
    devnet_with(|_| {}).await
}

async fn devnet_with(f: impl FnOnce(&mut DevnetOptions)) -> (Devnet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    for k in ["turbo-receipt.jwk.json", "verify-operator.jwk.json"] {
        std::fs::copy(
            keys_template().join("keys").join(k),
            dir.path().join("keys").join(k),
        )
        .unwrap();
    }
    let mut opts = DevnetOptions::new(dir.path());
    f(&mut opts);
    (Devnet::start(opts).await.unwrap(), dir)
}

fn fast(mut c: GatewayConfig) -> GatewayConfig {
    c.retry = RetryPolicy {
        max_retries: 2,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    };
    // Short backoff, but timeouts a loaded machine cannot hit by accident:
    // a timed-out request would be retried and change the counts asserted.
    c.fetch_timeout = Duration::from_secs(15);
    c.upload_timeout = Duration::from_secs(30);
    c.fetch_deadline = Duration::from_secs(60);
    c
}

fn config_for(d: &Devnet) -> GatewayConfig {
    let mut c = fast(GatewayConfig::default().with_devnet(&d.url()));
    c.receipt_signer = Some(d.receipt_signer());
    c
}

fn envelope() -> Value {
    json!({"spec_version": "ario.mlflow/v1", "event_id": "0b7e3f52-9d41-4c2a-b6e8-5a1f2c3d4e5f", "event_type": "dataset",
           "previous_hash": "GENESIS", "payload_hash": "00".repeat(32)})
}

fn item_for(signer: &dyn ItemSigner) -> DataItem {
    let env = envelope();
    UnsignedItem {
        data: ario_envelope::canonicalize(&env).unwrap(),
        tags: envelope_tags(&env, "0.1.0", &[]),
        anchor: Some(rand::random()),
        ..Default::default()
    }
    .sign(signer)
    .unwrap()
}

fn arweave_wallet() -> Wallet {
    Wallet::from_json_text(include_str!("fixtures/arweave-test-wallet.json"), "fixture").unwrap()
}

#[tokio::test]
async fn upload_fetch_status_graphql_and_persistence() {
    let (d, dir) = devnet().await;
    let cfg = config_for(&d);
    let turbo = TurboClient::new(cfg.clone());
    for wallet in [
        Wallet::Solana(Ed25519Signer::from_seed([4; 32])),
        arweave_wallet(),
    ] {
        let item = item_for(wallet.signer());
        let up = turbo.upload(&item).await.unwrap();
        assert_eq!(up.id, item.id());
        let receipt = up.receipt.unwrap();
        assert!(receipt.signature_valid());
        assert_eq!(receipt.owner, wallet.normalized_address());
        let again = turbo.upload(&item).await.unwrap();
        assert!(
            again.receipt.is_none(),
            "a duplicate is accepted as already known (202)"
        );
        let fetched = GatewayReader::new(cfg.clone())
            .fetch_envelope(&item.id())
            .await
            .unwrap();
        assert_eq!(fetched.bytes, item.data);
        assert_eq!(
            turbo.status(&item.id()).await.unwrap().unwrap().status,
            "FINALIZED"
        );
    }
    assert!(turbo
        .status("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .unwrap()
        .is_none());

    // GraphQL: find by tag, paged
    let q = json!({"query": "query($t: [String!]!) { transactions(tags: [{name: \"Event-Type\", values: $t}], first: 1) { pageInfo { hasNextPage } edges { cursor node { id owner { address } tags { name value } } } } }",
                   "variables": {"t": ["dataset"]}});
    let r: Value = reqwest::Client::new()
        .post(format!("{}/graphql", d.url()))
        .json(&q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conn = &r["data"]["transactions"];
    assert_eq!(conn["edges"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);

    // restart on the same data dir: items survive
    let ids: Vec<String> = d.store().all().iter().map(|s| s.id.clone()).collect();
    d.shutdown().await;
    let d2 = Devnet::start(DevnetOptions::new(dir.path())).await.unwrap();
    for id in &ids {
        let c = config_for(&d2);
        assert!(GatewayReader::new(c).fetch_envelope(id).await.is_ok());
    }
}

#[tokio::test]
async fn devnet_rejects_what_turbo_rejects() {
    let (d, _dir) = devnet_with(|o| o.free_limit_bytes = Some(600)).await;
    let turbo = TurboClient::new(config_for(&d));
    let mut item = item_for(&Ed25519Signer::from_seed([6; 32]));
    let last = item.data.len() - 2;
    item.data[last] ^= 1;
    match turbo.upload(&item).await {
        Err(UploadError::Rejected {
            status: 400,
            message,
        }) => assert!(message.contains("Invalid Data Item"), "{message}"),
        other => panic!("{other:?}"),
    }
    let mut big = item_for(&Ed25519Signer::from_seed([6; 32]));
    big.data = vec![b' '; 700];
    let big = UnsignedItem {
        data: big.data,
        tags: big.tags,
        anchor: big.anchor,
        target: None,
    }
    .sign(&Ed25519Signer::from_seed([6; 32]))
    .unwrap();
    assert!(matches!(
        turbo.upload(&big).await,
        Err(UploadError::Rejected { status: 402, .. })
    ));
}

#[tokio::test]
async fn receipt_from_an_unpinned_signer_is_refused() {
    let (d, _dir) = devnet().await;
    let mut cfg = config_for(&d);
    cfg.receipt_signer = Some("someone-else".into());
    let err = TurboClient::new(cfg)
        .upload(&item_for(&Ed25519Signer::from_seed([8; 32])))
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::InvalidReceipt(_)), "{err:?}");
}

/// Uploads one item to `d` and returns its id.
async fn seed(d: &Devnet) -> (String, Vec<u8>) {
    let item = item_for(&Ed25519Signer::from_seed([9; 32]));
    TurboClient::new(config_for(d)).upload(&item).await.unwrap();
    (item.id(), item.data)
}

fn reader(gateways: Vec<String>) -> GatewayReader {
    let mut c = fast(GatewayConfig::default());
    c.gateways = gateways;
    GatewayReader::new(c)
}

fn count(d: &Devnet, path_part: &str) -> usize {
    d.requests()
        .iter()
        .filter(|r| r.path.contains(path_part))
        .count()
}

#[tokio::test]
async fn falls_back_in_order_and_retries_only_retryable() {
    let (good, _g) = devnet().await;
    let (id, data) = seed(&good).await;
    let (flaky, _f) = devnet().await;
    flaky.set_faults(Faults {
        error_500_share: 1.0,
        ..Default::default()
    });
    let (empty, _e) = devnet().await;
    let r = reader(vec![flaky.url(), empty.url(), good.url()]);
    let got = r.fetch_envelope(&id).await.unwrap();
    assert_eq!(got.bytes, data);
    assert_eq!(got.gateway, good.url());
    assert_eq!(count(&flaky, &id), 3, "500 is retried: 1 + 2 retries");
    assert_eq!(count(&empty, &id), 1, "404 is not retried");
    assert_eq!(count(&good, &format!("/raw/{id}")), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_in_both_forms() {
    let (d, _dir) = devnet().await;
    let (id, _) = seed(&d).await;
    for as_date in [false, true] {
        d.set_faults(Faults {
            fail_next: 1,
            retry_after_secs: Some(2),
            retry_after_as_date: as_date,
            ..Default::default()
        });
        let start = std::time::Instant::now();
        reader(vec![d.url()]).fetch_envelope(&id).await.unwrap();
        // An HTTP-date has one-second resolution, so it can be up to 1 s shorter.
        let floor = if as_date {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(2)
        };
        assert!(
            start.elapsed() >= floor,
            "waited only {:?} (date form: {as_date})",
            start.elapsed()
        );
    }
}

#[tokio::test]
async fn backoff_stops_at_the_deadline() {
    let (d, _dir) = devnet().await;
    d.set_faults(Faults {
        error_429_share: 1.0,
        retry_after_secs: Some(30),
        ..Default::default()
    });
    let mut c = fast(GatewayConfig::default());
    c.gateways = vec![d.url()];
    c.retry = RetryPolicy {
        max_retries: 10,
        base_backoff: Duration::from_secs(5),
        max_backoff: Duration::from_secs(60),
    };
    c.fetch_deadline = Duration::from_secs(3);
    let start = std::time::Instant::now();
    let err = GatewayReader::new(c)
        .fetch_envelope(&"A".repeat(43))
        .await
        .unwrap_err();
    match &err {
        FetchError::AllFailed { causes, .. } => {
            assert!(
                matches!(
                    causes[0].1,
                    GatewayCause::Request(RequestFailure::Deadline { attempts: 1 })
                ),
                "{err}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "a 30 s Retry-After past the deadline is not waited out"
    );
}

#[tokio::test]
async fn oversized_truncated_and_hung_bodies_fail_over() {
    let (good, _g) = devnet().await;
    let (id, data) = seed(&good).await;
    let (huge, _h) = devnet().await;
    huge.set_faults(Faults {
        oversize_bytes: Some(1 << 30),
        ..Default::default()
    });
    let (cut, _c) = devnet().await;
    let (_cid, _) = seed(&cut).await;
    cut.set_faults(Faults {
        truncate: true,
        path_prefix: Some("/raw".into()),
        ..Default::default()
    });
    let (hung, _u) = devnet().await;
    hung.set_faults(Faults {
        hang: true,
        ..Default::default()
    });
    let mut c = fast(GatewayConfig::default());
    c.gateways = vec![huge.url(), cut.url(), hung.url(), good.url()];
    c.retry.max_retries = 0;
    // Long enough for a loaded machine to serve the good gateway; the hung one costs this once.
    c.fetch_timeout = Duration::from_secs(10);
    let got = GatewayReader::new(c.clone())
        .fetch_envelope(&id)
        .await
        .unwrap();
    assert_eq!(got.bytes, data);
    c.gateways.pop();
    match GatewayReader::new(c).fetch_envelope(&id).await.unwrap_err() {
        FetchError::AllFailed { causes, .. } => {
            assert!(
                matches!(
                    causes[0].1,
                    GatewayCause::Request(RequestFailure::TooLarge { .. })
                ),
                "{causes:?}"
            );
            assert_eq!(causes.len(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn all_gateways_down_is_one_typed_error_naming_each() {
    let (a, _a) = devnet().await;
    a.set_faults(Faults {
        down: true,
        ..Default::default()
    });
    let closed = ario_test_support::closed_addr();
    let r = reader(vec![a.url(), format!("http://{closed}")]);
    let err = r.fetch_envelope(&"B".repeat(43)).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&a.url()) && text.contains(&closed.to_string()),
        "{text}"
    );
    assert!(matches!(
        r.fetch_envelope("not-an-id").await,
        Err(FetchError::InvalidTxId(_))
    ));
}

#[tokio::test]
async fn verify_attestation_is_checked_not_trusted() {
    let (d, _dir) = devnet().await;
    let (id, data) = seed(&d).await;
    let cfg = config_for(&d);
    let v = VerifyClient::from_config(&cfg).unwrap();
    assert!(v.health().await);
    let r = v
        .poll(&id, 3, Duration::from_secs(30), Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(r.level, Some(3));
    let key = v
        .operator_key(r.verification_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    let owner = Wallet::Solana(Ed25519Signer::from_seed([9; 32])).normalized_address();
    let check = check_attestation(&r, Some(&key), &id, &data, Some(&owner));
    assert!(check.passed(), "{check:?}");
    assert_eq!(
        check.operator.as_deref(),
        Some(d.operator_address().as_str())
    );
    // a different envelope, or a forged payload, does not pass
    assert_eq!(
        check_attestation(&r, Some(&key), &id, b"{}", Some(&owner)).data_hash_bound,
        Some(false)
    );
    let mut forged = r.clone();
    forged.raw["attestation"]["payload"]["level"] = json!(2);
    assert_eq!(
        check_attestation(&forged, Some(&key), &id, &data, Some(&owner)).signature_ok,
        Some(false)
    );
    // level capped below 3: never passes
    d.set_faults(Faults {
        verify_level_cap: Some(2),
        ..Default::default()
    });
    let low = v.submit(&id).await.unwrap();
    assert!(!check_attestation(&low, Some(&key), &id, &data, Some(&owner)).passed());
    // unknown tx: level 1, no attestation
    let none = v.submit(&"C".repeat(43)).await.unwrap();
    assert_eq!((none.level, none.status.as_str()), (Some(1), "not_found"));
}

#[tokio::test]
async fn verify_status_gate_and_no_secret_on_redirect() {
    let status = json!({"asset_id": "models/fraud v2", "tenant_id": "t", "agent_id": "a", "outcome": "verified",
                        "last_verified_at": null, "max_age": 60, "stale": false, "policy_hash": "p", "current_tx_id": null, "extra": 1});
    let (gate, _g) = devnet_with(|o| {
        o.verify_status = Some((
            "s3cret".into(),
            [("models/fraud v2".to_owned(), status.clone())]
                .into_iter()
                .collect(),
        ))
    })
    .await;
    let c = VerifyStatusClient::new(&gate.url(), Credential::Secret("s3cret".to_owned().into()));
    let s = c.get("models/fraud v2", None).await.unwrap();
    assert_eq!(s.outcome, Outcome::Verified);
    assert!(gate
        .requests()
        .iter()
        .any(|r| r.path == "/v1/verify-status/models%2Ffraud%20v2"));
    let wrong = VerifyStatusClient::new(&gate.url(), Credential::Secret("nope".to_owned().into()));
    assert!(matches!(
        wrong.get("models/fraud v2", None).await,
        Err(VerifyStatusError::Auth { .. })
    ));
    assert!(matches!(
        c.get("other", None).await,
        Err(VerifyStatusError::UnknownAsset { .. })
    ));
    assert!(!format!("{c:?}").contains("s3cret"));

    let (elsewhere, _e) = devnet().await;
    gate.set_faults(Faults {
        redirect_to: Some(elsewhere.url()),
        ..Default::default()
    });
    let err = c.get("models/fraud v2", None).await.unwrap_err();
    assert!(
        matches!(err, VerifyStatusError::Transport { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("s3cret"));
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect target never receives a request"
    );
}
