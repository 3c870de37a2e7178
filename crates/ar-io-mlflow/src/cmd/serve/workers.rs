//! `serve`'s background work: queue workers (claim, anchor, finish or put
//! back with backoff) and the outbox loop that retries uploads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ario_provenance::inbox::{handle_event, Finish, Handled};
use ario_provenance::outbox::OutboxState;
use ario_provenance::Anchorer;
use tokio::sync::watch;

use super::http::Shared;
use super::metrics::label;

/// How long a claimed event stays with its worker before another may take it.
const LEASE: Duration = Duration::from_secs(600);
/// How often an idle worker looks for events that became due.
const IDLE_POLL: Duration = Duration::from_secs(1);

fn retry_policy() -> ario_http::RetryPolicy {
    ario_http::RetryPolicy {
        max_retries: u32::MAX,
        base_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(300),
    }
}

/// Works the queue until `stopping` is set and nothing due is left.
pub(crate) async fn worker(
    n: usize,
    anchorer: Anchorer,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    // Unique across replicas (containers often share PID 1).
    let owner = format!(
        "{}-{}-{n}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    loop {
        let ev = match shared.queue.claim(&owner, LEASE).await {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                if *stopping.borrow() {
                    return;
                }
                tokio::select! {
                    _ = shared.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stopping.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming from the queue failed");
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stopping.changed() => {}
                }
                if *stopping.borrow() {
                    return;
                }
                continue;
            }
        };
        let started = Instant::now();
        let handled = handle_event(&anchorer, &shared.queue, &ev.event).await;
        shared
            .metrics
            .anchor_seconds
            .observe(started.elapsed().as_secs_f64());
        let name = ev.event.wire_name();
        let result = match handled {
            Ok(Handled::Finished(how)) => {
                let outcome = match &how {
                    Finish::Done(_) => "anchored",
                    Finish::Ignored(_) => "ignored",
                };
                tracing::info!(delivery_id = %ev.delivery_id, event = %name, outcome, detail = ?how, "event finished");
                shared
                    .metrics
                    .finished
                    .get_or_create(&label("outcome", outcome))
                    .inc();
                shared.queue.finish(ev.id, &owner, &how).await
            }
            Ok(Handled::Retry(why)) => put_back(&shared, &owner, ev.id, ev.attempts, &why).await,
            Err(e) => put_back(&shared, &owner, ev.id, ev.attempts, &e.to_string()).await,
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "recording an event's outcome failed");
        }
    }
}

async fn put_back(
    shared: &Shared,
    owner: &str,
    id: i64,
    attempts: u32,
    why: &str,
) -> Result<(), ario_provenance::inbox::QueueError> {
    let delay = ario_http::backoff(&retry_policy(), attempts);
    tracing::warn!(error = why, attempts = attempts + 1, retry_in = ?delay, "event put back");
    shared.metrics.failed.inc();
    shared.queue.retry_later(id, owner, why, delay).await
}

/// Retries outbox uploads every `every` (backing off while they fail) until
/// `stopping`, then once more.
pub(crate) async fn outbox_loop(
    anchorer: Anchorer,
    shared: Arc<Shared>,
    every: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut failures = 0u32;
    loop {
        let wait = if failures == 0 {
            every
        } else {
            every.max(ario_http::backoff(&retry_policy(), failures))
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed() => {}
        }
        let stop = *stopping.borrow();
        match retry_once(&anchorer, &shared).await {
            Ok(0) => failures = 0,
            Ok(_) => failures = failures.saturating_add(1),
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "outbox retry failed");
            }
        }
        if stop {
            return;
        }
    }
}

/// One pass over the outbox; the number of items still pending.
async fn retry_once(
    anchorer: &Anchorer,
    shared: &Shared,
) -> Result<usize, ario_provenance::ProvenanceError> {
    let pending = anchorer
        .outbox()
        .list(&[OutboxState::Pending, OutboxState::Uploaded])?;
    if !pending.is_empty() {
        anchorer.retry().await?;
    }
    let left = anchorer.outbox().list(&[OutboxState::Pending])?.len();
    shared
        .metrics
        .outbox_pending
        .set(i64::try_from(left).unwrap_or(i64::MAX));
    Ok(left)
}
