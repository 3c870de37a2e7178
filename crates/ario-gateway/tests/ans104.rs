//! ANS-104 against published vectors, plus round-trip and tamper properties.

// Fixed, known-good fixtures: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ario_envelope::encoding::sha256_hex;
use ario_gateway::ans104::{DataItem, Ed25519Signer, SignatureType, Tag, UnsignedItem};
use proptest::prelude::*;

const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn seed() -> [u8; 32] {
    hex::decode(RFC8032_SEED).unwrap().try_into().unwrap()
}

fn anchor_1_to_32() -> [u8; 32] {
    core::array::from_fn(|i| u8::try_from(i + 1).unwrap())
}

/// turbo-python-sdk's cross-implementation vector (byte-identical with arbundles 1.0.4).
#[test]
fn turbo_sdk_ed25519_vector() {
    let signer = Ed25519Signer::from_seed(seed());
    assert_eq!(
        hex::encode(signer.public_key()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    let item = UnsignedItem {
        data: b"hello-solana".to_vec(),
        tags: vec![Tag::new("App-Name", "ario-solana-ref")],
        target: None,
        anchor: Some(anchor_1_to_32()),
    }
    .sign(&signer)
    .unwrap();
    assert_eq!(
        hex::encode(&item.tag_bytes),
        "02104170702d4e616d651e6172696f2d736f6c616e612d72656600"
    );
    assert_eq!(
        hex::encode(item.signing_message()),
        "82d7633c0ac2ede1bd88934a588fd4b6d6eb966aaec40e4953cc1fd67958d4bf833e56e6b31bf33787c174ea51c3651a"
    );
    let bytes = item.to_bytes();
    assert_eq!(bytes.len(), 187);
    assert_eq!(item.id(), "d_qW35vFlhzQNBWgKQV33yOBWP22m8v0MfW02K2NDas");
    assert_eq!(
        sha256_hex(&bytes),
        "e30e7940c767bf25ac2b41f3561da3a261cf2bb2649cec9e526fa525a2b89957"
    );
    let parsed = DataItem::parse(&bytes).unwrap();
    assert_eq!(parsed, item);
    assert!(parsed.verify().unwrap());
}

#[test]
fn zero_signature_id() {
    // arbundles: the id of an unsigned (all-zero) 65-byte signature
    let item = DataItem {
        signature_type: SignatureType::Ethereum,
        signature: vec![0; 65],
        owner: vec![0; 65],
        target: None,
        anchor: None,
        tag_bytes: vec![],
        tags: vec![],
        data: vec![],
    };
    assert_eq!(item.id(), "mM5C3u9R1AJp1UL1MUvvLHRo1AGtXYUWi_q0wBCPdfc");
    assert!(
        item.verify().is_err(),
        "ethereum items are parsed, not verified"
    );
}

#[test]
fn strict_parsing() {
    let item = UnsignedItem {
        data: b"x".to_vec(),
        anchor: Some([9; 32]),
        ..Default::default()
    }
    .sign(&Ed25519Signer::from_seed([2; 32]))
    .unwrap();
    let bytes = item.to_bytes();
    assert!(DataItem::parse(&bytes[..100]).is_err(), "truncated");
    let mut b = bytes.clone();
    b[98] = 2; // target presence byte
    assert!(DataItem::parse(&b).is_err(), "presence byte 2");
    let mut b = bytes.clone();
    b[0] = 9;
    assert!(DataItem::parse(&b).is_err(), "unknown signature type");
    let mut b = bytes.clone();
    b[132] = 1; // declared tag count, but no tag bytes
    assert!(DataItem::parse(&b).is_err(), "tag count mismatch");
}

fn arb_item() -> impl Strategy<Value = UnsignedItem> {
    (
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(("[A-Za-z-]{1,20}", "[ -~]{1,70}"), 0..8),
        prop::option::of(any::<[u8; 32]>()),
        prop::option::of(any::<[u8; 32]>()),
    )
        .prop_map(|(data, tags, target, anchor)| UnsignedItem {
            data,
            tags: tags.into_iter().map(|(n, v)| Tag::new(n, v)).collect(),
            target,
            anchor,
        })
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(u in arb_item(), seed in any::<[u8; 32]>()) {
        let item = u.sign(&Ed25519Signer::from_seed(seed)).unwrap();
        let parsed = DataItem::parse(&item.to_bytes()).unwrap();
        prop_assert!(parsed.verify().unwrap());
        prop_assert_eq!(parsed, item);
    }

    #[test]
    fn any_single_byte_change_fails(u in arb_item(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let item = u.sign(&Ed25519Signer::from_seed([5; 32])).unwrap();
        let mut bytes = item.to_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let verified = DataItem::parse(&bytes).ok().and_then(|p| p.verify().ok()).unwrap_or(false);
        prop_assert!(!verified, "a change at byte {} still verifies", i);
    }
}
