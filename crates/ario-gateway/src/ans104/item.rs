//! ANS-104 data items: parse, serialize, sign, verify, id.

use ario_envelope::encoding::{b64url_encode, sha256};
use rsa::{BigUint, Pss, RsaPublicKey};
use sha2::{Digest, Sha256};

use super::deep_hash::{deep_hash, Chunk, DeepHash};
use super::tags::{self, Tag, TagError, MAX_TAG_BYTES};

/// Signature schemes a data item can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// 1: Arweave RSA-PSS-SHA256, 4096-bit.
    Arweave,
    /// 2: Ed25519 over the deep hash (what Solana keys use server-side).
    Ed25519,
    /// 3: Ethereum secp256k1 (parsed, not verified).
    Ethereum,
    /// 4: Ed25519 over the hex text of the deep hash (browser Solana wallets).
    HexInjectedSolana,
    /// 5: Aptos (parsed, not verified).
    InjectedAptos,
    /// 6: multi-signature Aptos (parsed, not verified).
    MultiAptos,
    /// 7: EIP-712 typed Ethereum (parsed, not verified).
    TypedEthereum,
    /// 101: KYVE secp256k1 (parsed, not verified).
    Kyve,
}

impl SignatureType {
    /// From the 16-bit wire value.
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::Arweave,
            2 => Self::Ed25519,
            3 => Self::Ethereum,
            4 => Self::HexInjectedSolana,
            5 => Self::InjectedAptos,
            6 => Self::MultiAptos,
            7 => Self::TypedEthereum,
            101 => Self::Kyve,
            _ => return None,
        })
    }

    /// The 16-bit wire value.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::Arweave => 1,
            Self::Ed25519 => 2,
            Self::Ethereum => 3,
            Self::HexInjectedSolana => 4,
            Self::InjectedAptos => 5,
            Self::MultiAptos => 6,
            Self::TypedEthereum => 7,
            Self::Kyve => 101,
        }
    }

    /// (signature length, owner length) in bytes.
    pub fn lengths(self) -> (usize, usize) {
        match self {
            Self::Arweave => (512, 512),
            Self::Ed25519 | Self::HexInjectedSolana | Self::InjectedAptos => (64, 32),
            Self::Ethereum | Self::Kyve => (65, 65),
            Self::MultiAptos => (2052, 1025),
            Self::TypedEthereum => (65, 42),
        }
    }

    /// The Turbo token path segment for uploads signed this way.
    pub fn turbo_token(self) -> &'static str {
        match self {
            Self::Arweave => "arweave",
            Self::Ed25519 | Self::HexInjectedSolana => "solana",
            Self::Ethereum | Self::TypedEthereum => "ethereum",
            Self::Kyve => "kyve",
            Self::InjectedAptos | Self::MultiAptos => "aptos",
        }
    }
}

