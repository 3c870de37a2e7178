//! Upload wallets: Arweave RSA JWKs and Solana keys, in the Python plugin's
//! formats and resolution order.
//!
//! * The chain is detected from the JSON shape: an object is a JWK, an array is
//!   a Solana `id.json` (64 integers, seed ‖ public key), a string is a base58
//!   Solana secret (32 or 64 bytes).
//! * A wallet path given by the caller must load; nothing is ever substituted.
//! * Otherwise the default file is reused; if it cannot be used it is left
//!   untouched and an in-memory wallet is used for this process only.
//! * A fresh install gets a Solana wallet written with mode 0600 (never over an
//!   existing file).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ario_envelope::encoding::{b64url_encode, sha256};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::ans104::{ArweaveSigner, Ed25519Signer, ItemSigner};

mod jwk;

pub use jwk::{jwk_from_rsa, rsa_from_jwk, JWK_FIELDS};

/// Which chain a wallet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// Ed25519 keys; ANS-104 signature type 2.
    Solana,
    /// RSA-4096 JWKs; ANS-104 signature type 1.
    Arweave,
}

impl Chain {
    /// `solana` or `arweave` (the `ario.wallet_type` tag value).
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Solana => "solana",
            Chain::Arweave => "arweave",
        }
    }
}

/// How the wallet was obtained (the `ario.wallet_mode` tag value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletMode {
    /// A path the user configured.
    UserConfigured,
    /// The default file, reused or freshly created.
    Persistent,
    /// In memory for this process only (the signing address rotates on restart).
    Ephemeral,
}

impl WalletMode {
    /// `user-configured`, `persistent` or `ephemeral`.
    pub fn as_str(self) -> &'static str {
        match self {
            WalletMode::UserConfigured => "user-configured",
            WalletMode::Persistent => "persistent",
            WalletMode::Ephemeral => "ephemeral",
        }
    }
}

/// Why a wallet could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletLoadError {
    /// The configured path does not exist.
    #[error("Arweave wallet path was supplied but file does not exist: {}", path.display())]
    PathMissing {
        /// The path.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("Could not read Arweave wallet at {}", path.display())]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("Arweave wallet at {} is not valid JSON: {detail}", path.display())]
    NotJson {
        /// The path.
        path: PathBuf,
        /// Parser message.
        detail: String,
    },
    /// A JSON object that lacks JWK members.
    #[error("Wallet at {src} is a JSON object but not a complete RSA JWK (missing one or more of: {missing:?})")]
    IncompleteJwk {
        /// Where it came from.
        src: String,
        /// The missing members.
        missing: Vec<&'static str>,
    },
    /// A JWK whose members do not form a usable 4096-bit RSA key.
    #[error("Wallet at {src} is not a usable RSA key: {detail}")]
    BadJwk {
        /// Where it came from.
        src: String,
        /// What is wrong.
        detail: String,
    },
    /// A JSON array that is not 64 byte values.
    #[error("Wallet at {src} is a JSON array but not a valid Solana id.json (expected a 64-int byte array)")]
    BadSolanaArray {
        /// Where it came from.
        src: String,
    },
    /// A Solana secret that is malformed or inconsistent.
    #[error("Wallet at {src} is not a valid Solana key: {detail}")]
    BadSolanaKey {
        /// Where it came from.
        src: String,
        /// What is wrong.
        detail: String,
    },
    /// Any other JSON value.
    #[error("Wallet at {src} is not a recognized format (expected an RSA JWK object, a Solana id.json array, or a base58 string)")]
    Unrecognized {
        /// Where it came from.
        src: String,
    },
}

/// An upload wallet.
#[derive(Clone)]
pub enum Wallet {
    /// A Solana (Ed25519) key.
    Solana(Ed25519Signer),
    /// An Arweave RSA key.
    Arweave(ArweaveSigner),
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Wallet({}, {})",
            self.chain().as_str(),
            self.native_address()
        )
    }
}

impl Wallet {
    /// The chain.
    pub fn chain(&self) -> Chain {
        match self {
            Wallet::Solana(_) => Chain::Solana,
            Wallet::Arweave(_) => Chain::Arweave,
        }
    }

    /// The data-item signer.
    pub fn signer(&self) -> &dyn ItemSigner {
        match self {
            Wallet::Solana(s) => s,
            Wallet::Arweave(s) => s,
        }
    }

