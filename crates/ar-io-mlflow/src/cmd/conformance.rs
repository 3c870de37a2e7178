//! `ar-io-mlflow conformance <DIR>…`

use std::path::PathBuf;

use anyhow::Context as _;
use ario_conformance::run_dir;

use crate::output::{print_json, Format};

/// Arguments of `conformance`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Corpus directories (e.g. ../shared/conformance/ar-io-proof/test-vectors, test-vectors).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Also list every vector that passed.
    #[arg(long)]
    verbose: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let mut reports = Vec::new();
    for dir in &args.dirs {
        reports.push(
            run_dir(dir)
                .with_context(|| format!("running conformance corpus {}", dir.display()))?,
        );
    }
    let all_passed = reports.iter().all(|r| r.all_passed());
    if args.format == Format::Json {
        print_json(&reports)?;
    } else {
        for r in &reports {
            println!("corpus  {}", r.dir);
            println!(
                "  {:<18} {:>7} {:>7} {:>7}",
                "family", "vectors", "passed", "failed"
            );
            for f in &r.families {
                println!(
                    "  {:<18} {:>7} {:>7} {:>7}",
                    f.family, f.vectors, f.passed, f.failed
                );
                for o in &f.outcomes {
                    match &o.failure {
                        Some(why) => println!("    FAIL {}: {why}", o.file),
                        None if args.verbose => println!("    ok   {}", o.file),
                        None => {}
                    }
                }
            }
            println!(
                "  {:<18} {:>7} {:>7} {:>7}",
                "vectors",
                r.total(),
                r.total() - r.failed(),
                r.failed()
            );
        }
        println!(
            "{}",
            if all_passed {
                "CONFORMANT"
            } else {
                "NOT CONFORMANT"
            }
        );
    }
    Ok(u8::from(!all_passed))
}
