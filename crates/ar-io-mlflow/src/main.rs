//! `ar-io-mlflow`: verifiable provenance for the MLflow lifecycle on Arweave (ar.io).

mod cmd;
mod output;

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
    let code = match cli.command {
        Command::Conformance(args) => cmd::conformance::run(&args),
        Command::Proof(c) => cmd::proof::run(&c),
        Command::Devnet(args) => cmd::devnet::run(&args),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
