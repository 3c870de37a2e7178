//! ANS-104 tags: Avro `array<record{name: bytes, value: bytes}>` encoding.

/// Most tags an item may carry.
pub const MAX_TAGS: usize = 128;
/// Longest tag name, in bytes.
pub const MAX_NAME: usize = 1024;
/// Longest tag value, in bytes.
pub const MAX_VALUE: usize = 3072;
/// Most encoded tag bytes an item may carry.
pub const MAX_TAG_BYTES: usize = 4096;

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Tag name (UTF-8, non-empty).
    pub name: String,
    /// Tag value (UTF-8, non-empty).
    pub value: String,
}

impl Tag {
    /// A tag from a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Why tags were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// More than [`MAX_TAGS`] tags.
    #[error("more than {MAX_TAGS} tags")]
    TooMany,
    /// An empty or over-long name or value.
    #[error("tag {index}: name must be 1..={MAX_NAME} bytes and value 1..={MAX_VALUE} bytes")]
    BadLength {
        /// Position of the tag.
        index: usize,
    },
    /// More than [`MAX_TAG_BYTES`] encoded bytes.
    #[error("encoded tags exceed {MAX_TAG_BYTES} bytes")]
    TooLarge,
    /// The Avro bytes are truncated or inconsistent.
    #[error("malformed Avro tag encoding: {0}")]
    Malformed(&'static str),
    /// A name or value is not UTF-8.
    #[error("tag name or value is not UTF-8")]
    NotUtf8,
}

fn zigzag_varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let byte = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<i64, TagError> {
    let mut z: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*pos)
            .ok_or(TagError::Malformed("truncated integer"))?;
        *pos += 1;
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
        }
    }
    Err(TagError::Malformed("integer too long"))
}

/// Checks the ANS-104 limits on a tag list.
pub fn validate(tags: &[Tag]) -> Result<(), TagError> {
    if tags.len() > MAX_TAGS {
        return Err(TagError::TooMany);
    }
    for (index, t) in tags.iter().enumerate() {
        if t.name.is_empty()
            || t.name.len() > MAX_NAME
            || t.value.is_empty()
            || t.value.len() > MAX_VALUE
        {
            return Err(TagError::BadLength { index });
        }
    }
    Ok(())
}

/// Encodes tags the way arbundles does (no tags: zero bytes).
pub fn encode(tags: &[Tag]) -> Result<Vec<u8>, TagError> {
    validate(tags)?;
    let mut out = Vec::new();
    if tags.is_empty() {
        return Ok(out);
    }
    zigzag_varint(&mut out, tags.len() as i64);
    for t in tags {
        zigzag_varint(&mut out, t.name.len() as i64);
        out.extend_from_slice(t.name.as_bytes());
        zigzag_varint(&mut out, t.value.len() as i64);
        out.extend_from_slice(t.value.as_bytes());
    }
    out.push(0);
    if out.len() > MAX_TAG_BYTES {
        return Err(TagError::TooLarge);
    }
    Ok(out)
}

fn read_bytes<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<&'a [u8], TagError> {
    let len = read_varint(bytes, pos)?;
    let len = usize::try_from(len).map_err(|_| TagError::Malformed("negative length"))?;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or(TagError::Malformed("truncated bytes"))?;
    let s = &bytes[*pos..end];
    *pos = end;
    Ok(s)
}

/// Decodes Avro tag bytes (any block layout, including negative block counts).
/// Empty input, and the single byte `0x00`, are both "no tags".
pub fn decode(bytes: &[u8]) -> Result<Vec<Tag>, TagError> {
    if bytes.len() > MAX_TAG_BYTES {
        return Err(TagError::TooLarge);
    }
    let mut tags = Vec::new();
    if bytes.is_empty() {
        return Ok(tags);
    }
    let mut pos = 0;
    loop {
        let mut count = read_varint(bytes, &mut pos)?;
        if count == 0 {
            break;
        }
        if count < 0 {
            count = count
                .checked_neg()
                .ok_or(TagError::Malformed("block count"))?;
            let _block_size = read_varint(bytes, &mut pos)?;
        }
        for _ in 0..count {
            if tags.len() >= MAX_TAGS {
                return Err(TagError::TooMany);
            }
            let name =
                std::str::from_utf8(read_bytes(bytes, &mut pos)?).map_err(|_| TagError::NotUtf8)?;
            let value =
                std::str::from_utf8(read_bytes(bytes, &mut pos)?).map_err(|_| TagError::NotUtf8)?;
            tags.push(Tag::new(name, value));
        }
    }
    if pos != bytes.len() {
        return Err(TagError::Malformed("trailing bytes after the tag array"));
    }
    validate(&tags)?;
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_known_answer() {
        let tags = [Tag::new("Hello", "Bundlr!"), Tag::new("This is a ", "Test")];
        let bytes = encode(&tags).unwrap();
        assert_eq!(
            bytes,
            [
                4, 10, 72, 101, 108, 108, 111, 14, 66, 117, 110, 100, 108, 114, 33, 20, 84, 104,
                105, 115, 32, 105, 115, 32, 97, 32, 8, 84, 101, 115, 116, 0
            ]
        );
        assert_eq!(decode(&bytes).unwrap(), tags);
    }

    #[test]
    fn two_byte_length_for_64_hex_chain_prev() {
        let v = "a".repeat(64);
        let bytes = encode(&[Tag::new("Chain-Prev", v.clone())]).unwrap();
        assert_eq!(&bytes[..2], &[0x02, 0x14]);
        assert_eq!(&bytes[12..14], &[0x80, 0x01]);
        assert_eq!(decode(&bytes).unwrap()[0].value, v);
    }

    #[test]
    fn decode_rules() {
        assert!(decode(&[]).unwrap().is_empty());
        assert!(decode(&[0]).unwrap().is_empty());
        // a negative block count carries a byte size to skip
        let mut neg = vec![0x01, 0x10];
        neg.extend([0x02, b'a', 0x02, b'b', 0x00]);
        assert_eq!(decode(&neg).unwrap(), vec![Tag::new("a", "b")]);
        assert!(decode(&[0x02, 0x02, b'a']).is_err());
        assert!(decode(&[0x02, 0x02, 0xff, 0x02, b'b', 0x00]).is_err());
        assert!(
            decode(&[0x02, 0x00, 0x02, b'b', 0x00]).is_err(),
            "empty name"
        );
        assert!(encode(&[Tag::new("", "x")]).is_err());
        assert!(encode(&vec![Tag::new("a", "b"); 129]).is_err());
        assert!(encode(&[Tag::new("n", "v".repeat(3073))]).is_err());
    }
}
