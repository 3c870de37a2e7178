//! Paths named by the environment, and tests that skip for lack of them.
//!
//! The rules, the same for every variable (`ARIO_PEER_PYTHON`,
//! `ARIO_PEER_NODE_MODULES`, `ARIO_CONFORMANCE_DIR`, `ARIO_MLFLOW_FIXTURES_DIR`):
//!
//! * unset or empty: the test prints one line `SKIPPED: <reason>`, appends it to
//!   the file named by `ARIO_SKIP_LOG` (when set) and returns;
//! * a relative path is taken from the workspace root, not from the crate
//!   directory cargo runs tests in;
//! * set, but the path does not exist or is not what it must be (an executable
//!   file, a directory): the test fails and says why. A typo never turns into
//!   a silent pass.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

/// The variable naming the file skipped tests append to (set by `cargo xtask test`).
pub const SKIP_LOG_VAR: &str = "ARIO_SKIP_LOG";

/// What a path variable must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// An executable file (an interpreter).
    Executable,
    /// A directory (a corpus, `node_modules`).
    Dir,
}

/// What a skipped test went without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// The MLflow server (it needs the peer venv).
    Mlflow,
    /// A peer implementation (Python or npm packages).
    Peer,
    /// A conformance corpus read from outside the repository.
    Corpus,
}

impl SkipKind {
    /// The stable name used in the skip log.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Mlflow => "mlflow",
            SkipKind::Peer => "peer",
            SkipKind::Corpus => "corpus",
        }
    }

    /// The kind named `name` in the skip log.
    pub fn from_name(name: &str) -> Option<Self> {
        [SkipKind::Mlflow, SkipKind::Peer, SkipKind::Corpus]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// One line of the skip log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipRecord {
    /// What the test went without.
    pub kind: SkipKind,
    /// `<test binary> <test name>`, as far as they are known.
    pub test: String,
    /// Why it skipped.
    pub reason: String,
}

impl SkipRecord {
    /// The record as one log line (`kind<TAB>test<TAB>reason`, no newline).
    pub fn to_line(&self) -> String {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        format!(
            "{}\t{}\t{}",
            self.kind.as_str(),
            clean(&self.test),
            clean(&self.reason)
        )
    }

    /// Parses a line written by [`Self::to_line`].
    pub fn parse_line(line: &str) -> Option<Self> {
        let mut parts = line.splitn(3, '\t');
        let kind = SkipKind::from_name(parts.next()?)?;
        let test = parts.next()?.to_owned();
        let reason = parts.next()?.to_owned();
        Some(SkipRecord { kind, test, reason })
    }
}

/// Parses a whole skip log; lines that are not records are ignored.
pub fn parse_skip_log(text: &str) -> Vec<SkipRecord> {
    text.lines().filter_map(SkipRecord::parse_line).collect()
}

