//! Shared output conventions: `--format`, status glyphs, colour only on request.

use std::io::IsTerminal as _;

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub(crate) enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Tri-state mark: ✓ passed, ✗ failed, ? undetermined.
pub(crate) fn mark(v: Option<bool>) -> String {
    let (glyph, colour) = match v {
        Some(true) => ("✓", "32"),
        Some(false) => ("✗", "31"),
        None => ("?", "33"),
    };
    if colour_enabled() {
        format!("\x1b[{colour}m{glyph}\x1b[0m")
    } else {
        glyph.to_owned()
    }
}

fn colour_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
