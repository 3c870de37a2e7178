//! The generated JSON documents: numbers at every magnitude and edge,
//! strings with astral, BMP and control characters, nesting to the bound.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NUMBER_EDGES: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "1e21",
    "1e+21",
    "1E21",
    "1e20",
    "9.999999999999999e20",
    "1e-7",
    "1e-6",
    "0.000001",
    "0.0000001",
    "5e-324",
    "-5e-324",
    "2.2250738585072014e-308",
    "1.7976931348623157e308",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "0.1",
    "0.2",
    "0.30000000000000004",
    "4.50",
    "2e-3",
    "333333333.33333329",
    "1E30",
    "100",
    "1e2",
    "12345678.9",
    "0.966667",
    "1.37",
    "-273.15",
    "6.02214076e23",
];

fn gen_number(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..6) {
        0 | 1 => NUMBER_EDGES[rng.gen_range(0..NUMBER_EDGES.len())].to_owned(),
        2 => {
            // any finite double, printed as the shortest round-trip text
            loop {
                let f = f64::from_bits(rng.gen());
                if f.is_finite() {
                    break format!("{f:?}");
                }
            }
        }
        3 => {
            let mag = rng.gen_range(0..19);
            let v: i64 = rng.gen_range(0..10i64.pow(mag).max(1));
            if rng.gen_bool(0.3) {
                format!("-{v}")
            } else {
                v.to_string()
            }
        }
        4 => {
            let digits: String = (0..rng.gen_range(1..25))
                .map(|_| char::from(b'0' + rng.gen_range(0..10)))
                .collect();
            let int = rng.gen_range(0..100_000);
            format!("{int}.{digits}")
        }
        _ => format!("{}e{}", rng.gen_range(1..1000), rng.gen_range(-330..310)),
    }
}

fn gen_string(rng: &mut ChaCha8Rng, max_len: usize) -> String {
    let mut s = String::from("\"");
    for _ in 0..rng.gen_range(0..=max_len) {
        match rng.gen_range(0..12) {
            0..=3 => s.push(char::from(rng.gen_range(b'a'..=b'z'))),
            4 => s.push_str(
                ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"][rng.gen_range(0..8)],
            ),
            5 => s.push_str(&format!("\\u{:04x}", rng.gen_range(0..0x20))),
            6 => s.push(
                [
                    'é', 'ü', 'ö', '€', '\u{2028}', '\u{2029}', '\u{7f}', 'ß', '中', '\u{fffd}',
                ][rng.gen_range(0..10)],
            ),
            7 => s.push(char::from_u32(rng.gen_range(0xE000..=0xFFFD)).unwrap_or('x')),
            8 => s.push(char::from_u32(rng.gen_range(0x10000..=0x10FFFF)).unwrap_or('x')),
            9 => {
                let c = rng.gen_range(0x10000u32..=0x10FFFF) - 0x10000;
                s.push_str(&format!(
                    "\\u{:04X}\\u{:04x}",
                    0xD800 + (c >> 10),
                    0xDC00 + (c & 0x3FF)
                ));
            }
            10 => s.push_str(&format!("\\u{:04x}", rng.gen_range(0x80..0xD800))),
            _ => s.push(
                char::from(rng.gen_range(b' '..=b'~'))
                    .to_string()
                    .replace(['"', '\\'], "_")
                    .chars()
                    .next()
                    .unwrap_or('_'),
            ),
        }
    }
    s.push('"');
    s
}

pub(super) fn gen_value(rng: &mut ChaCha8Rng, depth: usize, budget: &mut usize) -> String {
    *budget = budget.saturating_sub(1);
    let container = depth < 8 && *budget > 0;
    match rng.gen_range(0..if container { 10 } else { 6 }) {
        0 | 1 => gen_number(rng),
        2 | 3 => gen_string(rng, 12),
        4 => ["true", "false"][rng.gen_range(0..2)].to_owned(),
        5 => "null".to_owned(),
        6 | 7 => {
            let n = rng.gen_range(0..6);
            let items: Vec<String> = (0..n).map(|_| gen_value(rng, depth + 1, budget)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let n = rng.gen_range(0..6);
            let mut seen = std::collections::BTreeSet::new();
            let mut members = Vec::new();
            for _ in 0..n {
                let k = gen_string(rng, 6);
                // compare decoded keys so escaped and literal spellings count as one
                let decoded = serde_json::from_str::<String>(&k).unwrap_or_default();
                if seen.insert(decoded) {
                    members.push(format!("{k}:{}", gen_value(rng, depth + 1, budget)));
                }
            }
            format!("{{{}}}", members.join(","))
        }
    }
}

fn deep(depth: usize, obj: bool) -> String {
    if obj {
        "{\"a\":".repeat(depth - 1) + "{}" + &"}".repeat(depth - 1)
    } else {
        "[".repeat(depth) + "1" + &"]".repeat(depth)
    }
}

/// (id, JSON text, expected-to-agree).
pub(super) fn documents(n: usize) -> Vec<(String, String, bool)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_A710);
    let mut docs = Vec::with_capacity(n + 16);
    for i in 0..n {
        let text = if i % 200 == 0 {
            deep(rng.gen_range(100..=128), i % 400 == 0)
        } else {
            let mut budget = 40;
            gen_value(&mut rng, 0, &mut budget)
        };
        docs.push((format!("doc-{i}"), text, true));
    }
    // Lone surrogates: every kernel refuses them.
    for (i, t) in ["\"\\ud800\"", "{\"k\":\"a\\udc00b\"}", "[\"\\ud83d\"]"]
        .iter()
        .enumerate()
    {
        docs.push((format!("lone-surrogate-{i}"), (*t).to_owned(), true));
    }
    // Known divergences (reported, not counted as agreement).
    docs.push(("depth-129".into(), deep(129, false), false));
    docs.push(("depth-200-object".into(), deep(200, true), false));
    docs.push(("duplicate-key".into(), "{\"a\":1,\"a\":2}".into(), false));
    docs.push(("number-overflow".into(), "[1e400]".into(), false));
    docs
}
