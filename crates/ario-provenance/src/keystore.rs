//! The envelope signing key: loaded, or created once and kept.
//!
//! Unlike the plugin (which writes a new key pair on every start), the key
//! never rotates by itself: an existing key file is always used, and an
//! unreadable one is an error rather than a reason to make a new identity.

use std::path::{Path, PathBuf};

use ario_envelope::keys::{KeyError, SigningKey};
use ario_gateway::wallet::write_new_private;

/// Where a signing key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOrigin {
    /// `ARIO_MLFLOW_SIGNING_KEY`.
    Env,
    /// An existing key file.
    File,
    /// Created now and written to the key file.
    Created,
    /// In memory only (read-only contexts, which sign nothing).
    Ephemeral,
}

/// Why the signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The env var or a file holds no valid key.
    #[error("signing key in {source_name} is invalid: {error}")]
    Invalid {
        /// Env var or file.
        source_name: String,
        /// Why.
        error: KeyError,
    },
    /// A key file could not be read or written.
    #[error("signing key file {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// The key files under a home directory.
pub fn key_paths(home: &Path) -> (PathBuf, PathBuf) {
    let dir = home.join("keys");
    (
        dir.join("ed25519_private.json"),
        dir.join("ed25519_public.json"),
    )
}

/// Loads the signing key: `env_seed` (standard base64 of the 32-byte seed)
/// when set, else the key files under `home`, else a new key written there
/// (mode 0600, never overwriting a file that appeared meanwhile).
pub fn load_or_create(
    home: &Path,
    env_seed: Option<&str>,
) -> Result<(SigningKey, KeyOrigin), KeystoreError> {
    if let Some(seed) = env_seed.filter(|s| !s.trim().is_empty()) {
        let key =
            SigningKey::from_seed_base64(seed.trim()).map_err(|error| KeystoreError::Invalid {
                source_name: "ARIO_MLFLOW_SIGNING_KEY".into(),
                error,
            })?;
        return Ok((key, KeyOrigin::Env));
    }
    let (private, public) = key_paths(home);
    loop {
        match std::fs::read_to_string(&private) {
            Ok(text) => {
                let public_text = std::fs::read_to_string(&public).ok();
                let key =
                    SigningKey::from_key_files(&text, public_text.as_deref()).map_err(|error| {
                        KeystoreError::Invalid {
                            source_name: private.display().to_string(),
                            error,
                        }
                    })?;
                return Ok((key, KeyOrigin::File));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate();
                match write_new_private(&private, key.private_key_file().as_bytes()) {
                    Ok(()) => {}
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(error) => {
                        return Err(KeystoreError::Io {
                            path: private,
                            error,
                        })
                    }
                }
                // The public half is not secret, but is kept private too.
                match write_new_private(&public, key.public_key_file().as_bytes()) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        std::fs::write(&public, key.public_key_file()).map_err(|error| {
                            KeystoreError::Io {
                                path: public.clone(),
                                error,
                            }
                        })?;
                    }
                    Err(error) => {
                        return Err(KeystoreError::Io {
                            path: public,
                            error,
                        })
                    }
                }
                return Ok((key, KeyOrigin::Created));
            }
            Err(error) => {
                return Err(KeystoreError::Io {
                    path: private,
                    error,
                })
            }
        }
    }
}

/// Where a retired key is kept (for verification; it never signs again).
pub fn retired_dir(home: &Path) -> PathBuf {
    home.join("keys").join("retired")
}

/// Hands the key files over to `successor`: the current private key is
/// kept under [`retired_dir`] (never overwritten), then the successor's
/// files replace the current ones (written aside, then renamed).
pub fn install_successor(
    home: &Path,
    retiring: &SigningKey,
    successor: &SigningKey,
) -> Result<(), KeystoreError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| KeystoreError::Io { path, error }
    };
    let kept = retired_dir(home).join(format!("{}.json", retiring.public_key_hex()));
    match write_new_private(&kept, retiring.private_key_file().as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(&kept)(e)),
    }
    let (private, public) = key_paths(home);
    for (path, text) in [
        (&private, successor.private_key_file().to_string()),
        (&public, successor.public_key_file()),
    ] {
        let aside = path.with_extension("json.new");
        let _ = std::fs::remove_file(&aside);
        write_new_private(&aside, text.as_bytes()).map_err(io(&aside))?;
        std::fs::rename(&aside, path).map_err(io(path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn created_once_then_reused_with_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (a, o1) = load_or_create(dir.path(), None).unwrap();
        let (b, o2) = load_or_create(dir.path(), None).unwrap();
        assert_eq!((o1, o2), (KeyOrigin::Created, KeyOrigin::File));
        assert_eq!(a.public_key_hex(), b.public_key_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for p in [key_paths(dir.path()).0, key_paths(dir.path()).1] {
                assert_eq!(
                    std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }
        }
    }

    #[test]
    fn corrupt_key_file_is_an_error_not_a_new_identity() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), None).unwrap();
        let (private, _) = key_paths(dir.path());
        std::fs::write(&private, "{\"seed\": \"nope\"}").unwrap();
        assert!(matches!(
            load_or_create(dir.path(), None),
            Err(KeystoreError::Invalid { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(&private).unwrap(),
            "{\"seed\": \"nope\"}"
        );
    }

    #[test]
    fn env_seed_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (k, o) = load_or_create(
            dir.path(),
            Some("ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8="),
        )
        .unwrap();
        assert_eq!(o, KeyOrigin::Env);
        assert_eq!(
            k.public_key_hex(),
            "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6"
        );
        assert!(!key_paths(dir.path()).0.exists());
        assert!(load_or_create(dir.path(), Some("AAAA")).is_err());
    }
}
