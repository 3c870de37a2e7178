//! Structured mutation: byte-level edits, splices between seeds and tokens
//! that parsers of JSON, TOML and binary headers find hard.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

/// Tokens inserted whole (JSON/TOML syntax, number and string edge cases).
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"=",
    b"\n",
    b"null",
    b"true",
    b"-0",
    b"1e309",
    b"-1e-400",
    b"9007199254740993",
    b"\\u0000",
    b"\\ud800",
    b"\\udc00\\ud800",
    b"[[[[[[[[",
    b"{\"a\":{\"a\":",
    b"\"\":\"\"",
    b"[[signer]]",
    b"public_key = ",
    b"\xff\xfe",
    b"\x00\x00\x00\x00",
    b"\x01\x00",
    b"\x02\x00",
    b"\xff\xff\xff\xff\xff\xff\xff\xff",
];

/// One mutated input derived from `seed` (and, for splices, `others`).
pub fn mutate(rng: &mut ChaCha8Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = b.len();
        match rng.gen_range(0..9) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                b[i] = rng.gen();
            }
            2 => {
                let i = rng.gen_range(0..=len);
                b.insert(i, rng.gen());
            }
            3 if len > 0 => {
                let i = rng.gen_range(0..len);
                let n = rng.gen_range(1..=(len - i).min(16));
                b.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.gen_range(0..len);
                let n = rng.gen_range(1..=(len - i).min(64));
                let chunk = b[i..i + n].to_vec();
                let at = rng.gen_range(0..=b.len());
                b.splice(at..at, chunk);
            }
            5 if !others.is_empty() => {
                let o = &others[rng.gen_range(0..others.len())];
                if !o.is_empty() {
                    let i = rng.gen_range(0..o.len());
                    let n = rng.gen_range(1..=(o.len() - i).min(64));
                    let at = rng.gen_range(0..=b.len());
                    b.splice(at..at, o[i..i + n].iter().copied());
                }
            }
            6 => {
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                let at = rng.gen_range(0..=b.len());
                b.splice(at..at, t.iter().copied());
            }
            7 if len > 0 => b.truncate(rng.gen_range(0..len)),
            _ => {
                // A small integer written over a 4-byte window (lengths, counts).
                if len >= 4 {
                    let i = rng.gen_range(0..=len - 4);
                    let v: u32 = [0, 1, 2, 0xff, 0xffff, u32::MAX][rng.gen_range(0..6)];
                    b[i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    b
}
