//! `serve`'s Prometheus metrics (`GET /metrics`, OpenMetrics text).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every metric `serve` exports.
pub(crate) struct Metrics {
    registry: Registry,
    /// Deliveries accepted, by MLflow event name.
    pub(crate) received: Family<Labels, Counter>,
    /// Deliveries refused, by reason.
    pub(crate) refused: Family<Labels, Counter>,
    /// Redeliveries answered without queueing.
    pub(crate) duplicates: Counter,
    /// Events written to the queue.
    pub(crate) queued: Counter,
    /// Events finished, by outcome (`anchored`, `ignored`).
    pub(crate) finished: Family<Labels, Counter>,
    /// Attempts that failed and were put back.
    pub(crate) failed: Counter,
    /// Unfinished events (set on each scrape).
    pub(crate) depth: Gauge,
    /// Age of the oldest unfinished event, in seconds (set on each scrape).
    pub(crate) oldest_age: Gauge,
    /// Outbox items still waiting for upload (set on each scrape).
    pub(crate) outbox_pending: Gauge,
    /// Time to handle one event (sign, store, upload, write back), in seconds.
    pub(crate) anchor_seconds: Histogram,
    /// Objects the last reconciliation found, by kind and finding.
    pub(crate) reconcile: Family<Labels, Gauge>,
    /// Finished runs the scan queued for anchoring.
    pub(crate) runs_queued: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("ario_serve");
        let m = Metrics {
            received: Family::default(),
            refused: Family::default(),
            duplicates: Counter::default(),
            queued: Counter::default(),
            finished: Family::default(),
            failed: Counter::default(),
            depth: Gauge::default(),
            oldest_age: Gauge::default(),
            outbox_pending: Gauge::default(),
            anchor_seconds: Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            reconcile: Family::default(),
            runs_queued: Counter::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "webhooks_received",
            "Webhook deliveries accepted, by event",
            m.received.clone(),
        );
        r.register(
            "webhooks_refused",
            "Webhook deliveries refused, by reason",
            m.refused.clone(),
        );
        r.register(
            "webhooks_duplicate",
            "Redeliveries answered without queueing",
            m.duplicates.clone(),
        );
        r.register(
            "events_queued",
            "Events written to the queue",
            m.queued.clone(),
        );
        r.register(
            "events_finished",
            "Events finished, by outcome",
            m.finished.clone(),
        );
        r.register(
            "events_failed_attempts",
            "Attempts that failed and were put back",
            m.failed.clone(),
        );
        r.register(
            "queue_depth",
            "Unfinished events in the queue",
            m.depth.clone(),
        );
        r.register(
            "queue_oldest_age_seconds",
            "Age of the oldest unfinished event",
            m.oldest_age.clone(),
        );
        r.register(
            "outbox_pending",
            "Signed envelopes waiting for upload",
            m.outbox_pending.clone(),
        );
        r.register(
            "anchor_duration_seconds",
            "Time to handle one event",
            m.anchor_seconds.clone(),
        );
        r.register(
            "reconcile_objects",
            "Objects found by the last reconciliation, by kind and finding",
            m.reconcile.clone(),
        );
        r.register(
            "runs_queued",
            "Finished runs the scan queued for anchoring",
            m.runs_queued.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The exposition text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// One label.
pub(crate) fn label(key: &'static str, value: impl Into<String>) -> Labels {
    vec![(key, value.into())]
}
