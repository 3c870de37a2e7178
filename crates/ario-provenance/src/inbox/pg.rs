//! The event queue in PostgreSQL, shared by several `serve` replicas: the
//! delivery id is unique across them, and a claim takes a row lease with
//! `FOR UPDATE SKIP LOCKED` so each event is handled by one replica.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, Row};

use super::queue::{Enqueued, Finish, QueueError, QueueStats, QueuedEvent};
use super::webhook::Delivery;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ario_serve_events (
  id BIGSERIAL PRIMARY KEY,
  delivery_id TEXT NOT NULL UNIQUE, body_sha256 TEXT NOT NULL,
  event TEXT NOT NULL, body BYTEA NOT NULL, serial_key TEXT,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL, lease_owner TEXT, lease_until BIGINT,
  last_error TEXT, result TEXT,
  received_at BIGINT NOT NULL, finished_at BIGINT);
CREATE INDEX IF NOT EXISTS ario_serve_events_ready ON ario_serve_events(state, next_at);
CREATE INDEX IF NOT EXISTS ario_serve_events_serial ON ario_serve_events(serial_key, state);
CREATE TABLE IF NOT EXISTS ario_serve_aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version TEXT,
  PRIMARY KEY (name, alias));";

/// An arbitrary constant: the advisory lock replicas take while creating the schema.
const SCHEMA_LOCK: i64 = 0x6172_696f_7365_7276;

/// Handle on the shared queue (one connection; every operation is one statement).
#[derive(Clone)]
pub struct PgQueue {
    client: Arc<Client>,
    location: String,
}

