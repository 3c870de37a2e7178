#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn lifecycle_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("outbox.sqlite");
    let wb = Writeback::Dataset {
        run_id: None,
        name: "iris".into(),
    };
    Outbox::open(&p)
        .unwrap()
        .put("e1", "dataset", "{}", &wb, None)
        .unwrap();
    let ob = Outbox::open(&p).unwrap();
    assert!(
        ob.put("e1", "dataset", "{}", &wb, None).is_err(),
        "event ids are unique"
    );
    ob.attempt_failed("e1", "gateway down", false).unwrap();
    let it = ob.get("e1").unwrap().unwrap();
    assert_eq!(
        (it.state, it.attempts, it.last_error.as_deref()),
        (OutboxState::Pending, 1, Some("gateway down"))
    );
    assert_eq!(ob.list(&[OutboxState::Pending]).unwrap().len(), 1);
    ob.uploaded("e1", "tx", Some("{}")).unwrap();
    ob.written_back("e1", None).unwrap();
    let it = ob.get("e1").unwrap().unwrap();
    assert_eq!(
        (it.state, it.attempts, it.tx_id.as_deref()),
        (OutboxState::Anchored, 2, Some("tx"))
    );
    assert!(ob
        .list(&[OutboxState::Pending, OutboxState::Failed])
        .unwrap()
        .is_empty());
}

#[test]
fn the_first_data_item_is_kept_and_leases_exclude_live_holders() {
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(dir.path().join("outbox.sqlite")).unwrap();
    let wb = Writeback::Dataset {
        run_id: None,
        name: "d".into(),
    };
    ob.put("e1", "dataset", "{}", &wb, None).unwrap();
    assert_eq!(ob.item("e1").unwrap(), None);
    assert_eq!(ob.keep_item("e1", b"first").unwrap(), b"first");
    assert_eq!(ob.keep_item("e1", b"second").unwrap(), b"first");

    assert!(ob.lease("e1", Duration::from_secs(60)).unwrap());
    assert!(
        ob.lease("e1", Duration::from_secs(60)).unwrap(),
        "re-entrant"
    );
    let set_holder = |holder: &str, until: i64| {
        ob.conn()
            .unwrap()
            .execute(
                "UPDATE outbox SET lease_owner = ?1, lease_until = ?2 WHERE event_id = 'e1'",
                params![holder, until],
            )
            .unwrap();
    };
    let later = chrono::Utc::now().timestamp_millis() + 60_000;
    set_holder("1@another-host", later);
    assert!(
        !ob.lease("e1", Duration::from_secs(60)).unwrap(),
        "a live holder elsewhere"
    );
    set_holder("1@another-host", 0);
    assert!(
        ob.lease("e1", Duration::from_secs(60)).unwrap(),
        "an expired lease"
    );
    if Path::new("/proc/self").exists() {
        set_holder(&format!("4194304999@{}", host()), later);
        assert!(
            ob.lease("e1", Duration::from_secs(60)).unwrap(),
            "a killed holder here"
        );
    }
    ob.release("e1").unwrap();
    assert!(ob.lease("e1", Duration::from_secs(60)).unwrap());
    assert!(!ob.lease("unknown", Duration::from_secs(60)).unwrap());
}

#[test]
fn items_come_back_in_the_order_they_were_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(dir.path().join("outbox.sqlite")).unwrap();
    let wb = Writeback::Dataset {
        run_id: None,
        name: "d".into(),
    };
    for id in ["e3", "e1", "e9", "e2"] {
        ob.put(id, "dataset", "{}", &wb, None).unwrap();
    }
    // The last two recorded within one millisecond, ids sorting against that order.
    ob.conn()
        .unwrap()
        .execute(
            "UPDATE outbox SET created_at = '2999-01-01T00:00:00.000Z' WHERE event_id IN ('e9', 'e2')",
            [],
        )
        .unwrap();
    let listed: Vec<String> = ob
        .list(&[])
        .unwrap()
        .into_iter()
        .map(|i| i.event_id)
        .collect();
    assert_eq!(listed, ["e3", "e1", "e9", "e2"]);
}
