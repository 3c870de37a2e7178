//! [`Verifier`]: what reading and checking anchors needs — the MLflow
//! client and the gateways — and nothing that could sign or upload.

use std::sync::Arc;

use ario_gateway::config::GatewayConfig;
use ario_gateway::fetch::GatewayReader;
use ario_mlflow_client::MlflowClient;

use crate::error::ProvenanceError;
use crate::trust::TrustPolicy;

struct Parts {
    mlflow: MlflowClient,
    gateway: GatewayConfig,
    reader: GatewayReader,
    trust: Option<TrustPolicy>,
}

/// Verifies and audits anchored events against Arweave and live MLflow.
/// It holds no key, wallet or outbox, and creates no file; cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    parts: Arc<Parts>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("tracking_uri", &self.parts.mlflow.tracking_uri())
            .finish()
    }
}

impl Verifier {
    /// A verifier over this MLflow server and these gateways.
    pub fn new(mlflow: MlflowClient, gateway: GatewayConfig) -> Self {
        Verifier {
            parts: Arc::new(Parts {
                reader: GatewayReader::new(gateway.clone()),
                mlflow,
                gateway,
                trust: None,
            }),
        }
    }

    /// From the environment (`MLFLOW_TRACKING_URI`, gateway variables).
    pub fn from_env() -> Result<Self, ProvenanceError> {
        Ok(Self::new(
            MlflowClient::from_env()?,
            GatewayConfig::from_env(),
        ))
    }

    /// The MLflow client.
    pub fn mlflow(&self) -> &MlflowClient {
        &self.parts.mlflow
    }

    /// Gateway settings.
    pub fn gateway(&self) -> &GatewayConfig {
        &self.parts.gateway
    }

    /// The same verifier, judging signers by `policy` (a decisive Signer
    /// Trusted row, and the policy's attestation level).
    pub fn with_trust(self, policy: TrustPolicy) -> Self {
        Verifier {
            parts: Arc::new(Parts {
                mlflow: self.parts.mlflow.clone(),
                gateway: self.parts.gateway.clone(),
                reader: self.parts.reader.clone(),
                trust: Some(policy),
            }),
        }
    }

    /// The trust policy, when one was given.
    pub fn trust(&self) -> Option<&TrustPolicy> {
        self.parts.trust.as_ref()
    }

    /// The gateway reader (with fallback across gateways).
    pub(crate) fn reader(&self) -> &GatewayReader {
        &self.parts.reader
    }
}
