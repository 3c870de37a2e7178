//! Installs the real peer implementations into `.peers/` (idempotent).
//!
//! * `.peers/py`: a venv from `xtask/python/requirements.txt` (the one place
//!   that pins MLflow and the Python peers);
//! * `.peers/node`: npm packages from `xtask/peers/package.json`;
//! * Debian's `postgresql` (serve's shared-queue test) and `chromium` (the
//!   report screenshot), installed with apt-get when missing and running as root.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::util::{peers_dir, root, sh};

/// Where the installed peers live.
pub(crate) struct Peers {
    /// The venv's Python interpreter.
    pub(crate) python: PathBuf,
    /// `node_modules`' parent, for `node` scripts (None when npm is unavailable).
    pub(crate) node_dir: Option<PathBuf>,
}

fn stamp_ok(stamp: &PathBuf, inputs: &[u8]) -> bool {
    std::fs::read_to_string(stamp).is_ok_and(|s| s.trim() == hex::encode(Sha256::digest(inputs)))
}

fn write_stamp(stamp: &PathBuf, inputs: &[u8]) -> anyhow::Result<()> {
    std::fs::write(stamp, hex::encode(Sha256::digest(inputs)))?;
    Ok(())
}

/// Installs (or reuses) the Python venv pinned by `requirements`, under `.peers/<name>`.
pub(crate) fn python_env(name: &str, requirements: &str) -> anyhow::Result<PathBuf> {
    let venv = peers_dir().join(name);
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".installed");
    if python.is_file() && stamp_ok(&stamp, requirements.as_bytes()) {
        return Ok(python);
    }
    std::fs::create_dir_all(peers_dir())?;
    if !python.is_file() {
        sh(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let req = venv.join("requirements.txt");
    std::fs::write(&req, requirements)?;
    sh(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&req))?;
    write_stamp(&stamp, requirements.as_bytes())?;
    Ok(python)
}

/// Installs every peer and returns where they are.
pub(crate) fn install() -> anyhow::Result<Peers> {
    let requirements = std::fs::read_to_string(root().join("xtask/python/requirements.txt"))
        .context("reading xtask/python/requirements.txt")?;
    let python = python_env("py", &requirements)?;
    let node_dir = install_node()?;
    ensure_debian_packages()?;
    Ok(Peers { python, node_dir })
}

fn has_postgresql() -> bool {
    std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|d| {
        d.filter_map(|e| e.ok())
            .any(|e| e.path().join("bin/postgres").is_file())
    }) || std::env::var_os("ARIO_PG_BIN").is_some_and(|v| !v.is_empty())
}

fn has_chromium() -> bool {
    std::path::Path::new("/usr/bin/chromium").is_file()
        || std::env::var_os("ARIO_CHROMIUM").is_some_and(|v| !v.is_empty())
}

/// Whether a package's binary is there.
type Present = fn() -> bool;

/// Debian's packages the tests use — `postgresql` (serve's shared queue) and
/// `chromium` (the report screenshot): present, or installed with apt-get
/// when we are root; otherwise an error that says what to install.
fn ensure_debian_packages() -> anyhow::Result<()> {
    let checks: [(&str, Present); 2] = [("postgresql", has_postgresql), ("chromium", has_chromium)];
    let wanted: Vec<&str> = checks
        .into_iter()
        .filter(|(_, present)| !present())
        .map(|(name, _)| name)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        anyhow::bail!(
            "the tests need Debian's {}: `sudo apt-get install {}` (or set ARIO_PG_BIN / ARIO_CHROMIUM)",
            wanted.join(" and "),
            wanted.join(" ")
        );
    }
    sh(Command::new("apt-get").args(["update", "-qq"]))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&wanted)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    anyhow::ensure!(
        has_postgresql() && has_chromium(),
        "apt-get installed {}, but a binary is still missing",
        wanted.join(" ")
    );
    Ok(())
}

fn install_node() -> anyhow::Result<Option<PathBuf>> {
    let src = root().join("xtask/peers");
    let manifest = src.join("package.json");
    if !manifest.is_file() {
        return Ok(None);
    }
    let dir = peers_dir().join("node");
    std::fs::create_dir_all(&dir)?;
    let mut inputs = std::fs::read(&manifest)?;
    let lock = src.join("package-lock.json");
    if lock.is_file() {
        inputs.extend(std::fs::read(&lock)?);
    }
    let stamp = dir.join(".installed");
    if dir.join("node_modules").is_dir() && stamp_ok(&stamp, &inputs) {
        return Ok(Some(dir));
    }
    std::fs::copy(&manifest, dir.join("package.json"))?;
    let verb = if lock.is_file() {
        std::fs::copy(&lock, dir.join("package-lock.json"))?;
        "ci"
    } else {
        "install"
    };
    sh(Command::new("npm")
        .args([verb, "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&dir))?;
    write_stamp(&stamp, &inputs)?;
    Ok(Some(dir))
}
