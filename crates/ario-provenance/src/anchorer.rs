//! [`Anchorer`]: a [`Verifier`] plus what making anchors needs — the signing
//! key, the upload wallet and bundler, and the durable outbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ario_envelope::keys::SigningKey;
use ario_gateway::config::GatewayConfig;
use ario_gateway::turbo::TurboClient;
use ario_gateway::wallet::{self, LoadedWallet};
use ario_mlflow_client::MlflowClient;

use crate::error::ProvenanceError;
use crate::keystore::{self, KeyOrigin};
use crate::outbox::Outbox;
use crate::tags;
use crate::tasks::Tasks;
use crate::verifier::Verifier;

/// How to build an [`Anchorer`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Key, wallet and outbox directory (`ARIO_MLFLOW_HOME`, else `~/.ario-mlflow`).
    pub home: PathBuf,
    /// `ARIO_MLFLOW_SIGNING_KEY` (base64 seed), if set.
    pub signing_key: Option<String>,
    /// Upload to the bundler (off: signed-only, everything stays in the outbox).
    pub upload: bool,
}

impl Settings {
    /// From the environment.
    pub fn from_env() -> Self {
        let home = std::env::var_os("ARIO_MLFLOW_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".ario-mlflow"))
            })
            .unwrap_or_else(|| PathBuf::from(".ario-mlflow"));
        Settings {
            home,
            signing_key: std::env::var("ARIO_MLFLOW_SIGNING_KEY").ok(),
            upload: true,
        }
    }
}

pub(crate) struct Parts {
    pub(crate) key: SigningKey,
    key_origin: KeyOrigin,
    pub(crate) wallet: Option<LoadedWallet>,
    pub(crate) turbo: TurboClient,
    pub(crate) outbox: Outbox,
    home: PathBuf,
    pub(crate) tasks: Tasks,
}

/// Anchors lifecycle events: signs envelopes, stores them in MLflow and the
/// outbox, uploads them and writes the result back. Every reading method of
/// [`Verifier`] is available on it too. Cheap to clone.
#[derive(Clone)]
pub struct Anchorer {
    verifier: Verifier,
    pub(crate) parts: Arc<Parts>,
}

impl std::fmt::Debug for Anchorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchorer")
            .field("verifier", &self.verifier)
            .field("public_key", &self.parts.key.public_key_hex())
            .field("home", &self.parts.home)
            .finish()
    }
}

impl std::ops::Deref for Anchorer {
    type Target = Verifier;
    fn deref(&self) -> &Verifier {
        &self.verifier
    }
}

impl Anchorer {
    /// Loads (or creates once) the signing key and the upload wallet, and
    /// opens the outbox under `settings.home`.
    pub fn new(
        mlflow: MlflowClient,
        gateway: GatewayConfig,
        settings: Settings,
    ) -> Result<Self, ProvenanceError> {
        let (key, key_origin) =
            keystore::load_or_create(&settings.home, settings.signing_key.as_deref())?;
        let wallet = if settings.upload {
            Some(wallet::resolve(
                gateway.wallet_path.as_deref(),
                Some(&settings.home.join("wallet.json")),
            )?)
        } else {
            None
        };
        let outbox = Outbox::open(settings.home.join("outbox.sqlite"))?;
        Ok(Anchorer {
            parts: Arc::new(Parts {
                key,
                key_origin,
                wallet,
                turbo: TurboClient::new(gateway.clone()),
                outbox,
                home: settings.home,
                tasks: Tasks::default(),
            }),
            verifier: Verifier::new(mlflow, gateway),
        })
    }

    /// From the environment (MLflow, gateway and `ARIO_MLFLOW_*` variables).
    pub fn from_env() -> Result<Self, ProvenanceError> {
        Self::new(
            MlflowClient::from_env()?,
            GatewayConfig::from_env(),
            Settings::from_env(),
        )
    }

    /// The same anchorer, verifying under `policy` (see [`Verifier::with_trust`]).
    pub fn with_trust(mut self, policy: crate::trust::TrustPolicy) -> Self {
        self.verifier = self.verifier.with_trust(policy);
        self
    }

    /// The verifier this anchorer reads with.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
    /// The signing public key (hex).
    pub fn public_key_hex(&self) -> String {
        self.parts.key.public_key_hex()
    }
    /// Where the signing key came from.
    pub fn key_origin(&self) -> KeyOrigin {
        self.parts.key_origin
    }
    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.parts.outbox
    }
    /// Home directory (key, wallet, outbox, downloaded models).
    pub fn home(&self) -> &Path {
        &self.parts.home
    }
    /// The upload wallet, when uploading is on.
    pub fn wallet(&self) -> Option<&LoadedWallet> {
        self.parts.wallet.as_ref()
    }

    /// The wallet tags (`ario.wallet_mode`, `ario.wallet_type`), when uploading.
    pub(crate) fn wallet_tags(&self) -> Vec<(&'static str, String)> {
        match &self.parts.wallet {
            Some(w) => vec![
                (tags::WALLET_MODE, w.mode.as_str().to_owned()),
                (tags::WALLET_TYPE, w.wallet.chain().as_str().to_owned()),
            ],
            None => vec![],
        }
    }
}
