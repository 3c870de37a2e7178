//! Paths and process helpers shared by the xtask commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The git-ignored directory that holds installed peers.
pub(crate) fn peers_dir() -> PathBuf {
    root().join(".peers")
}

/// `../shared` next to the checkout, when present.
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let d = root().join("..").join("shared");
    d.is_dir().then(|| d.canonicalize().unwrap_or(d))
}

/// Runs `cmd`, echoing it, and fails on a non-zero exit.
pub(crate) fn sh(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed with {status}", describe(cmd));
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}