/// Resolves the value of `var` without touching the process environment.
///
/// `Ok(None)`: unset or empty. `Ok(Some(path))`: usable (a relative value is
/// joined to `root`). `Err(reason)`: set, but unusable.
pub fn resolve_path(
    var: &str,
    value: Option<&OsStr>,
    root: &Path,
    kind: PathKind,
) -> Result<Option<PathBuf>, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let given = Path::new(value);
    let path = if given.is_absolute() {
        given.to_path_buf()
    } else {
        root.join(given)
    };
    let shown = if given.is_absolute() {
        format!("{var}={}", given.display())
    } else {
        format!(
            "{var}={} (relative, so taken from the workspace root: {})",
            given.display(),
            path.display()
        )
    };
    let meta = std::fs::metadata(&path).map_err(|e| format!("{shown}: {e}"))?;
    match kind {
        PathKind::Dir if !meta.is_dir() => Err(format!("{shown} is not a directory")),
        PathKind::Executable if !meta.is_file() => Err(format!("{shown} is not a file")),
        PathKind::Executable if !is_executable(&meta) => Err(format!("{shown} is not executable")),
        _ => Ok(Some(path)),
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

/// The path named by `var`: `None` when unset or empty. A test that calls
/// this fails (panics with the reason) when the variable is set but unusable.
pub fn env_path(var: &str, kind: PathKind) -> Option<PathBuf> {
    let value = std::env::var_os(var);
    match resolve_path(var, value.as_deref(), &repo_root(), kind) {
        Ok(p) => p,
        #[allow(clippy::panic)]
        Err(reason) => panic!("{reason}"),
    }
}

/// [`env_path`], or — when `var` is unset — [`skip`] with `what` as the
/// reason and `None`.
pub fn env_path_or_skip(
    var: &str,
    kind: PathKind,
    skip_kind: SkipKind,
    what: &str,
) -> Option<PathBuf> {
    let p = env_path(var, kind);
    if p.is_none() {
        skip(
            skip_kind,
            &format!("{var} is not set; {what} (run through `cargo xtask test`)"),
        );
    }
    p
}

/// Reports a skipped test: prints `SKIPPED: <reason>` and appends a record to
/// the file named by `ARIO_SKIP_LOG` (when set), so that a runner can tell a
/// skip from a pass even though cargo hides the output of passing tests.
pub fn skip(kind: SkipKind, reason: &str) {
    println!("SKIPPED: {reason}");
    let log = std::env::var_os(SKIP_LOG_VAR).filter(|v| !v.is_empty());
    if let Some(log) = log {
        #[allow(clippy::panic)]
        if let Err(e) = append_skip(Path::new(&log), kind, reason) {
            panic!(
                "cannot append to {SKIP_LOG_VAR}={}: {e}",
                Path::new(&log).display()
            );
        }
    }
}

/// Appends one record for the current test to the skip log at `log`.
fn append_skip(log: &Path, kind: SkipKind, reason: &str) -> std::io::Result<()> {
    let record = SkipRecord {
        kind,
        test: current_test(),
        reason: reason.to_owned(),
    };
    let line = record.to_line() + "\n";
    // One write of one short line to a file opened for appending: lines from
    // parallel tests and binaries do not interleave.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()))
}

/// `<binary> <test>`: the test binary (without cargo's hash suffix) and the
/// test's thread name (libtest names each test's thread after the test).
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
            _ => s,
        })
        .unwrap_or_default();
    let thread = std::thread::current();
    format!("{binary} {}", thread.name().unwrap_or("?"))
}

