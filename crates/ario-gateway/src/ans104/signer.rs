//! Data-item signers for the two wallet kinds the plugin supports.

use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use sha2::Sha256;

use super::item::{ItemSigner, SignItemError, SignatureType};

/// Signs type-2 (Ed25519) items: what a Solana wallet produces server-side.
#[derive(Clone)]
pub struct Ed25519Signer(ed25519_dalek::SigningKey);

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ed25519Signer({})",
            hex::encode(self.0.verifying_key().as_bytes())
        )
    }
}

impl Ed25519Signer {
    /// From a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// The 32-byte public key (the item owner).
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

impl ItemSigner for Ed25519Signer {
    fn signature_type(&self) -> SignatureType {
        SignatureType::Ed25519
    }

    fn owner(&self) -> Vec<u8> {
        self.public_key().to_vec()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignItemError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes().to_vec())
    }
}

/// Signs type-1 (Arweave RSA-PSS-SHA256, 4096-bit) items.
#[derive(Clone)]
pub struct ArweaveSigner {
    key: RsaPrivateKey,
    salt_len: usize,
}

impl std::fmt::Debug for ArweaveSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ArweaveSigner({} bits, salt {})",
            self.key.size() * 8,
            self.salt_len
        )
    }
}

impl ArweaveSigner {
    /// Salt length used unless told otherwise (the WebCrypto default; every
    /// verifier in the ecosystem accepts it).
    pub const DEFAULT_SALT: usize = 32;

    /// From a private key; its modulus must be 512 bytes (4096 bits).
    pub fn new(key: RsaPrivateKey) -> Result<Self, SignItemError> {
        if key.size() != 512 {
            return Err(SignItemError::Signer(format!(
                "Arweave keys are 4096-bit; this one is {} bits",
                key.size() * 8
            )));
        }
        Ok(Self {
            key,
            salt_len: Self::DEFAULT_SALT,
        })
    }

    /// Uses another PSS salt length (e.g. 478, the maximum, as Node and Python do).
    pub fn with_salt_len(mut self, salt_len: usize) -> Self {
        self.salt_len = salt_len;
        self
    }
}

impl ItemSigner for ArweaveSigner {
    fn signature_type(&self) -> SignatureType {
        SignatureType::Arweave
    }

    fn owner(&self) -> Vec<u8> {
        let mut n = self.key.n().to_bytes_be();
        while n.len() < 512 {
            n.insert(0, 0);
        }
        n
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignItemError> {
        let sk = BlindedSigningKey::<Sha256>::new_with_salt_len(self.key.clone(), self.salt_len);
        let sig = sk
            .try_sign_with_rng(&mut rand_core::OsRng, message)
            .map_err(|e| SignItemError::Signer(e.to_string()))?;
        Ok(sig.to_vec())
    }
}
