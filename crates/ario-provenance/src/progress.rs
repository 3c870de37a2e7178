//! Progress of long operations (hashing a model directory, auditing many
//! decisions, retrying a long outbox) for a front end to show. The library
//! only counts; nothing is shown unless the program installs a [`Reporter`].
//!
//! ```
//! use ario_provenance::progress::{self, Reporter, Task};
//!
//! struct Quiet;
//! impl Task for Quiet {
//!     fn advance(&self, _n: u64) {}
//!     fn finish(&self) {}
//! }
//! struct Log;
//! impl Reporter for Log {
//!     fn begin(&self, what: &str, total: u64) -> Box<dyn Task> {
//!         eprintln!("{what}: {total} steps");
//!         Box::new(Quiet)
//!     }
//! }
//! let _ = progress::set_reporter(Box::new(Log));
//! ```

use std::sync::OnceLock;

/// One operation in progress.
pub trait Task: Send + Sync {
    /// `n` more steps done.
    fn advance(&self, n: u64);
    /// The operation ended (successfully or not).
    fn finish(&self);
}

/// Shows operations as they progress.
pub trait Reporter: Send + Sync {
    /// An operation of `total` steps begins.
    fn begin(&self, what: &str, total: u64) -> Box<dyn Task>;
}

static REPORTER: OnceLock<Box<dyn Reporter>> = OnceLock::new();

/// Installs the process's reporter (once; a second call hands its reporter back).
pub fn set_reporter(r: Box<dyn Reporter>) -> Result<(), Box<dyn Reporter>> {
    REPORTER.set(r)
}

/// A counted operation: advances the reporter's task, finishes it when dropped.
pub(crate) struct Tracker(Option<Box<dyn Task>>);

impl Tracker {
    /// One more step done.
    pub(crate) fn step(&self) {
        if let Some(t) = &self.0 {
            t.advance(1);
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.finish();
        }
    }
}

/// Begins an operation of `total` steps (shown only with a reporter, and
/// only when there is more than one step).
pub(crate) fn begin(what: &str, total: usize) -> Tracker {
    let total = u64::try_from(total).unwrap_or(u64::MAX);
    Tracker(
        REPORTER
            .get()
            .filter(|_| total > 1)
            .map(|r| r.begin(what, total)),
    )
}
