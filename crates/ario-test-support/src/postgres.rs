//! A throwaway PostgreSQL server (Debian's `postgresql` package) on
//! loopback for tests: its own data directory, trust authentication, no
//! fsync, stopped (fast shutdown) and removed when dropped.
//!
//! PostgreSQL refuses to run as root; when the tests run as root (CI) the
//! server runs as the `postgres` user the package creates.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::env::{skip, SkipKind};

/// Where the server binaries are: `ARIO_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<major>/bin`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ARIO_PG_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    majors.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A running server.
pub struct PgServer {
    dir: PathBuf,
    port: u16,
    child: Mutex<Child>,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("port", &self.port)
            .finish()
    }
}

impl PgServer {
    /// Starts a fresh server. `None` (after a recorded skip) when no
    /// PostgreSQL is installed; the calling test fails when one is installed
    /// but does not start.
    pub fn start() -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            skip(
                SkipKind::Peer,
                "PostgreSQL is not installed (apt-get install postgresql, or set ARIO_PG_BIN)",
            );
            return None;
        };
        match start_in(&bin) {
            Ok(s) => Some(s),
            #[allow(clippy::panic)]
            Err(e) => panic!("PostgreSQL test server failed: {e}"),
        }
    }

    /// `postgres://ario@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://ario@127.0.0.1:{}/postgres", self.port)
    }
}

fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start_in(bin: &Path) -> Result<PgServer, String> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ario-pg-test-{}-{n}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let root = is_root();
    if root {
        let out = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("chown: {e}"))?;
        if !out.status.success() {
            return Err(format!("chown: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    let init = as_server_user(root, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "ario", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
    }
    // The port is picked only now (initdb takes a while) and picked again
    // when another process took it before the server bound it.
    let mut last = String::new();
    for _ in 0..3 {
        let port = crate::free_port().ok_or("no free port")?;
        match run_on(bin, root, &dir, port)? {
            Ok(child) => {
                return Ok(PgServer {
                    dir,
                    port,
                    child: Mutex::new(child),
                })
            }
            Err(log) => last = log,
        }
    }
    Err(format!(
        "postgres could not bind a port in 3 tries:\n{last}"
    ))
}

/// How long a server may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(300);

/// Starts the server on `port`: the running child, or (inner `Err`) the
/// log of a server that exited because the port was taken.
fn run_on(
    bin: &Path,
    root: bool,
    dir: &Path,
    port: u16,
) -> Result<Result<std::process::Child, String>, String> {
    let log = dir.join("server.log");
    let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = as_server_user(root, &bin.join("postgres"));
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-F"])
        .arg("-k")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(|e| format!("postgres: {e}"))?;
    let deadline = Instant::now() + READY_WITHIN;
    let read_log = || {
        let mut s = String::new();
        let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut s));
        s
    };
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "ario"])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ready {
            return Ok(Ok(child));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = read_log();
            if text.contains("could not bind") || text.contains("already in use") {
                return Ok(Err(text));
            }
            return Err(format!("postgres exited ({status}):\n{text}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "postgres not ready after {} s:\n{}",
                READY_WITHIN.as_secs(),
                read_log()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        // SIGINT to the postmaster (its pid is the first line of
        // `postmaster.pid`) is PostgreSQL's fast shutdown; it stops its own
        // workers. Never a process-group kill: a wrong group is someone else's.
        let postmaster = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .filter(|pid| *pid > 1);
        if let Some(pid) = postmaster {
            let _ = Command::new("kill")
                .args(["-s", "INT", &pid.to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
