use super::*;

/// A body and signature produced by MLflow 3.17.2's own signing function.
const BODY: &str = r#"{"entity": "model_version", "action": "created", "timestamp": "2026-12-02T10:00:00+00:00", "data": {"name": "iris", "version": "3", "source": "models:/m-abc", "run_id": null, "tags": {}, "description": null}}"#;
const ID: &str = "5f0c6d2e-1b7a-4c59-9a39-0d3c2f1e8b11";
const TS: &str = "1796205600";
const SIG: &str = "v1,lUIE5GcBkKVoqJXy4GaCI2d95AwiJurWWEnZiyj+Z0M=";

fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> DeliveryHeaders<'a> {
    DeliveryHeaders {
        delivery_id: Some(id),
        timestamp: Some(ts),
        signature: Some(sig),
    }
}

fn secret() -> WebhookSecret {
    WebhookSecret::new("s3cret-value")
}

#[test]
fn mlflow_signature_is_reproduced_and_accepted() {
    assert_eq!(secret().sign(ID, TS, BODY.as_bytes()), SIG);
    let d = check_delivery(
        &secret(),
        &headers(ID, TS, SIG),
        BODY.as_bytes(),
        1796205610,
        300,
    );
    let d = d.unwrap_or_else(|e| unreachable_in_test(&e));
    assert_eq!(d.delivery_id, ID);
    assert_eq!(
        d.event,
        RegistryEvent::VersionCreated {
            name: "iris".into(),
            version: "3".into(),
            source: "models:/m-abc".into(),
            run_id: None
        }
    );
}

fn unreachable_in_test(e: &Refusal) -> Delivery {
    #[allow(clippy::panic)]
    {
        panic!("refused: {e}")
    }
}

#[test]
fn any_changed_byte_or_wrong_secret_is_refused() {
    let now = 1796205600;
    let mut body = BODY.as_bytes().to_vec();
    body[60] ^= 1;
    let check = |s: &WebhookSecret, h: &DeliveryHeaders<'_>, b: &[u8]| {
        check_delivery(s, h, b, now, 300).err()
    };
    assert_eq!(
        check(&secret(), &headers(ID, TS, SIG), &body),
        Some(Refusal::SignatureMismatch)
    );
    assert_eq!(
        check(
            &WebhookSecret::new("other"),
            &headers(ID, TS, SIG),
            BODY.as_bytes()
        ),
        Some(Refusal::SignatureMismatch)
    );
    // The id and the timestamp are signed too.
    let other_id = "5f0c6d2e-1b7a-4c59-9a39-0d3c2f1e8b12";
    assert_eq!(
        check(&secret(), &headers(other_id, TS, SIG), BODY.as_bytes()),
        Some(Refusal::SignatureMismatch)
    );
    assert_eq!(
        check(&secret(), &headers(ID, "1796205601", SIG), BODY.as_bytes()),
        Some(Refusal::SignatureMismatch)
    );
    assert_eq!(
        check(&secret(), &headers(ID, TS, "v2,abc"), BODY.as_bytes()),
        Some(Refusal::BadSignatureFormat)
    );
    // A rotating sender may send two; one match is enough.
    let two = format!("v1,AAAA {SIG}");
    assert!(check(&secret(), &headers(ID, TS, &two), BODY.as_bytes()).is_none());
}

#[test]
fn old_or_future_timestamps_are_refused_before_the_signature_is_trusted() {
    let h = headers(ID, TS, SIG);
    let late = check_delivery(&secret(), &h, BODY.as_bytes(), 1796205600 + 301, 300);
    assert_eq!(
        late.err(),
        Some(Refusal::StaleTimestamp {
            skew_secs: 301,
            tolerance_secs: 300
        })
    );
    let early = check_delivery(&secret(), &h, BODY.as_bytes(), 1796205600 - 400, 300);
    assert!(matches!(early, Err(Refusal::StaleTimestamp { .. })));
    let bad = check_delivery(&secret(), &headers(ID, "-1", SIG), BODY.as_bytes(), 0, 300);
    assert_eq!(bad.err(), Some(Refusal::BadTimestamp));
}

#[test]
fn missing_headers_are_named() {
    let h = DeliveryHeaders {
        delivery_id: Some(ID),
        timestamp: Some(TS),
        signature: None,
    };
    let r = check_delivery(&secret(), &h, BODY.as_bytes(), 1796205600, 300);
    assert_eq!(r.err(), Some(Refusal::MissingHeader(SIGNATURE_HEADER)));
    let r = check_delivery(&secret(), &DeliveryHeaders::default(), b"{}", 0, 300);
    assert_eq!(r.err(), Some(Refusal::MissingHeader(DELIVERY_ID_HEADER)));
}

#[test]
fn signed_bodies_that_are_not_registry_payloads_are_refused() {
    let body = br#"{"entity": "model_version", "action": "created", "data": {"name": 3}}"#;
    let sig = secret().sign(ID, TS, body);
    let r = check_delivery(&secret(), &headers(ID, TS, &sig), body, 1796205600, 300);
    assert!(matches!(r, Err(Refusal::BadBody(_))));
}

#[test]
fn events_parse_by_entity_and_action() {
    let alias = br#"{"entity": "model_version_alias", "action": "created", "data": {"name": "m", "alias": "champion", "version": "2"}}"#;
    assert_eq!(
        RegistryEvent::parse(alias).ok(),
        Some(RegistryEvent::AliasCreated {
            name: "m".into(),
            alias: "champion".into(),
            version: "2".into()
        })
    );
    let other = br#"{"entity": "prompt", "action": "created", "data": {}}"#;
    let e = RegistryEvent::parse(other).ok();
    assert_eq!(e.map(|e| e.wire_name()), Some("prompt.created".to_owned()));
}
