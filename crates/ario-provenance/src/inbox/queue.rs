//! The durable event queue of `serve`: a delivery is written (and synced)
//! before MLflow gets its answer, claimed by a worker under a lease, and
//! finished, ignored or retried later. One SQLite file per instance.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::webhook::{Delivery, RegistryEvent};

/// A queue operation failed (the database could not be opened, read or written).
#[derive(Debug, thiserror::Error)]
#[error("event queue {location}: {detail}")]
pub struct QueueError {
    /// The database (a file path, or a PostgreSQL host and database).
    pub location: String,
    /// What went wrong.
    pub detail: String,
}

/// What `enqueue` did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored as a new event (row id).
    New(i64),
    /// The same delivery (id and body) was stored before: nothing added.
    Duplicate,
    /// A delivery with this id but other content was stored before: refused.
    Conflict,
}

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Waiting for a worker (or for its next attempt).
    Queued,
    /// A worker holds it.
    Leased,
    /// Anchored.
    Done,
    /// Nothing to anchor for it (recorded, with the reason).
    Ignored,
}

impl EventState {
    fn as_str(self) -> &'static str {
        match self {
            EventState::Queued => "queued",
            EventState::Leased => "leased",
            EventState::Done => "done",
            EventState::Ignored => "ignored",
        }
    }
}

/// One claimed event.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    /// Row id.
    pub id: i64,
    /// MLflow's delivery id.
    pub delivery_id: String,
    /// The event.
    pub event: RegistryEvent,
    /// Attempts before this one.
    pub attempts: u32,
}

/// Counts for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Waiting (including those waiting for a retry).
    pub queued: u64,
    /// Held by a worker.
    pub leased: u64,
    /// Anchored.
    pub done: u64,
    /// Recorded, nothing to anchor.
    pub ignored: u64,
    /// Events whose last attempt failed and that wait for another.
    pub retrying: u64,
    /// Age of the oldest unfinished event, in seconds.
    pub oldest_age_secs: u64,
}

impl QueueStats {
    /// Adds one `GROUP BY state` row: `n` events in `state`, `retrying` of
    /// them after a failed attempt, the oldest received at `oldest` (ms).
    pub(crate) fn count(
        &mut self,
        state: &str,
        n: u64,
        retrying: u64,
        oldest: Option<i64>,
        now_ms: i64,
    ) {
        let age = oldest
            .map(|t| u64::try_from(now_ms.saturating_sub(t) / 1000).unwrap_or(0))
            .unwrap_or(0);
        match state {
            "queued" => {
                self.queued = n;
                self.retrying = retrying;
                self.oldest_age_secs = self.oldest_age_secs.max(age);
            }
            "leased" => {
                self.leased = n;
                self.oldest_age_secs = self.oldest_age_secs.max(age);
            }
            "done" => self.done = n,
            "ignored" => self.ignored = n,
            _ => {}
        }
    }
}

/// How an event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Anchored (or found anchored already): the transaction, when known.
    Done(Option<String>),
    /// Nothing to anchor: why.
    Ignored(String),
}