/// Why bytes are not a well-formed data item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemError {
    /// The buffer ends before a field does.
    #[error("data item truncated in {0}")]
    Truncated(&'static str),
    /// The signature type is not one ANS-104 defines.
    #[error("unknown signature type {0}")]
    UnknownSignatureType(u16),
    /// A presence byte other than 0 or 1.
    #[error("{0} presence byte must be 0 or 1")]
    BadPresence(&'static str),
    /// Tag bytes over the limit, or a count that disagrees with the tags.
    #[error("tags: {0}")]
    Tags(#[from] TagError),
    /// The declared tag count differs from the decoded tags.
    #[error("declared {declared} tags but decoded {decoded}")]
    TagCount {
        /// Count in the header.
        declared: u64,
        /// Count decoded from the Avro bytes.
        decoded: usize,
    },
    /// The signature or owner has the wrong length for its type.
    #[error("owner or signature length does not match the signature type")]
    FieldLength,
}

/// Why a signature check could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// This implementation does not verify that signature type.
    #[error("signature type {0:?} is not verifiable here")]
    Unsupported(SignatureType),
}

/// A parsed or built ANS-104 data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataItem {
    /// Signature scheme.
    pub signature_type: SignatureType,
    /// Raw signature (zero-filled before signing).
    pub signature: Vec<u8>,
    /// Raw owner public key.
    pub owner: Vec<u8>,
    /// Optional 32-byte target.
    pub target: Option<[u8; 32]>,
    /// Optional 32-byte anchor.
    pub anchor: Option<[u8; 32]>,
    /// The Avro tag bytes exactly as signed.
    pub tag_bytes: Vec<u8>,
    /// The decoded tags.
    pub tags: Vec<Tag>,
    /// The payload.
    pub data: Vec<u8>,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ItemError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(ItemError::Truncated(what))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, ItemError> {
        let s = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }

    fn optional32(&mut self, what: &'static str) -> Result<Option<[u8; 32]>, ItemError> {
        match self.take(1, what)?[0] {
            0 => Ok(None),
            1 => {
                let mut a = [0u8; 32];
                a.copy_from_slice(self.take(32, what)?);
                Ok(Some(a))
            }
            _ => Err(ItemError::BadPresence(what)),
        }
    }
}

impl DataItem {
    /// Parses the binary form strictly (presence bytes must be 0 or 1, tag
    /// count must match, tag bytes at most 4096, UTF-8 tags).
    pub fn parse(bytes: &[u8]) -> Result<Self, ItemError> {
        let mut r = Reader { b: bytes, pos: 0 };
        let t = r.take(2, "signature type")?;
        let raw_type = u16::from_le_bytes([t[0], t[1]]);
        let signature_type =
            SignatureType::from_u16(raw_type).ok_or(ItemError::UnknownSignatureType(raw_type))?;
        let (sig_len, owner_len) = signature_type.lengths();
        let signature = r.take(sig_len, "signature")?.to_vec();
        let owner = r.take(owner_len, "owner")?.to_vec();
        let target = r.optional32("target")?;
        let anchor = r.optional32("anchor")?;
        let declared = r.u64("tag count")?;
        let tag_len = r.u64("tag byte length")?;
        let tag_len = usize::try_from(tag_len)
            .ok()
            .filter(|&l| l <= MAX_TAG_BYTES)
            .ok_or(TagError::TooLarge)?;
        let tag_bytes = r.take(tag_len, "tags")?.to_vec();
        let tags = tags::decode(&tag_bytes)?;
        if declared != tags.len() as u64 {
            return Err(ItemError::TagCount {
                declared,
                decoded: tags.len(),
            });
        }
        let data = bytes[r.pos..].to_vec();
        Ok(DataItem {
            signature_type,
            signature,
            owner,
            target,
            anchor,
            tag_bytes,
            tags,
            data,
        })
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            160 + self.signature.len() + self.owner.len() + self.tag_bytes.len() + self.data.len(),
        );
        out.extend_from_slice(&self.signature_type.as_u16().to_le_bytes());
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.owner);
        for field in [&self.target, &self.anchor] {
            match field {
                Some(v) => {
                    out.push(1);
                    out.extend_from_slice(v);
                }
                None => out.push(0),
            }
        }
        out.extend_from_slice(&(self.tags.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.tag_bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.tag_bytes);
        out.extend_from_slice(&self.data);
        out
    }

    /// The 48-byte message the signature covers (deep hash of eight blobs).
    pub fn signing_message(&self) -> DeepHash {
        let sig_type = self.signature_type.as_u16().to_string();
        let target: &[u8] = self.target.as_ref().map_or(&[], |t| t.as_slice());
        let anchor: &[u8] = self.anchor.as_ref().map_or(&[], |a| a.as_slice());
        deep_hash(&Chunk::List(&[
            Chunk::Blob(b"dataitem"),
            Chunk::Blob(b"1"),
            Chunk::Blob(sig_type.as_bytes()),
            Chunk::Blob(&self.owner),
            Chunk::Blob(target),
            Chunk::Blob(anchor),
            Chunk::Blob(&self.tag_bytes),
            Chunk::Blob(&self.data),
        ]))
    }

    /// The item id: base64url(SHA-256(signature)), 43 characters.
    pub fn id(&self) -> String {
        b64url_encode(&sha256(&self.signature))
    }

    /// The owner's normalized address: base64url(SHA-256(owner)).
    pub fn owner_address(&self) -> String {
        b64url_encode(&sha256(&self.owner))
    }

    /// Checks the signature. `Ok(false)` is a signature that does not verify.
    pub fn verify(&self) -> Result<bool, VerifyError> {
        let (sig_len, owner_len) = self.signature_type.lengths();
        if self.signature.len() != sig_len || self.owner.len() != owner_len {
            return Ok(false);
        }
        let msg = self.signing_message();
        match self.signature_type {
            SignatureType::Ed25519 => Ok(ed25519_ok(&self.owner, &msg, &self.signature)),
            SignatureType::HexInjectedSolana => Ok(ed25519_ok(
                &self.owner,
                hex::encode(msg).as_bytes(),
                &self.signature,
            )),
            SignatureType::Arweave => Ok(rsa_pss_any_salt(&self.owner, &msg, &self.signature)),
            other => Err(VerifyError::Unsupported(other)),
        }
    }
}

