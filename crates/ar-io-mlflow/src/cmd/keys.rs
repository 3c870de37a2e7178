//! `keys show`: our signing key, and the `[[signer]]` stanza an auditor
//! pins in a trust file.

use anyhow::Context as _;
use ario_provenance::keystore::{self, KeyOrigin};
use ario_provenance::ProvenanceError;
use serde_json::json;

use crate::output::print_json;

/// `keys …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeysCommand {
    /// Print our public key and a ready `[[signer]]` stanza for a trust file
    /// (the key is created once when there is none yet).
    Show(ShowArgs),
    /// Retire the signing key: anchor a `key_retired` handover signed by it
    /// that names a new key, then sign with the new key from now on (the old
    /// one is kept for verification).
    Rotate(RotateArgs),
}

/// `keys rotate`
#[derive(Debug, clap::Args)]
pub(crate) struct RotateArgs {
    /// Why the key is retired (recorded in the handover).
    #[arg(long, default_value = "rotation")]
    reason: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
}

/// How to print the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub(crate) enum KeyFormat {
    /// Human-readable text with the stanza.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// Only the `[[signer]]` stanza.
    Toml,
}

/// `keys show`
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// Name to put in the stanza.
    #[arg(long, default_value = "ar-io-mlflow")]
    name: String,
    /// Trust only envelopes signed from this time on (RFC 3339); default:
    /// every envelope this key signed.
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: KeyFormat,
}

/// A `[[signer]]` stanza for `public_key`, valid from `not_before` when given.
fn stanza(name: &str, public_key: &str, not_before: Option<&str>) -> String {
    let name = name.replace('\\', "\\\\").replace('"', "\\\"");
    let mut s = format!("[[signer]]\nname = \"{name}\"\npublic_key = \"{public_key}\"\n");
    if let Some(t) = not_before {
        s.push_str(&format!("not_before = \"{t}\"\n"));
    }
    s
}

pub(crate) fn run(cmd: &KeysCommand) -> anyhow::Result<u8> {
    match cmd {
        KeysCommand::Show(a) => show(a),
        KeysCommand::Rotate(a) => rotate(a),
    }
}

fn rotate(a: &RotateArgs) -> anyhow::Result<u8> {
    super::common::block_on(async {
        let anchorer = super::common::anchorer()?;
        let r = anchorer
            .rotate_key(&a.reason)
            .await
            .context("rotating the signing key")?;
        let status = r.committed.status();
        if a.format == crate::output::Format::Json {
            print_json(&json!({
                "retired_public_key": r.retired_public_key, "new_public_key": r.new_public_key,
                "retired_at": r.retired_at, "anchor": status,
                "payload": String::from_utf8_lossy(&r.payload_bytes),
            }))?;
        } else {
            println!("Retired {} at {}", r.retired_public_key, r.retired_at);
            println!("  successor        {}", r.new_public_key);
            println!(
                "  handover         {}",
                super::common::anchor_line(&status, anchorer.gateway())
            );
            println!("\nA trust file that pins the retired key follows the handover with");
            println!("`follow_rotations = true`; or pin the successor:\n");
            print!(
                "{}",
                stanza("ar-io-mlflow", &r.new_public_key, Some(&r.retired_at))
            );
        }
        Ok(super::common::anchor_exit(&status))
    })
}

fn show(a: &ShowArgs) -> anyhow::Result<u8> {
    let settings = ario_provenance::Settings::from_env();
    let (key, origin) = keystore::load_or_create(&settings.home, settings.signing_key.as_deref())
        .map_err(ProvenanceError::from)
        .context("loading the signing key")?;
    let public = key.public_key_hex();
    if let Some(t) = &a.not_before {
        anyhow::ensure!(
            ario_provenance::trust::parse_time(t).is_some(),
            "--not-before {t:?} is not an RFC 3339 time"
        );
    }
    let text = stanza(&a.name, &public, a.not_before.as_deref());
    let source = match origin {
        KeyOrigin::Env => "ARIO_MLFLOW_SIGNING_KEY".to_owned(),
        _ => keystore::key_paths(&settings.home).0.display().to_string(),
    };
    match a.format {
        KeyFormat::Toml => print!("{text}"),
        KeyFormat::Json => print_json(&json!({
            "public_key": public, "origin": origin, "source": source, "signer_stanza": text,
        }))?,
        KeyFormat::Text => {
            println!("Signing key  {public}");
            println!("  from       {source}");
            println!("\nPin it in a trust file (--trust FILE):\n\n{text}");
        }
    }
    Ok(crate::exit::OK)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn the_stanza_is_a_trust_file_our_verifier_accepts() {
        let key = "20".repeat(32);
        let text = stanza("ci \"main\"", &key, Some("2026-01-01T00:00:00Z"));
        let p = ario_provenance::trust::TrustPolicy::parse(&text, std::path::Path::new("t.toml"))
            .map_err(|e| e.to_string());
        let Ok(p) = p else {
            panic!("stanza refused: {p:?}");
        };
        assert_eq!(p.signers[0].public_key, key);
        assert_eq!(p.signers[0].name, "ci \"main\"");
    }
}
