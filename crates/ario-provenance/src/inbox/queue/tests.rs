use super::*;

fn delivery(id: &str, version: &str) -> (Delivery, Vec<u8>) {
    delivery_for("m", id, version)
}

fn delivery_for(name: &str, id: &str, version: &str) -> (Delivery, Vec<u8>) {
    let body = format!(
        r#"{{"entity": "model_version", "action": "created", "data": {{"name": "{name}", "version": "{version}", "source": "models:/x"}}}}"#
    );
    let event = RegistryEvent::VersionCreated {
        name: name.into(),
        version: version.into(),
        source: "models:/x".into(),
        run_id: None,
    };
    (
        Delivery {
            delivery_id: id.into(),
            timestamp: 0,
            event,
        },
        body.into_bytes(),
    )
}

fn open() -> (tempfile::TempDir, EventQueue) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e));
    let q = EventQueue::open(dir.path().join("queue.sqlite")).unwrap_or_else(|e| fail(&e));
    (dir, q)
}

#[allow(clippy::panic)]
fn fail<T>(e: &dyn std::fmt::Display) -> T {
    panic!("{e}")
}

#[test]
fn redelivery_is_stored_once_and_a_changed_body_is_a_conflict() {
    let (_d, q) = open();
    let (d, body) = delivery("a", "1");
    assert!(matches!(q.enqueue(&d, &body), Ok(Enqueued::New(_))));
    assert_eq!(q.enqueue(&d, &body).ok(), Some(Enqueued::Duplicate));
    let (_, other) = delivery("a", "2");
    assert_eq!(q.enqueue(&d, &other).ok(), Some(Enqueued::Conflict));
    assert_eq!(q.stats().ok().map(|s| s.queued), Some(1));
}

#[test]
fn claims_are_exclusive_until_the_lease_ends_and_retries_wait() {
    let (_d, q) = open();
    for (i, v) in ["1", "2"].iter().enumerate() {
        let (d, body) = delivery_for(&format!("m{i}"), &format!("id-{i}"), v);
        q.enqueue(&d, &body).unwrap_or_else(|e| fail(&e));
    }
    let lease = Duration::from_secs(60);
    let a = q.claim("w1", lease).unwrap_or_else(|e| fail(&e));
    let b = q.claim("w2", lease).unwrap_or_else(|e| fail(&e));
    let (a, b) = (a.map(|e| e.id), b.map(|e| e.id));
    assert!(a.is_some() && b.is_some() && a != b);
    assert!(q.claim("w3", lease).ok().flatten().is_none());
    let a = a.unwrap_or_default();
    // Only the holder can put it back.
    q.retry_later(a, "someone-else", "x", Duration::ZERO)
        .unwrap_or_else(|e| fail(&e));
    assert_eq!(q.stats().ok().map(|s| s.leased), Some(2));
    q.retry_later(a, "w1", "gateway down", Duration::from_secs(3600))
        .unwrap_or_else(|e| fail(&e));
    assert!(q.claim("w3", lease).ok().flatten().is_none(), "not due yet");
    let s = q.stats().unwrap_or_else(|e| fail(&e));
    assert_eq!((s.queued, s.leased, s.retrying), (1, 1, 1));
    q.finish(
        b.unwrap_or_default(),
        "w2",
        &Finish::Done(Some("tx".into())),
    )
    .unwrap_or_else(|e| fail(&e));
    assert_eq!(q.state_of("id-1").ok().flatten(), Some(EventState::Done));
}

#[test]
fn an_expired_lease_is_claimed_again_after_a_crash() {
    let (dir, q) = open();
    let (d, body) = delivery("x", "1");
    q.enqueue(&d, &body).unwrap_or_else(|e| fail(&e));
    assert!(q.claim("dead", Duration::ZERO).ok().flatten().is_some());
    drop(q);
    let q = EventQueue::open(dir.path().join("queue.sqlite")).unwrap_or_else(|e| fail(&e));
    let again = q.claim("alive", Duration::from_secs(60)).ok().flatten();
    assert_eq!(again.map(|e| e.delivery_id), Some("x".to_owned()));
}

#[test]
fn alias_positions_are_remembered() {
    let (_d, q) = open();
    assert_eq!(q.alias_version("m", "champion").ok().flatten(), None);
    q.set_alias_version("m", "champion", Some("2"))
        .unwrap_or_else(|e| fail(&e));
    assert_eq!(
        q.alias_version("m", "champion").ok().flatten().as_deref(),
        Some("2")
    );
    q.set_alias_version("m", "champion", None)
        .unwrap_or_else(|e| fail(&e));
    assert_eq!(q.alias_version("m", "champion").ok().flatten(), None);
}

#[test]
fn events_of_one_model_are_handled_one_at_a_time_in_order() {
    let (_d, q) = open();
    for (i, v) in ["1", "2"].iter().enumerate() {
        let (d, body) = delivery(&format!("same-model-{i}"), v);
        q.enqueue(&d, &body).unwrap_or_else(|e| fail(&e));
    }
    let run = Delivery {
        delivery_id: "run".into(),
        timestamp: 0,
        event: RegistryEvent::RunFinished { run_id: "r".into() },
    };
    q.enqueue(&run, b"run").unwrap_or_else(|e| fail(&e));
    let lease = Duration::from_secs(60);
    let first = q.claim("w1", lease).ok().flatten().map(|e| e.delivery_id);
    assert_eq!(first.as_deref(), Some("same-model-0"));
    // The second version of the same model waits; another subject does not.
    let other = q.claim("w2", lease).ok().flatten().map(|e| e.delivery_id);
    assert_eq!(other.as_deref(), Some("run"));
    assert!(q.claim("w3", lease).ok().flatten().is_none());
    let id = q.claim_state_id("same-model-0");
    q.finish(id, "w1", &Finish::Ignored("x".into()))
        .unwrap_or_else(|e| fail(&e));
    let next = q.claim("w3", lease).ok().flatten().map(|e| e.delivery_id);
    assert_eq!(next.as_deref(), Some("same-model-1"));
}

impl EventQueue {
    fn claim_state_id(&self, delivery_id: &str) -> i64 {
        self.conn()
            .query_row(
                "SELECT id FROM events WHERE delivery_id = ?1",
                [delivery_id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| fail(&e))
    }
}
