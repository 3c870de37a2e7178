//! What `serve` needs to anchor changes other MLflow clients make: MLflow's
//! signed webhook deliveries ([`webhook`]), a durable, idempotent event
//! queue ([`Queue`]: SQLite, or PostgreSQL shared by replicas), and the anchor each event becomes ([`handle_event`]).
//!
//! ```
//! use ario_provenance::inbox::{check_delivery, DeliveryHeaders, WebhookSecret};
//!
//! let secret = WebhookSecret::new("a-shared-secret");
//! let body = br#"{"entity": "model_version_alias", "action": "created", "data": {"name": "iris", "alias": "champion", "version": "2"}}"#;
//! let sig = secret.sign("d-1", "1796205600", body);
//! let headers = DeliveryHeaders { delivery_id: Some("d-1"), timestamp: Some("1796205600"), signature: Some(&sig) };
//! let delivery = check_delivery(&secret, &headers, body, 1796205630, 300).unwrap();
//! assert_eq!(delivery.event.wire_name(), "model_version_alias.created");
//! ```

mod handle;
#[cfg(feature = "postgres")]
mod pg;
pub mod queue;
mod store;
pub mod webhook;

pub use handle::{handle_event, Handled};
#[cfg(feature = "postgres")]
pub use pg::PgQueue;
pub use queue::{Enqueued, EventQueue, EventState, Finish, QueueError, QueueStats, QueuedEvent};
pub use store::Queue;
pub use webhook::{
    check_delivery, Delivery, DeliveryHeaders, Refusal, RegistryEvent, WebhookSecret,
};
