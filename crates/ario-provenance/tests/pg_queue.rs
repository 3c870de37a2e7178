//! The shared PostgreSQL queue against a real server (Debian's package,
//! started on loopback by the harness): events of one serial key, queued
//! concurrently over several connections while a worker claims, are claimed
//! strictly in id order, each once.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ario_provenance::inbox::{Delivery, Enqueued, Finish, PgQueue, RegistryEvent};
use ario_test_support::postgres::PgServer;

fn delivery(n: usize) -> Delivery {
    Delivery {
        delivery_id: format!("ordering-{n}"),
        timestamp: 1_796_205_600,
        event: RegistryEvent::VersionCreated {
            name: "one-model".into(),
            version: n.to_string(),
            source: format!("runs:/r{n}/model"),
            run_id: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_of_one_model_are_claimed_in_id_order_while_replicas_queue_them() {
    let Some(pg) = PgServer::start() else { return };
    const N: usize = 120;
    let writers: Vec<PgQueue> = {
        let mut w = Vec::new();
        for _ in 0..3 {
            w.push(PgQueue::connect(&pg.url()).await.unwrap());
        }
        w
    };
    let worker = PgQueue::connect(&pg.url()).await.unwrap();
    let queueing = writers.into_iter().enumerate().map(|(k, q)| {
        tokio::spawn(async move {
            for n in (k..N).step_by(3) {
                let d = delivery(n);
                let body = format!("{{\"n\":{n}}}");
                let got = q.enqueue(&d, body.as_bytes()).await.unwrap();
                assert!(matches!(got, Enqueued::New(_)), "{n}: {got:?}");
            }
        })
    });
    let queueing: Vec<_> = queueing.collect();
    // Claim and finish as they arrive: a claim taking a later id of the
    // model while an earlier one is still uncommitted would show as an id
    // lower than one already claimed.
    let mut claimed: Vec<i64> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while claimed.len() < N {
        assert!(
            tokio::time::Instant::now() < deadline,
            "claimed {claimed:?}"
        );
        match worker.claim("w", Duration::from_secs(60)).await.unwrap() {
            Some(ev) => {
                worker
                    .finish(ev.id, "w", &Finish::Done(None))
                    .await
                    .unwrap();
                claimed.push(ev.id);
            }
            None => tokio::task::yield_now().await,
        }
    }
    for q in queueing {
        q.await.unwrap();
    }
    assert!(
        claimed.windows(2).all(|w| w[0] < w[1]),
        "claimed out of id order: {claimed:?}"
    );
    assert!(worker
        .claim("w", Duration::from_secs(60))
        .await
        .unwrap()
        .is_none());
}
