//! Installs the real peer implementations into `.peers/` (idempotent).
//!
//! * `.peers/py`: a venv from `xtask/python/requirements.txt` (the one place
//!   that pins MLflow and the Python peers);
//! * `.peers/node`: npm packages from `xtask/peers/package.json`.

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
    Ok(Peers { python, node_dir })
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