    /// The chain's own address: base58 public key (Solana) or the Arweave address.
    pub fn native_address(&self) -> String {
        match self {
            Wallet::Solana(s) => bs58::encode(s.public_key()).into_string(),
            Wallet::Arweave(_) => self.normalized_address(),
        }
    }

    /// base64url(SHA-256(owner)): the address gateways and Turbo receipts use.
    pub fn normalized_address(&self) -> String {
        b64url_encode(&sha256(&self.signer().owner()))
    }

    /// Reads a wallet from its JSON text; `src` names it in errors.
    pub fn from_json_text(text: &str, src: &str) -> Result<Self, WalletLoadError> {
        let value: Value = serde_json::from_str(text).map_err(|e| WalletLoadError::NotJson {
            path: PathBuf::from(src),
            detail: e.to_string(),
        })?;
        Self::from_json(&value, src)
    }

    /// Reads a wallet from parsed JSON, detecting the chain from its shape.
    pub fn from_json(value: &Value, src: &str) -> Result<Self, WalletLoadError> {
        match value {
            Value::Object(m) => {
                let missing: Vec<&'static str> = JWK_FIELDS
                    .into_iter()
                    .filter(|f| !m.contains_key(*f))
                    .collect();
                if !missing.is_empty() {
                    return Err(WalletLoadError::IncompleteJwk {
                        src: src.to_owned(),
                        missing,
                    });
                }
                let key = rsa_from_jwk(value).map_err(|detail| WalletLoadError::BadJwk {
                    src: src.to_owned(),
                    detail,
                })?;
                let signer = ArweaveSigner::new(key).map_err(|e| WalletLoadError::BadJwk {
                    src: src.to_owned(),
                    detail: e.to_string(),
                })?;
                Ok(Wallet::Arweave(signer))
            }
            Value::Array(items) => {
                let bytes: Option<Vec<u8>> = items
                    .iter()
                    .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                    .collect();
                match bytes {
                    Some(b) if b.len() == 64 => solana_from_bytes(&Zeroizing::new(b), src),
                    _ => Err(WalletLoadError::BadSolanaArray {
                        src: src.to_owned(),
                    }),
                }
            }
            Value::String(s) => {
                let bytes = Zeroizing::new(bs58::decode(s.trim()).into_vec().map_err(|e| {
                    WalletLoadError::BadSolanaKey {
                        src: src.to_owned(),
                        detail: format!("not base58: {e}"),
                    }
                })?);
                solana_from_bytes(&bytes, src)
            }
            _ => Err(WalletLoadError::Unrecognized {
                src: src.to_owned(),
            }),
        }
    }

    /// A fresh Solana wallet and its `id.json` text.
    pub fn generate_solana() -> (Self, Zeroizing<String>) {
        use rand_core::RngCore as _;
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(seed.as_mut());
        let signer = Ed25519Signer::from_seed(*seed);
        let mut all = seed.to_vec();
        all.extend_from_slice(&signer.public_key());
        let text = Zeroizing::new(json!(all).to_string());
        all.iter_mut().for_each(|b| *b = 0);
        (Wallet::Solana(signer), text)
    }
}

fn solana_from_bytes(bytes: &[u8], src: &str) -> Result<Wallet, WalletLoadError> {
    let bad = |detail: &str| WalletLoadError::BadSolanaKey {
        src: src.to_owned(),
        detail: detail.to_owned(),
    };
    let seed: [u8; 32] = bytes
        .get(..32)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("expected 32 or 64 bytes"))?;
    let signer = Ed25519Signer::from_seed(seed);
    match bytes.len() {
        32 => Ok(Wallet::Solana(signer)),
        64 if bytes[32..] == signer.public_key() => Ok(Wallet::Solana(signer)),
        64 => Err(bad(
            "public half does not match the key derived from the seed",
        )),
        _ => Err(bad("expected 32 or 64 bytes")),
    }
}

/// A resolved wallet and how it was obtained.
#[derive(Debug, Clone)]
pub struct LoadedWallet {
    /// The wallet.
    pub wallet: Wallet,
    /// How it was obtained.
    pub mode: WalletMode,
    /// The file it lives in (none when ephemeral).
    pub path: Option<PathBuf>,
}

/// The default wallet file: `~/.ario-mlflow/wallet.json`.
pub fn default_wallet_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".ario-mlflow").join("wallet.json"))
}

