// Recorder behaviour against MLflow and the devnet is tested in
// `tests/recorder.rs`; the journal has its own unit tests.
