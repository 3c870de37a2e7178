//! The durable outbox: every signed envelope is written here before any
//! upload attempt, so a crash or an unreachable bundler loses nothing.
//!
//! One SQLite file (WAL, `synchronous=FULL`) shared safely by concurrent
//! processes; `ar-io-mlflow retry` drains it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

pub use crate::writeback::Writeback;

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Signed; not yet accepted by the bundler.
    Pending,
    /// Uploaded and written back.
    Anchored,
    /// Uploaded, but writing back to MLflow has not succeeded yet.
    Uploaded,
    /// The bundler refused it for good (e.g. a 4xx other than payment).
    Failed,
}

impl OutboxState {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Anchored => "anchored",
            OutboxState::Uploaded => "uploaded",
            OutboxState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "anchored" => OutboxState::Anchored,
            "uploaded" => OutboxState::Uploaded,
            "failed" => OutboxState::Failed,
            _ => OutboxState::Pending,
        }
    }
}

/// One signed envelope and its fate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    /// The envelope's `event_id`.
    pub event_id: String,
    /// Its `event_type`.
    pub event_type: String,
    /// The canonical envelope bytes, as text.
    pub envelope: String,
    /// What to write back after the upload.
    pub writeback: Writeback,
    /// State.
    pub state: OutboxState,
    /// Upload attempts so far.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// The Arweave id once uploaded.
    pub tx_id: Option<String>,
    /// The Turbo receipt once uploaded.
    pub receipt: Option<String>,
    /// When it was signed (RFC 3339).
    pub created_at: String,
}

/// Outbox failures.
#[derive(Debug, thiserror::Error)]
#[error("outbox {path}: {detail}")]
pub struct OutboxError {
    /// The database file.
    pub path: PathBuf,
    /// What went wrong.
    pub detail: String,
}

/// Handle on the outbox file (a connection is opened per operation, so
/// several processes can share it).
#[derive(Debug, Clone)]
pub struct Outbox {
    path: PathBuf,
    /// One connection for the process, opened (and the schema set up) once.
    conn: std::sync::Arc<std::sync::Mutex<Connection>>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Opens the database and sets up its schema (WAL, `synchronous=FULL`).
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(Duration::from_secs(30))?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS outbox (
           event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, envelope TEXT NOT NULL,
           writeback TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
           last_error TEXT, tx_id TEXT, receipt TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);",
    )
    ?;
    // Added later: the signed data item, and the upload lease.
    let has_item: bool = c.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'item'",
        [],
        |r| r.get::<_, i64>(0),
    )? > 0;
    if !has_item {
        c.execute_batch(
            "ALTER TABLE outbox ADD COLUMN item BLOB;
             ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
             ALTER TABLE outbox ADD COLUMN lease_until INTEGER;",
        )?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(c)
}

