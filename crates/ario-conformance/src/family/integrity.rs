//! `integrity`: the digest of every corpus file against `CORPUS-v1.md` (and
//! the few files it does not list, pinned here), and no unpinned vector.
//! Not a vector family: its checks are not counted as vectors.

use std::path::Path;

use ario_envelope::encoding::sha256_hex;

use crate::report::VectorOutcome;

/// Digests of corpus files that `CORPUS-v1.md` does not list (pinned by us).
const UNLISTED_PINS: &[(&str, &str)] = &[
    (
        "evidence-export/negatives/attestation-exponent-forgery.json",
        "a7c78bd09d08a0f72d0d254514414b9cf24a9d551a86e003cb5dca2c3622a3db",
    ),
    (
        "evidence-export/negatives/deep-nesting.json",
        "499974007038dd5ad34c5d5d5086ca1eaa433134160d95521716509b6d5c0fa1",
    ),
];

/// The digest checks of the corpus at `dir` whose files are `files`.
pub(crate) fn check(dir: &Path, files: &[String]) -> Vec<VectorOutcome> {
    let manifest = std::fs::read_to_string(dir.join("CORPUS-v1.md")).unwrap_or_default();
    let mut pins: Vec<(String, String)> = manifest
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            match cells.as_slice() {
                ["", file, digest, ""]
                    if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Some(((*file).to_owned(), (*digest).to_owned()))
                }
                _ => None,
            }
        })
        .collect();
    pins.extend(
        UNLISTED_PINS
            .iter()
            .map(|(f, d)| ((*f).to_owned(), (*d).to_owned())),
    );
    let mut out: Vec<VectorOutcome> = pins
        .iter()
        .map(|(file, digest)| {
            let failure = match std::fs::read(dir.join(file)) {
                Err(e) => Some(format!("missing: {e}")),
                Ok(b) if sha256_hex(&b) != *digest => {
                    Some(format!("digest {} != pinned {digest}", sha256_hex(&b)))
                }
                Ok(_) => None,
            };
            VectorOutcome {
                file: format!("{file} (digest)"),
                failure,
            }
        })
        .collect();
    let unpinned: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".json") && !pins.iter().any(|(p, _)| p == *f))
        .collect();
    out.push(VectorOutcome {
        file: "(no unpinned vectors)".into(),
        failure: (!unpinned.is_empty())
            .then(|| format!("vectors not pinned by the manifest: {unpinned:?}")),
    });
    out
}