/// The repository (workspace) root, without `..` components.
pub fn repo_root() -> PathBuf {
    normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Removes `.` and `..` components lexically (the venv interpreter must not be
/// resolved through its symlink, so no `canonicalize`).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn exe(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        p
    }

    #[test]
    fn unset_or_empty_is_none() {
        let root = Path::new("/nonexistent-root");
        for kind in [PathKind::Executable, PathKind::Dir] {
            assert_eq!(resolve_path("V", None, root, kind), Ok(None));
            assert_eq!(
                resolve_path("V", Some(OsStr::new("")), root, kind),
                Ok(None)
            );
        }
    }

    #[test]
    fn relative_paths_are_taken_from_the_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".peers/py/bin")).unwrap();
        let py = exe(&root.path().join(".peers/py/bin"), "python", 0o755);
        let got = resolve_path(
            "ARIO_PEER_PYTHON",
            Some(OsStr::new(".peers/py/bin/python")),
            root.path(),
            PathKind::Executable,
        );
        assert_eq!(got, Ok(Some(py.clone())));
        let dir = resolve_path(
            "ARIO_CONFORMANCE_DIR",
            Some(OsStr::new(".peers")),
            root.path(),
            PathKind::Dir,
        );
        assert_eq!(dir, Ok(Some(root.path().join(".peers"))));
        // An absolute path is used as it is.
        let abs = resolve_path(
            "ARIO_PEER_PYTHON",
            Some(py.as_os_str()),
            Path::new("/elsewhere"),
            PathKind::Executable,
        );
        assert_eq!(abs, Ok(Some(py)));
    }

    #[test]
    fn set_but_missing_is_an_error_naming_the_resolved_path() {
        let root = tempfile::tempdir().unwrap();
        let err = resolve_path(
            "ARIO_PEER_PYTHON",
            Some(OsStr::new(".peers/py/bin/python")),
            root.path(),
            PathKind::Executable,
        )
        .unwrap_err();
        assert!(
            err.contains("ARIO_PEER_PYTHON=.peers/py/bin/python"),
            "{err}"
        );
        assert!(err.contains("workspace root"), "{err}");
        assert!(
            err.contains(
                &root
                    .path()
                    .join(".peers/py/bin/python")
                    .display()
                    .to_string()
            ),
            "{err}"
        );
        let abs = resolve_path(
            "ARIO_CONFORMANCE_DIR",
            Some(root.path().join("nope").as_os_str()),
            root.path(),
            PathKind::Dir,
        )
        .unwrap_err();
        assert!(abs.starts_with("ARIO_CONFORMANCE_DIR="), "{abs}");
    }

    #[test]
    fn wrong_kind_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let file = exe(root.path(), "tool", 0o755);
        let as_dir = resolve_path("V", Some(file.as_os_str()), root.path(), PathKind::Dir);
        assert!(as_dir.unwrap_err().contains("is not a directory"));
        let as_exe = resolve_path(
            "V",
            Some(root.path().as_os_str()),
            root.path(),
            PathKind::Executable,
        );
        assert!(as_exe.unwrap_err().contains("is not a file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_execute_permission_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let file = exe(root.path(), "python", 0o644);
        let got = resolve_path(
            "ARIO_PEER_PYTHON",
            Some(file.as_os_str()),
            root.path(),
            PathKind::Executable,
        );
        assert!(got.unwrap_err().contains("is not executable"));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_interpreter_keeps_its_own_path() {
        // A venv's bin/python is a symlink; resolving it would leave the venv.
        let root = tempfile::tempdir().unwrap();
        let real = exe(root.path(), "python3.11", 0o755);
        std::fs::create_dir_all(root.path().join("venv/bin")).unwrap();
        let link = root.path().join("venv/bin/python");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let got = resolve_path(
            "ARIO_PEER_PYTHON",
            Some(OsStr::new("venv/bin/python")),
            root.path(),
            PathKind::Executable,
        );
        assert_eq!(got, Ok(Some(link)));
    }

    #[test]
    fn skip_records_round_trip() {
        let r = SkipRecord {
            kind: SkipKind::Mlflow,
            test: "lifecycle anchor_run_end_to_end".into(),
            reason: "ARIO_PEER_PYTHON is not set;\tno\nserver".into(),
        };
        let line = r.to_line();
        assert!(!line.contains('\n'));
        let back = SkipRecord::parse_line(&line).unwrap();
        assert_eq!(back.kind, SkipKind::Mlflow);
        assert_eq!(back.test, r.test);
        assert_eq!(back.reason, "ARIO_PEER_PYTHON is not set; no server");
        let log = format!("{line}\nnot a record\n{}\n", {
            let mut c = r.clone();
            c.kind = SkipKind::Corpus;
            c.to_line()
        });
        let parsed = parse_skip_log(&log);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].kind, SkipKind::Corpus);
    }

    #[test]
    fn skip_appends_to_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("skips.log");
        append_skip(&log, SkipKind::Peer, "first").unwrap();
        append_skip(&log, SkipKind::Corpus, "second").unwrap();
        let records = parse_skip_log(&std::fs::read_to_string(&log).unwrap());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].kind, SkipKind::Peer);
        assert_eq!(records[0].reason, "first");
        assert!(
            records[0].test.ends_with("skip_appends_to_the_log"),
            "{}",
            records[0].test
        );
        assert_eq!(records[1].kind, SkipKind::Corpus);
    }

    #[test]
    fn the_root_has_no_parent_components() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(!root.components().any(|c| c == Component::ParentDir));
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