fn read(path: &Path) -> Result<String, WalletLoadError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(WalletLoadError::PathMissing {
            path: path.to_owned(),
        }),
        Err(source) => Err(WalletLoadError::Unreadable {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Resolves the upload wallet: the configured path (must load), else the
/// default file (reused, never overwritten), else a new persisted Solana wallet.
pub fn resolve(
    configured: Option<&Path>,
    default_path: Option<&Path>,
) -> Result<LoadedWallet, WalletLoadError> {
    if let Some(path) = configured {
        let text = read(path)?;
        let wallet =
            Wallet::from_json_text(&text, &path.display().to_string()).map_err(|e| match e {
                WalletLoadError::NotJson { detail, .. } => WalletLoadError::NotJson {
                    path: path.to_owned(),
                    detail,
                },
                other => other,
            })?;
        return Ok(LoadedWallet {
            wallet,
            mode: WalletMode::UserConfigured,
            path: Some(path.to_owned()),
        });
    }
    let Some(default_path) = default_path else {
        let (wallet, _) = Wallet::generate_solana();
        return Ok(LoadedWallet {
            wallet,
            mode: WalletMode::Ephemeral,
            path: None,
        });
    };
    if default_path.exists() {
        let loaded = read(default_path)
            .and_then(|t| Wallet::from_json_text(&t, &default_path.display().to_string()));
        return Ok(match loaded {
            Ok(wallet) => LoadedWallet {
                wallet,
                mode: WalletMode::Persistent,
                path: Some(default_path.to_owned()),
            },
            Err(e) => {
                tracing::warn!(path = %default_path.display(), error = %e, "default wallet unusable; left untouched, using an ephemeral wallet");
                let (wallet, _) = Wallet::generate_solana();
                LoadedWallet {
                    wallet,
                    mode: WalletMode::Ephemeral,
                    path: None,
                }
            }
        });
    }
    let (wallet, text) = Wallet::generate_solana();
    match write_new_private(default_path, text.as_bytes()) {
        Ok(()) => Ok(LoadedWallet {
            wallet,
            mode: WalletMode::Persistent,
            path: Some(default_path.to_owned()),
        }),
        Err(e) => {
            tracing::warn!(path = %default_path.display(), error = %e, "could not persist a new wallet; using it in memory only");
            Ok(LoadedWallet {
                wallet,
                mode: WalletMode::Ephemeral,
                path: None,
            })
        }
    }
}

/// Creates `path` with mode 0600 and writes `bytes`; fails if it already exists.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_solana_addresses() {
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let w = Wallet::from_json(
            &json!(bs58::encode(hex::decode(seed).unwrap()).into_string()),
            "test",
        )
        .unwrap();
        assert_eq!(
            w.native_address(),
            "FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z"
        );
        assert_eq!(
            w.normalized_address(),
            "If4x36FUomFia_hUBG_SJxt77UtqvkWqWId-9H-XIbk"
        );
        assert_eq!(w.chain().as_str(), "solana");
    }

    #[test]
    fn shape_errors() {
        assert!(matches!(
            Wallet::from_json(&json!({"kty": "RSA"}), "x"),
            Err(WalletLoadError::IncompleteJwk { .. })
        ));
        assert!(matches!(
            Wallet::from_json(&json!([1, 2, 3]), "x"),
            Err(WalletLoadError::BadSolanaArray { .. })
        ));
        assert!(matches!(
            Wallet::from_json(&json!(42), "x"),
            Err(WalletLoadError::Unrecognized { .. })
        ));
        assert!(matches!(
            Wallet::from_json(&json!("0OIl"), "x"),
            Err(WalletLoadError::BadSolanaKey { .. })
        ));
        let mut arr = vec![1u8; 64];
        arr[63] ^= 1;
        assert!(matches!(
            Wallet::from_json(&json!(arr), "x"),
            Err(WalletLoadError::BadSolanaKey { .. })
        ));
        let garbage: Value = JWK_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), json!("AQAB")))
            .collect::<serde_json::Map<_, _>>()
            .into();
        assert!(matches!(
            Wallet::from_json(&garbage, "x"),
            Err(WalletLoadError::BadJwk { .. })
        ));
    }

    #[test]
    fn generated_wallet_round_trips() {
        let (w, text) = Wallet::generate_solana();
        let back = Wallet::from_json_text(&text, "gen").unwrap();
        assert_eq!(back.native_address(), w.native_address());
    }
}