impl std::fmt::Debug for PgQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgQueue")
            .field("location", &self.location)
            .finish()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PgQueue {
    /// Connects (`postgres://user@host:port/db`) and creates the tables when missing.
    pub async fn connect(url: &str) -> Result<Self, QueueError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| QueueError {
            location: "postgres".into(),
            detail: format!("not a PostgreSQL URL: {e}"),
        })?;
        let location = format!(
            "postgres {:?}/{}",
            config.get_hosts(),
            config.get_dbname().unwrap_or_default()
        );
        let err = |e: &dyn std::fmt::Display| QueueError {
            location: location.clone(),
            detail: e.to_string(),
        };
        let (mut client, conn) = config.connect(NoTls).await.map_err(|e| err(&e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::error!(error = %e, "PostgreSQL connection ended");
            }
        });
        let tx = client.transaction().await.map_err(|e| err(&e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(|e| err(&e))?;
        tx.batch_execute(SCHEMA).await.map_err(|e| err(&e))?;
        tx.commit().await.map_err(|e| err(&e))?;
        Ok(PgQueue {
            client: Arc::new(client),
            location,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError {
            location: self.location.clone(),
            detail: e.to_string(),
        }
    }

    /// See [`super::EventQueue::enqueue`].
    pub async fn enqueue(&self, d: &Delivery, body: &[u8]) -> Result<Enqueued, QueueError> {
        let hash = ario_envelope::encoding::sha256_hex(body);
        let event = serde_json::to_string(&d.event).map_err(|e| self.err(e))?;
        let now = now_ms();
        let serial = d.event.serial_key();
        // Events of one serial key are claimed in id order, so their ids
        // must follow commit order: the statement takes a lock on the key
        // before its id is drawn and holds it until it commits, so no later
        // event of the key can commit first (leaving the earlier one
        // invisible to a claimer for a moment).
        let added = self
            .client
            .query_opt(
                "WITH serialized AS (SELECT pg_advisory_xact_lock(hashtextextended($5::text, 0)))
                 INSERT INTO ario_serve_events
                   (delivery_id, body_sha256, event, body, serial_key, state, next_at, received_at)
                 SELECT $1::text, $2::text, $3::text, $4::bytea, $5::text, 'queued', $6::bigint, $6::bigint
                   FROM serialized
                 ON CONFLICT (delivery_id) DO NOTHING RETURNING id",
                &[&d.delivery_id, &hash, &event, &body, &serial, &now],
            )
            .await
            .map_err(|e| self.err(e))?;
        if let Some(row) = added {
            return Ok(Enqueued::New(row.get(0)));
        }
        let stored: String = self
            .client
            .query_one(
                "SELECT body_sha256 FROM ario_serve_events WHERE delivery_id = $1",
                &[&d.delivery_id],
            )
            .await
            .map_err(|e| self.err(e))?
            .get(0);
        Ok(if stored == hash {
            Enqueued::Duplicate
        } else {
            Enqueued::Conflict
        })
    }

    /// See [`super::EventQueue::claim`].
    pub async fn claim(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<QueuedEvent>, QueueError> {
        let now = now_ms();
        let until = now.saturating_add(ms(lease));
        let row = self
            .client
            .query_opt(
                "UPDATE ario_serve_events SET state = 'leased', lease_owner = $1, lease_until = $2
                 WHERE id = (
                   SELECT e.id FROM ario_serve_events e
                   WHERE ((e.state = 'queued' AND e.next_at <= $3)
                       OR (e.state = 'leased' AND e.lease_until <= $3))
                     AND (e.serial_key IS NULL OR NOT EXISTS (
                         SELECT 1 FROM ario_serve_events o
                         WHERE o.serial_key = e.serial_key AND o.id < e.id
                           AND o.state IN ('queued', 'leased')))
                     AND (e.serial_key IS NULL OR NOT EXISTS (
                         SELECT 1 FROM ario_serve_events l
                         WHERE l.serial_key = e.serial_key AND l.id <> e.id
                           AND l.state = 'leased' AND l.lease_until > $3))
                   ORDER BY e.id LIMIT 1
                   FOR UPDATE SKIP LOCKED)
                 RETURNING id, delivery_id, event, attempts",
                &[&owner, &until, &now],
            )
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.queued(&r)).transpose()
    }

    fn queued(&self, r: &Row) -> Result<QueuedEvent, QueueError> {
        let event: String = r.get(2);
        let attempts: i32 = r.get(3);
        Ok(QueuedEvent {
            id: r.get(0),
            delivery_id: r.get(1),
            event: serde_json::from_str(&event).map_err(|e| self.err(e))?,
            attempts: u32::try_from(attempts).unwrap_or(0),
        })
    }

    /// See [`super::EventQueue::finish`].
    pub async fn finish(&self, id: i64, owner: &str, how: &Finish) -> Result<(), QueueError> {
        let (state, result) = match how {
            Finish::Done(tx) => ("done", tx.clone()),
            Finish::Ignored(why) => ("ignored", Some(why.clone())),
        };
        self.client
            .execute(
                "UPDATE ario_serve_events SET state = $1, result = $2, finished_at = $3,
                   lease_owner = NULL, lease_until = NULL
                 WHERE id = $4 AND state = 'leased' AND lease_owner = $5",
                &[&state, &result, &now_ms(), &id, &owner],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// See [`super::EventQueue::retry_later`].
    pub async fn retry_later(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let next = now_ms().saturating_add(ms(delay));
        self.client
            .execute(
                "UPDATE ario_serve_events SET state = 'queued', attempts = attempts + 1,
                   last_error = $1, next_at = $2, lease_owner = NULL, lease_until = NULL
                 WHERE id = $3 AND state = 'leased' AND lease_owner = $4",
                &[&error, &next, &id, &owner],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// See [`super::EventQueue::stats`].
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let rows = self
            .client
            .query(
                "SELECT state, COUNT(*), COUNT(*) FILTER (WHERE attempts > 0), MIN(received_at)
                 FROM ario_serve_events GROUP BY state",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        let now = now_ms();
        let mut s = QueueStats::default();
        for r in rows {
            let state: String = r.get(0);
            let n = u64::try_from(r.get::<_, i64>(1)).unwrap_or(0);
            let retrying = u64::try_from(r.get::<_, i64>(2)).unwrap_or(0);
            s.count(&state, n, retrying, r.get(3), now);
        }
        Ok(s)
    }

    /// See [`super::EventQueue::alias_version`].
    pub async fn alias_version(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<String>, QueueError> {
        let row = self
            .client
            .query_opt(
                "SELECT version FROM ario_serve_aliases WHERE name = $1 AND alias = $2",
                &[&name, &alias],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|r| r.get::<_, Option<String>>(0)))
    }

    /// See [`super::EventQueue::set_alias_version`].
    pub async fn set_alias_version(
        &self,
        name: &str,
        alias: &str,
        version: Option<&str>,
    ) -> Result<(), QueueError> {
        self.client
            .execute(
                "INSERT INTO ario_serve_aliases (name, alias, version) VALUES ($1, $2, $3)
                 ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version",
                &[&name, &alias, &version],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
