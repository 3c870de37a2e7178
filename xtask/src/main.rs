//! Project automation for ar-io-mlflow-rs (`cargo xtask <command>`).
//!
//! Everything here is a developer or CI convenience; no library depends on it.

mod bench;
mod codegen;
mod cross_kernel;
mod demo;
mod fuzz;
mod peers;
mod stack;
mod test;
mod util;
mod vectors;
mod vectors_ans104;
mod vectors_attestation;
mod vectors_decisions;
mod vectors_events;
mod vectors_jcs;
mod vectors_recipes;
mod vectors_trust;
mod vectors_verdict;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "ar-io-mlflow-rs project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job end to end on a local default.
    Demo,
    /// Install the real peers (Python venv with MLflow, ar-io-proof, ar-io-mlflow,
    /// turbo-sdk; npm packages) into the git-ignored `.peers/`.
    Peers,
    /// Run every test: unit, integration, conformance, cross-kernel agreement.
    Test(test::Args),
    /// Regenerate `test-vectors/` deterministically (`--check`: fail on drift).
    Vectors(vectors::Args),
    /// Measure against the peers in the same run (`bench envelope`).
    Bench(bench::Args),
    /// Regenerate the MLflow client from spec/mlflow/openapi.yaml (`--check`: fail if stale).
    Codegen(codegen::Args),
    /// Canonicalize generated documents and cross-verify envelopes with the peers.
    CrossKernel(cross_kernel::Args),
    /// Fuzz every parser of outside input (`--secs N` per target).
    Fuzz(fuzz::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo => demo::run(),
        Command::Peers => peers::install().map(|_| ()),
        Command::Test(a) => test::run(&a),
        Command::Vectors(a) => vectors::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Codegen(a) => codegen::run(&a),
        Command::CrossKernel(a) => cross_kernel::run(&a),
        Command::Fuzz(a) => fuzz::run(&a),
    }
}
