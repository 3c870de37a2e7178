//! ANS-104 data items, byte-compatible with arbundles and turbo-sdk.

pub mod deep_hash;
pub mod item;
pub mod signer;
pub mod tags;

pub use item::{
    DataItem, ItemError, ItemSigner, SignItemError, SignatureType, UnsignedItem, VerifyError,
};
pub use signer::{ArweaveSigner, Ed25519Signer};
pub use tags::Tag;
