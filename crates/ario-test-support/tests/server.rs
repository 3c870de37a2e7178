//! The shared MLflow server starts, answers, and is the pinned version.

#[test]
fn server_starts_and_reports_its_version() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert!(
        server.version().starts_with(|c: char| c.is_ascii_digit()),
        "version {:?}",
        server.version()
    );
    assert!(server.dir().join("mlflow.db").exists());
}
