#![doc = include_str!("../README.md")]

pub mod batch;
pub mod codes;
pub mod encoding;
pub mod envelope;
pub mod evidence;
pub mod jcs;
pub mod json;
pub mod keys;
pub mod merkle;
pub mod profile;
pub mod rsa_pss;

pub use codes::Reason;
pub use envelope::{
    sign_envelope, sign_envelope_with, verify_envelope, verify_envelope_bytes, Envelope, SignError,
    SignPolicy, Status, Verdict, VerifyOptions, GENESIS,
};
pub use jcs::{canonicalize, CanonError};
pub use keys::{KeyError, SigningKey};
pub use profile::{Profile, SpecVersionStatus};
