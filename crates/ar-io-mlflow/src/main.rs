//! `ar-io-mlflow`: verifiable provenance for the MLflow lifecycle on Arweave (ar.io).

mod cmd;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Verifiable provenance for the MLflow lifecycle, anchored on Arweave through ar.io.
#[derive(Debug, Parser)]
#[command(name = "ar-io-mlflow", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Anchor a training run or a dataset.
    #[command(subcommand)]
    Anchor(cmd::anchor::AnchorCommand),
    /// Register a model version and anchor the registration.
    Register(cmd::registry::RegisterArgs),
    /// Transition a version's stage or move an alias, and anchor it.
    Promote(cmd::registry::PromoteArgs),
    /// Record one decision of a model whose files match the anchored hash.
    Decide(cmd::decide::Args),
    /// Serve a decision recorder over HTTP on loopback (a sidecar for
    /// services not written in Rust): Merkle-batched checkpoints.
    Recorder(cmd::recorder::Args),
    /// Run beside MLflow: anchor registry changes from its webhooks and
    /// finished runs from a scan; answer verification over HTTP.
    Serve(cmd::serve::Args),
    /// List what should be anchored and is not (exit 1 when anything is).
    Reconcile(cmd::reconcile::Args),
    /// Verify an anchored run, model version, trace or dataset.
    #[command(subcommand)]
    Verify(cmd::verify::VerifyCommand),
    /// Audit a model version's whole lineage (text, JSON or HTML).
    Audit(cmd::audit::Args),
    /// Our signing key, and the trust-file stanza that pins it.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Upload what the outbox still holds and write the tags back.
    Retry(cmd::outbox::RetryArgs),
    /// List pending and failed outbox items.
    Status(cmd::outbox::StatusArgs),
    /// Run a conformance corpus (ar-io-proof test vectors or ours) and print a table.
    Conformance(cmd::conformance::Args),
    /// Run a local devnet (Turbo upload, gateway reads, GraphQL, ar.io Verify) on 127.0.0.1.
    Devnet(cmd::devnet::Args),
    /// Offline operations on envelopes and evidence bundles.
    #[command(subcommand)]
    Proof(cmd::proof::ProofCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("AR_IO_MLFLOW_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    progress::install();
    let code = match cli.command {
        Command::Anchor(c) => cmd::anchor::run(&c),
        Command::Register(a) => cmd::registry::register(&a),
        Command::Promote(a) => cmd::registry::promote(&a),
        Command::Decide(a) => cmd::decide::run(&a),
        Command::Recorder(a) => cmd::recorder::run(&a),
        Command::Serve(a) => cmd::serve::run(&a),
        Command::Reconcile(a) => cmd::reconcile::run(&a),
        Command::Verify(c) => cmd::verify::run(&c),
        Command::Audit(a) => cmd::audit::run(&a),
        Command::Keys(c) => cmd::keys::run(&c),
        Command::Retry(a) => cmd::outbox::retry(&a),
        Command::Status(a) => cmd::outbox::status(&a),
        Command::Conformance(args) => cmd::conformance::run(&args),
        Command::Proof(c) => cmd::proof::run(&c),
        Command::Devnet(args) => cmd::devnet::run(&args),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(err) => ExitCode::from(exit::report(&err, wants_json(std::env::args()))),
    }
}

/// Whether the command line asked for JSON output (`--format json` or `--format=json`).
fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_output_is_recognised_in_both_spellings() {
        let j = |a: &[&str]| wants_json(a.iter().map(|s| s.to_string()));
        assert!(j(&["x", "verify", "run", "r", "--format", "json"]));
        assert!(j(&["x", "audit", "m/1", "--format=json"]));
        assert!(!j(&["x", "audit", "m/1", "--format", "html"]));
        assert!(!j(&["x", "verify", "run", "json"]));
    }

    #[test]
    fn a_transaction_id_may_begin_with_a_hyphen() {
        for tx in [
            "-C_vAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o",
            "--CvAt_EgInHRz3RQrqfKXSAGNDETD0mUDdZP4mU00o",
        ] {
            let cli = Cli::try_parse_from(["ar-io-mlflow", "verify", "dataset", tx, "--run", "r1"])
                .map_err(|e| e.to_string());
            let Ok(Cli {
                command: Command::Verify(cmd::verify::VerifyCommand::Dataset { tx_id, run, .. }),
            }) = cli
            else {
                panic!("{tx} not parsed as `verify dataset`: {cli:?}");
            };
            assert_eq!(tx_id, tx);
            assert_eq!(run.as_deref(), Some("r1"));
        }
    }
}
