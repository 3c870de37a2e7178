//! Runs the upstream ar-io-proof corpus and the ar-io-mlflow fixture, read in
//! place from the directories named by the environment (never copied here).
//! Unset: the test prints `SKIPPED:` (and records it in `ARIO_SKIP_LOG`); set
//! to a path that is not a directory: the test fails. A relative path is
//! taken from the workspace root.

#![allow(clippy::expect_used)]

use std::path::PathBuf;

use ario_conformance::{run_dir, ConformanceReport};
use ario_test_support::{env_path_or_skip, PathKind, SkipKind};

fn corpus_dir(var: &str) -> Option<PathBuf> {
    env_path_or_skip(
        var,
        PathKind::Dir,
        SkipKind::Corpus,
        "conformance corpus not run",
    )
}

fn print_failures(report: &ConformanceReport) {
    for (family, o) in report.failures() {
        println!("FAIL {family} {}: {:?}", o.file, o.failure);
    }
}

#[test]
fn upstream_corpus_passes_every_vector() {
    let Some(dir) = corpus_dir("ARIO_CONFORMANCE_DIR") else {
        return;
    };
    let report = run_dir(&dir).expect("corpus readable");
    print_failures(&report);
    assert_eq!(report.failed(), 0, "conformance failures");
    assert!(report.all_passed(), "integrity failures");
    assert_eq!(
        report.total(),
        40,
        "the corpus at the pinned commit has 40 vectors"
    );
}

#[test]
fn mlflow_agent_fixture_passes() {
    let Some(dir) = corpus_dir("ARIO_MLFLOW_FIXTURES_DIR") else {
        return;
    };
    let report = run_dir(&dir).expect("fixtures readable");
    print_failures(&report);
    assert!(report.all_passed(), "{report:#?}");
    assert!(report.total() >= 1);
}
