//! Runs the upstream ar-io-proof corpus and the ar-io-mlflow fixture, read in
//! place from the directories named by the environment (never copied here).

use std::path::PathBuf;

use ario_envelope::conformance::run_dir;

fn dir_from_env(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            println!("SKIPPED: {var} is not set; conformance corpus not run");
            None
        }
    }
}

#[test]
fn upstream_corpus_passes_every_vector() {
    let Some(dir) = dir_from_env("ARIO_CONFORMANCE_DIR") else {
        return;
    };
    let report = run_dir(&dir).expect("corpus readable");
    for f in &report.families {
        for o in &f.outcomes {
            if let Some(why) = &o.failure {
                println!("FAIL {} {}: {why}", f.family, o.file);
            }
        }
    }
    assert_eq!(report.failed(), 0, "conformance failures");
    let vectors: usize = report
        .families
        .iter()
        .filter(|f| f.family != "integrity")
        .map(|f| f.vectors)
        .sum();
    assert_eq!(
        vectors, 40,
        "the corpus at the pinned commit has 40 vectors"
    );
}

#[test]
fn mlflow_agent_fixture_passes() {
    let Some(dir) = dir_from_env("ARIO_MLFLOW_FIXTURES_DIR") else {
        return;
    };
    let report = run_dir(&dir).expect("fixtures readable");
    assert!(report.all_passed(), "{report:#?}");
    assert!(report.total() >= 1);
}
