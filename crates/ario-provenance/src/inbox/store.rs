//! The queue `serve` uses, whichever database holds it: a SQLite file for
//! one instance, or (feature `postgres`) PostgreSQL shared by replicas.

use std::path::Path;
use std::time::Duration;

use super::queue::{Enqueued, EventQueue, Finish, QueueError, QueueStats, QueuedEvent};
use super::webhook::Delivery;

/// One queue, in SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum Queue {
    /// A SQLite file (one instance).
    Sqlite(EventQueue),
    /// PostgreSQL (several instances share it).
    #[cfg(feature = "postgres")]
    Postgres(super::pg::PgQueue),
}

/// Runs a SQLite operation off the async threads.
async fn blocking<T: Send + 'static>(
    q: &EventQueue,
    f: impl FnOnce(&EventQueue) -> Result<T, QueueError> + Send + 'static,
) -> Result<T, QueueError> {
    let q = q.clone();
    let location = q.path().display().to_string();
    tokio::task::spawn_blocking(move || f(&q))
        .await
        .map_err(|e| QueueError {
            location,
            detail: e.to_string(),
        })?
}

impl Queue {
    /// Opens the queue `spec` names: `postgres://…` or `postgresql://…`, a
    /// `sqlite://` path, or a plain file path.
    pub async fn open(spec: &str) -> Result<Queue, QueueError> {
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Ok(Queue::Postgres(super::pg::PgQueue::connect(spec).await?));
            #[cfg(not(feature = "postgres"))]
            return Err(QueueError {
                location: "postgres".into(),
                detail: "this build has no PostgreSQL support (feature `postgres`)".into(),
            });
        }
        let path = Path::new(spec.strip_prefix("sqlite://").unwrap_or(spec)).to_owned();
        tokio::task::spawn_blocking(move || EventQueue::open(path))
            .await
            .map_err(|e| QueueError {
                location: spec.to_owned(),
                detail: e.to_string(),
            })?
            .map(Queue::Sqlite)
    }

    /// Stores a checked delivery durably, unless it is a redelivery.
    pub async fn enqueue(&self, d: &Delivery, body: &[u8]) -> Result<Enqueued, QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let (d, body) = (d.clone(), body.to_vec());
                blocking(q, move |q| q.enqueue(&d, &body)).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.enqueue(d, body).await,
        }
    }

    /// Claims the oldest due event (one per model at a time).
    pub async fn claim(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<QueuedEvent>, QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let owner = owner.to_owned();
                blocking(q, move |q| q.claim(&owner, lease)).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.claim(owner, lease).await,
        }
    }

    /// Ends an event `owner` holds.
    pub async fn finish(&self, id: i64, owner: &str, how: &Finish) -> Result<(), QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let (how, owner) = (how.clone(), owner.to_owned());
                blocking(q, move |q| q.finish(id, &owner, &how)).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.finish(id, owner, how).await,
        }
    }

    /// Puts an event `owner` holds back for another attempt after `delay`.
    pub async fn retry_later(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let (error, owner) = (error.to_owned(), owner.to_owned());
                blocking(q, move |q| q.retry_later(id, &owner, &error, delay)).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.retry_later(id, owner, error, delay).await,
        }
    }

    /// Counts by state and the age of the oldest unfinished event.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        match self {
            Queue::Sqlite(q) => blocking(q, EventQueue::stats).await,
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.stats().await,
        }
    }

    /// The version an alias pointed at when we last saw it move.
    pub async fn alias_version(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<String>, QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let (n, a) = (name.to_owned(), alias.to_owned());
                blocking(q, move |q| q.alias_version(&n, &a)).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.alias_version(name, alias).await,
        }
    }

    /// Records where an alias points now (`None`: deleted).
    pub async fn set_alias_version(
        &self,
        name: &str,
        alias: &str,
        version: Option<&str>,
    ) -> Result<(), QueueError> {
        match self {
            Queue::Sqlite(q) => {
                let (n, a, v) = (
                    name.to_owned(),
                    alias.to_owned(),
                    version.map(str::to_owned),
                );
                blocking(q, move |q| q.set_alias_version(&n, &a, v.as_deref())).await
            }
            #[cfg(feature = "postgres")]
            Queue::Postgres(q) => q.set_alias_version(name, alias, version).await,
        }
    }
}