impl Outbox {
    /// Opens (creating when missing) the outbox at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, OutboxError> {
        let path = path.into();
        let err = |e: &dyn std::fmt::Display| OutboxError {
            path: path.clone(),
            detail: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(&e))?;
        }
        let conn = connect(&path).map_err(|e| err(&e))?;
        Ok(Outbox {
            path,
            conn: std::sync::Arc::new(std::sync::Mutex::new(conn)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> OutboxError {
        OutboxError {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    /// The process's connection (a poisoned lock still holds a usable
    /// connection: SQLite rolled back whatever the panicking holder did).
    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, OutboxError> {
        Ok(self.conn.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Records a freshly signed envelope as pending (durably, before upload),
    /// with the signed data item that will carry it when one was made.
    pub fn put(
        &self,
        event_id: &str,
        event_type: &str,
        envelope: &str,
        writeback: &Writeback,
        item: Option<&[u8]>,
    ) -> Result<(), OutboxError> {
        let wb = serde_json::to_string(writeback).map_err(|e| self.err(e))?;
        let t = now();
        self.conn()?
            .execute(
                "INSERT INTO outbox (event_id, event_type, envelope, writeback, state, created_at, updated_at, item)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?6)",
                params![event_id, event_type, envelope, wb, t, item],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The signed data item of an event, once one was made.
    pub fn item(&self, event_id: &str) -> Result<Option<Vec<u8>>, OutboxError> {
        self.conn()?
            .query_row(
                "SELECT item FROM outbox WHERE event_id = ?1",
                params![event_id],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Keeps the first data item made for an event (a later one is ignored,
    /// so every attempt sends the same bytes); returns the one kept.
    pub fn keep_item(&self, event_id: &str, item: &[u8]) -> Result<Vec<u8>, OutboxError> {
        self.conn()?
            .execute(
                "UPDATE outbox SET item = ?2 WHERE event_id = ?1 AND item IS NULL",
                params![event_id, item],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.item(event_id)?.unwrap_or_else(|| item.to_vec()))
    }

    /// Takes the upload lease of an item for `ttl`, unless another live
    /// holder has it. A lease whose holder ran on this host and is gone (a
    /// killed process) or whose time ran out is taken over.
    pub fn lease(&self, event_id: &str, ttl: Duration) -> Result<bool, OutboxError> {
        let c = self.conn()?;
        let held: Option<(Option<String>, Option<i64>)> = c
            .query_row(
                "SELECT lease_owner, lease_until FROM outbox WHERE event_id = ?1",
                params![event_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((holder, until)) = held else {
            return Ok(false);
        };
        let now_ms = chrono::Utc::now().timestamp_millis();
        let me = lease_holder();
        let free = match &holder {
            None => true,
            Some(h) => h == &me || until.is_none_or(|u| u < now_ms) || holder_is_gone(h),
        };
        if !free {
            return Ok(false);
        }
        let until = now_ms.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let changed = c
            .execute(
                "UPDATE outbox SET lease_owner = ?2, lease_until = ?3
                 WHERE event_id = ?1 AND lease_owner IS ?4",
                params![event_id, me, until, holder],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed == 1)
    }

    /// Gives the lease back.
    pub fn release(&self, event_id: &str) -> Result<(), OutboxError> {
        self.conn()?
            .execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL
                 WHERE event_id = ?1 AND lease_owner = ?2",
                params![event_id, lease_holder()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Counts an attempt that did not get through.
    pub fn attempt_failed(
        &self,
        event_id: &str,
        error: &str,
        permanent: bool,
    ) -> Result<(), OutboxError> {
        let state = if permanent { "failed" } else { "pending" };
        self.conn()?
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, state = ?3, updated_at = ?4 WHERE event_id = ?1",
                params![event_id, error, state, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the upload (the write-back is still to do).
    pub fn uploaded(
        &self,
        event_id: &str,
        tx_id: &str,
        receipt: Option<&str>,
    ) -> Result<(), OutboxError> {
        self.conn()?
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, state = 'uploaded', tx_id = ?2, receipt = ?3, last_error = NULL, updated_at = ?4 WHERE event_id = ?1",
                params![event_id, tx_id, receipt, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks the write-back done (or records why it is not).
    pub fn written_back(&self, event_id: &str, error: Option<&str>) -> Result<(), OutboxError> {
        let state = if error.is_some() {
            "uploaded"
        } else {
            "anchored"
        };
        self.conn()?
            .execute(
                "UPDATE outbox SET state = ?2, last_error = ?3, updated_at = ?4 WHERE event_id = ?1",
                params![event_id, state, error, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// One item.
    pub fn get(&self, event_id: &str) -> Result<Option<OutboxItem>, OutboxError> {
        let c = self.conn()?;
        c.query_row(
            "SELECT event_id, event_type, envelope, writeback, state, attempts, last_error, tx_id, receipt, created_at FROM outbox WHERE event_id = ?1",
            params![event_id],
            row,
        )
        .optional()
        .map_err(|e| self.err(e))?
        .map(|r| r.map_err(|e| self.err(e)))
        .transpose()
    }

    /// Items in the given states, in the order they were recorded (a run's
    /// dataset anchors before its training anchor), oldest first.
    pub fn list(&self, states: &[OutboxState]) -> Result<Vec<OutboxItem>, OutboxError> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare(
                "SELECT event_id, event_type, envelope, writeback, state, attempts, last_error, tx_id, receipt, created_at FROM outbox ORDER BY created_at, rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let item = r.map_err(|e| self.err(e))?.map_err(|e| self.err(e))?;
            if states.is_empty() || states.contains(&item.state) {
                out.push(item);
            }
        }
        Ok(out)
    }
}

/// This host's name (for telling whether a lease holder still runs here).
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// Who holds a lease: `pid@host`.
fn lease_holder() -> String {
    format!("{}@{}", std::process::id(), host())
}

/// A holder on this host whose process no longer exists (Linux: no
/// `/proc/<pid>`); elsewhere only the lease's time frees it.
fn holder_is_gone(holder: &str) -> bool {
    let Some((pid, h)) = holder.split_once('@') else {
        return true;
    };
    h == host() && Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists()
}

type RowResult = Result<OutboxItem, serde_json::Error>;

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowResult> {
    let wb: String = r.get(3)?;
    let state: String = r.get(4)?;
    let attempts: i64 = r.get(5)?;
    let writeback = match serde_json::from_str(&wb) {
        Ok(w) => w,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(OutboxItem {
        event_id: r.get(0)?,
        event_type: r.get(1)?,
        envelope: r.get(2)?,
        writeback,
        state: OutboxState::parse(&state),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: r.get(6)?,
        tx_id: r.get(7)?,
        receipt: r.get(8)?,
        created_at: r.get(9)?,
    }))
}

#[cfg(test)]
mod tests;
