//! Stream and decision identifiers. A decision id names where its record
//! sits: `{stream}-{batch}-{leaf}`, so a verifier can find the checkpoint
//! from the id alone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A recorder stream: 16 lowercase hex digits, fixed for a recorder's
/// directory, so batch numbers continue across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(String);

impl StreamId {
    /// A fresh random stream id.
    pub fn random() -> Self {
        let u = uuid::Uuid::new_v4();
        StreamId(hex::encode(&u.as_bytes()[..8]))
    }
    /// Its text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StreamId {
    type Err = DecisionIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| StreamId(s.to_owned()))
            .ok_or_else(|| DecisionIdError::Stream(s.to_owned()))
    }
}

impl Serialize for StreamId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StreamId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a text is not a decision or stream id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionIdError {
    /// Not `{stream}-{batch}-{leaf}`.
    #[error("{0:?} is not a batched decision id (expected <16 hex>-<batch>-<leaf>)")]
    Shape(String),
    /// The stream part is not 16 lowercase hex digits.
    #[error("{0:?} is not a stream id (16 lowercase hex digits)")]
    Stream(String),
}

/// Where a batched decision sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionId {
    /// The stream.
    pub stream_id: StreamId,
    /// The batch within the stream.
    pub batch_seq: u64,
    /// The leaf within the batch.
    pub leaf_index: u64,
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.stream_id, self.batch_seq, self.leaf_index
        )
    }
}

/// A decimal without sign, leading zeros or overflow.
fn number(s: &str) -> Option<u64> {
    let canonical = s == "0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()));
    canonical.then(|| s.parse().ok()).flatten()
}

impl FromStr for DecisionId {
    type Err = DecisionIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || DecisionIdError::Shape(s.to_owned());
        let mut parts = s.split('-');
        let (Some(stream), Some(batch), Some(leaf), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(shape());
        };
        Ok(DecisionId {
            stream_id: stream.parse()?,
            batch_seq: number(batch).ok_or_else(shape)?,
            leaf_index: number(leaf).ok_or_else(shape)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_round_trip_and_reject_other_shapes() {
        let id: DecisionId = "0123456789abcdef-3-41".parse().unwrap();
        assert_eq!((id.batch_seq, id.leaf_index), (3, 41));
        assert_eq!(id.to_string(), "0123456789abcdef-3-41");
        for bad in [
            "",
            "0123456789abcdef-3",
            "0123456789abcdef-3-4-5",
            "0123456789ABCDEF-3-4",
            "0123456789abcde-3-4",
            "0123456789abcdef-03-4",
            "0123456789abcdef-+3-4",
            "0123456789abcdef-3-99999999999999999999999",
            "6f1c2d9e-8a4b-4c1d-9e2f-3a4b5c6d7e8f",
        ] {
            assert!(bad.parse::<DecisionId>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_position_round_trips(b in any::<u64>(), l in any::<u64>()) {
            let id = DecisionId { stream_id: StreamId::random(), batch_seq: b, leaf_index: l };
            prop_assert_eq!(id.to_string().parse::<DecisionId>().unwrap(), id);
        }
    }
}