fn ed25519_ok(owner: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(k), Ok(s)) = (<[u8; 32]>::try_from(owner), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    ed25519_dalek::VerifyingKey::from_bytes(&k).is_ok_and(|vk| {
        vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&s))
            .is_ok()
    })
}

/// RSA-PSS-SHA256 with e = 65537 and the salt lengths producers use: 32
/// (WebCrypto, bundles-rs), the maximum (Node, Python) and 0 (Turbo receipts).
pub(crate) fn rsa_pss_any_salt(modulus: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(key) = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(modulus),
        BigUint::from(65_537u32),
        8192,
    ) else {
        return false;
    };
    let em_len = modulus.len();
    let max_salt = em_len.saturating_sub(32 + 2);
    let digest = Sha256::digest(msg);
    [32, max_salt, 0].into_iter().any(|salt| {
        key.verify(Pss::new_with_salt::<Sha256>(salt), &digest, sig)
            .is_ok()
    })
}

/// Everything of an item except its signature, ready to be signed.
#[derive(Debug, Clone, Default)]
pub struct UnsignedItem {
    /// The payload.
    pub data: Vec<u8>,
    /// Tags, in order.
    pub tags: Vec<Tag>,
    /// Optional target.
    pub target: Option<[u8; 32]>,
    /// Optional anchor (turbo-sdk always sends 32 random bytes).
    pub anchor: Option<[u8; 32]>,
}

/// Why an item could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignItemError {
    /// The tags break the ANS-104 limits.
    #[error("tags: {0}")]
    Tags(#[from] TagError),
    /// The signer failed.
    #[error("signing failed: {0}")]
    Signer(String),
}

/// Something that can sign data items.
pub trait ItemSigner: Send + Sync {
    /// The scheme.
    fn signature_type(&self) -> SignatureType;
    /// The raw owner field.
    fn owner(&self) -> Vec<u8>;
    /// Signs the 48-byte deep-hash message.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignItemError>;
}

impl UnsignedItem {
    /// Signs and returns the complete item.
    pub fn sign(self, signer: &dyn ItemSigner) -> Result<DataItem, SignItemError> {
        let tag_bytes = tags::encode(&self.tags)?;
        let st = signer.signature_type();
        let mut item = DataItem {
            signature_type: st,
            signature: vec![0; st.lengths().0],
            owner: signer.owner(),
            target: self.target,
            anchor: self.anchor,
            tag_bytes,
            tags: self.tags,
            data: self.data,
        };
        item.signature = signer.sign(&item.signing_message())?;
        Ok(item)
    }
}
