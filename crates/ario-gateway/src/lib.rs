//! The Arweave side of ar.io provenance: ANS-104 data items and their signers,
//! wallets, Turbo upload, gateway reads with fallback, and the ar.io Verify
//! client. A local devnet that speaks the same wire protocols is the separate
//! crate `ario-devnet` (built on this crate's public API), so no HTTP server
//! stack is compiled into users of this one.
//!
//! ```
//! use ario_gateway::ans104::{DataItem, Ed25519Signer, Tag, UnsignedItem};
//!
//! let signer = Ed25519Signer::from_seed([1; 32]);
//! let item = UnsignedItem {
//!     data: br#"{"spec_version":"ario.mlflow/v1"}"#.to_vec(),
//!     tags: vec![Tag::new("Content-Type", "application/json"), Tag::new("App-Name", "ar-io-mlflow")],
//!     anchor: Some([7; 32]),
//!     ..Default::default()
//! }
//! .sign(&signer)?;
//! let parsed = DataItem::parse(&item.to_bytes())?;
//! assert_eq!(parsed.id().len(), 43);
//! assert!(parsed.verify()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ans104;
pub mod config;
pub mod fetch;
pub mod graphql;
pub use ario_http as http;
pub mod turbo;
pub mod verify_service;
pub mod verify_status;
pub mod wallet;