/// Handle on the queue database.
#[derive(Debug, Clone)]
pub struct EventQueue {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl EventQueue {
    /// Opens (creating when missing) the queue at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, QueueError> {
        let path = path.into();
        let err = |e: &dyn std::fmt::Display| QueueError {
            location: path.display().to_string(),
            detail: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(&e))?;
        }
        let c = Connection::open(&path).map_err(|e| err(&e))?;
        c.busy_timeout(Duration::from_secs(30))
            .map_err(|e| err(&e))?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS events (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               delivery_id TEXT NOT NULL UNIQUE, body_sha256 TEXT NOT NULL,
               event TEXT NOT NULL, body BLOB NOT NULL, serial_key TEXT,
               state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
               next_at INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER,
               last_error TEXT, result TEXT,
               received_at INTEGER NOT NULL, finished_at INTEGER);
             CREATE INDEX IF NOT EXISTS events_ready ON events(state, next_at);
             CREATE INDEX IF NOT EXISTS events_serial ON events(serial_key, state);
             CREATE TABLE IF NOT EXISTS aliases (
               name TEXT NOT NULL, alias TEXT NOT NULL, version TEXT,
               PRIMARY KEY (name, alias));",
        )
        .map_err(|e| err(&e))?;
        Ok(EventQueue {
            path,
            conn: Arc::new(Mutex::new(c)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError {
            location: self.path.display().to_string(),
            detail: e.to_string(),
        }
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // operation is one statement or one transaction).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a checked delivery durably, unless it is a redelivery.
    pub fn enqueue(&self, d: &Delivery, body: &[u8]) -> Result<Enqueued, QueueError> {
        let hash = ario_envelope::encoding::sha256_hex(body);
        let event = serde_json::to_string(&d.event).map_err(|e| self.err(e))?;
        let now = now_ms();
        let c = self.conn();
        let added = c
            .execute(
                "INSERT INTO events (delivery_id, body_sha256, event, body, serial_key, state, next_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?6)
                 ON CONFLICT(delivery_id) DO NOTHING",
                params![d.delivery_id, hash, event, body, d.event.serial_key(), now],
            )
            .map_err(|e| self.err(e))?;
        if added == 1 {
            return Ok(Enqueued::New(c.last_insert_rowid()));
        }
        let stored: String = c
            .query_row(
                "SELECT body_sha256 FROM events WHERE delivery_id = ?1",
                [&d.delivery_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(if stored == hash {
            Enqueued::Duplicate
        } else {
            Enqueued::Conflict
        })
    }

    /// Claims the oldest event that is due (or whose lease expired).
    pub fn claim(&self, owner: &str, lease: Duration) -> Result<Option<QueuedEvent>, QueueError> {
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let c = self.conn();
        let row = c
            .query_row(
                "UPDATE events SET state = 'leased', lease_owner = ?1, lease_until = ?2
                 WHERE id = (SELECT e.id FROM events e
                             WHERE ((e.state = 'queued' AND e.next_at <= ?3)
                                 OR (e.state = 'leased' AND e.lease_until <= ?3))
                               -- one event per serial key at a time, oldest first
                               AND (e.serial_key IS NULL OR NOT EXISTS (
                                   SELECT 1 FROM events o
                                   WHERE o.serial_key = e.serial_key AND o.id < e.id
                                     AND o.state IN ('queued', 'leased')))
                               AND (e.serial_key IS NULL OR NOT EXISTS (
                                   SELECT 1 FROM events l
                                   WHERE l.serial_key = e.serial_key AND l.id <> e.id
                                     AND l.state = 'leased' AND l.lease_until > ?3))
                             ORDER BY e.id LIMIT 1)
                 RETURNING id, delivery_id, event, attempts",
                params![owner, until, now],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, u32>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((id, delivery_id, event, attempts)) = row else {
            return Ok(None);
        };
        let event = serde_json::from_str(&event).map_err(|e| self.err(e))?;
        Ok(Some(QueuedEvent {
            id,
            delivery_id,
            event,
            attempts,
        }))
    }

    /// Ends an event this `owner` holds (a worker whose lease ran out and was
    /// taken over changes nothing).
    pub fn finish(&self, id: i64, owner: &str, how: &Finish) -> Result<(), QueueError> {
        let (state, result) = match how {
            Finish::Done(tx) => (EventState::Done, tx.clone()),
            Finish::Ignored(why) => (EventState::Ignored, Some(why.clone())),
        };
        self.conn()
            .execute(
                "UPDATE events SET state = ?1, result = ?2, finished_at = ?3,
                   lease_owner = NULL, lease_until = NULL
                 WHERE id = ?4 AND state = 'leased' AND lease_owner = ?5",
                params![state.as_str(), result, now_ms(), id, owner],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Puts an event this `owner` holds back for another attempt after `delay`.
    pub fn retry_later(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let next = now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        self.conn()
            .execute(
                "UPDATE events SET state = 'queued', attempts = attempts + 1, last_error = ?1,
                   next_at = ?2, lease_owner = NULL, lease_until = NULL
                 WHERE id = ?3 AND state = 'leased' AND lease_owner = ?4",
                params![error, next, id, owner],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The state of the event with this delivery id.
    pub fn state_of(&self, delivery_id: &str) -> Result<Option<EventState>, QueueError> {
        let s: Option<String> = self
            .conn()
            .query_row(
                "SELECT state FROM events WHERE delivery_id = ?1",
                [delivery_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(s.and_then(|s| match s.as_str() {
            "queued" => Some(EventState::Queued),
            "leased" => Some(EventState::Leased),
            "done" => Some(EventState::Done),
            "ignored" => Some(EventState::Ignored),
            _ => None,
        }))
    }

    /// Counts by state and the age of the oldest unfinished event.
    pub fn stats(&self) -> Result<QueueStats, QueueError> {
        let c = self.conn();
        let mut s = QueueStats::default();
        let mut q = c
            .prepare("SELECT state, COUNT(*), SUM(attempts > 0), MIN(received_at) FROM events GROUP BY state")
            .map_err(|e| self.err(e))?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u64>(1)?,
                    r.get::<_, Option<u64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let now = now_ms();
        for row in rows {
            let (state, n, retrying, oldest) = row.map_err(|e| self.err(e))?;
            s.count(&state, n, retrying.unwrap_or(0), oldest, now);
        }
        Ok(s)
    }

    /// The version an alias pointed at when we last saw it move, if any.
    pub fn alias_version(&self, name: &str, alias: &str) -> Result<Option<String>, QueueError> {
        self.conn()
            .query_row(
                "SELECT version FROM aliases WHERE name = ?1 AND alias = ?2",
                [name, alias],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Records where an alias points now (`None`: deleted).
    pub fn set_alias_version(
        &self,
        name: &str,
        alias: &str,
        version: Option<&str>,
    ) -> Result<(), QueueError> {
        self.conn()
            .execute(
                "INSERT INTO aliases (name, alias, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version",
                params![name, alias, version],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
