//! Wallet resolution: the plugin's order, typed errors, 0600 files, never overwrite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ario_gateway::ans104::{DataItem, UnsignedItem};
use ario_gateway::wallet::{
    jwk_from_rsa, resolve, rsa_from_jwk, Chain, Wallet, WalletLoadError, WalletMode,
};

const JWK: &str = include_str!("fixtures/arweave-test-wallet.json");

#[test]
fn configured_path_must_load() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope.json");
    let err = resolve(Some(&missing), None).unwrap_err();
    assert!(matches!(err, WalletLoadError::PathMissing { .. }));
    assert!(err.to_string().contains("does not exist"));
    let garbage = d.path().join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let err = resolve(Some(&garbage), None).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    let partial = d.path().join("partial.json");
    std::fs::write(&partial, r#"{"kty":"RSA","n":"AQAB"}"#).unwrap();
    let err = resolve(Some(&partial), None).unwrap_err();
    assert!(err.to_string().contains("not a complete RSA JWK"), "{err}");
}

#[test]
fn arweave_jwk_loads_and_signs_type_1() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("jwk.json");
    std::fs::write(&p, JWK).unwrap();
    let w = resolve(Some(&p), Some(&d.path().join("default.json"))).unwrap();
    assert_eq!(w.mode, WalletMode::UserConfigured);
    assert_eq!(w.wallet.chain(), Chain::Arweave);
    assert!(!d.path().join("default.json").exists(), "default untouched");
    let item = UnsignedItem {
        data: b"{}".to_vec(),
        anchor: Some([1; 32]),
        ..Default::default()
    }
    .sign(w.wallet.signer())
    .unwrap();
    let parsed = DataItem::parse(&item.to_bytes()).unwrap();
    assert!(parsed.verify().unwrap());
    assert_eq!(parsed.owner_address(), w.wallet.native_address());
    // JWK export round-trips
    let key = rsa_from_jwk(&serde_json::from_str(JWK).unwrap()).unwrap();
    let again = jwk_from_rsa(&key).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(JWK).unwrap()
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn fresh_install_persists_solana_0600_and_reuses_it() {
    let d = tempfile::tempdir().unwrap();
    let default = d.path().join(".ario-mlflow/wallet.json");
    let first = resolve(None, Some(&default)).unwrap();
    assert_eq!(first.mode, WalletMode::Persistent);
    assert_eq!(first.wallet.chain(), Chain::Solana);
    #[cfg(unix)]
    assert_eq!(mode(&default), 0o600);
    let ints: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(&default).unwrap()).unwrap();
    assert_eq!(ints.len(), 64);
    let before = std::fs::read(&default).unwrap();
    let second = resolve(None, Some(&default)).unwrap();
    assert_eq!(second.mode, WalletMode::Persistent);
    assert_eq!(
        second.wallet.native_address(),
        first.wallet.native_address()
    );
    assert_eq!(std::fs::read(&default).unwrap(), before, "never rewritten");
}

#[test]
fn corrupt_default_is_never_overwritten() {
    let d = tempfile::tempdir().unwrap();
    let default = d.path().join("wallet.json");
    std::fs::write(&default, "[1,2,3]").unwrap();
    let w = resolve(None, Some(&default)).unwrap();
    assert_eq!(w.mode, WalletMode::Ephemeral);
    assert_eq!(std::fs::read_to_string(&default).unwrap(), "[1,2,3]");
}

#[test]
fn unwritable_default_gives_ephemeral() {
    let d = tempfile::tempdir().unwrap();
    let blocker = d.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let w = resolve(None, Some(&blocker.join("wallet.json"))).unwrap();
    assert_eq!(w.mode, WalletMode::Ephemeral);
}

#[test]
fn existing_rsa_default_is_reused_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let default = d.path().join("wallet.json");
    std::fs::write(&default, JWK).unwrap();
    let w = resolve(None, Some(&default)).unwrap();
    assert_eq!(w.mode, WalletMode::Persistent);
    assert_eq!(w.wallet.chain(), Chain::Arweave);
    assert_eq!(std::fs::read_to_string(&default).unwrap(), JWK);
    assert_eq!(
        Wallet::from_json_text(JWK, "x").unwrap().native_address(),
        w.wallet.native_address()
    );
}
