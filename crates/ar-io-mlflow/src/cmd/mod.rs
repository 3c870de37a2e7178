//! One module per command.

pub(crate) mod conformance;
pub(crate) mod devnet;
pub(crate) mod proof;
