//! One module per command.

pub(crate) mod anchor;
pub(crate) mod audit;
pub(crate) mod common;
pub(crate) mod conformance;
pub(crate) mod decide;
pub(crate) mod devnet;
pub(crate) mod keys;
pub(crate) mod outbox;
pub(crate) mod proof;
pub(crate) mod reconcile;
pub(crate) mod recorder;
pub(crate) mod registry;
pub(crate) mod serve;
pub(crate) mod verify;
