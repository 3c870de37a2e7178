//! Artifacts against a real MLflow server (proxied artifact service).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ario_mlflow_client::{ArtifactRoot, MlflowClient, MlflowError, TrackingConfig};

fn sha_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn upload_list_read_hash_and_typed_errors() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    let client = MlflowClient::new(TrackingConfig::new(server.url()).unwrap()).unwrap();
    let (_, _run_id, uri) = server.create_run("artifacts").await.unwrap();
    let root = ArtifactRoot::from_uri(&uri).unwrap();
    assert!(matches!(root, ArtifactRoot::Proxied(_)));
    let payload = br#"{"event_type":"dataset"}"#.to_vec();
    client
        .upload_artifact(&root, "ario/payload.json", payload.clone())
        .await
        .unwrap();
    client
        .upload_artifact(&root, "ario/promotions/ev 1/payload.json", b"x".to_vec())
        .await
        .unwrap();
    client
        .upload_artifact(
            &root,
            "model/MLmodel",
            b"artifact_path: model\nflavors: {}\n".to_vec(),
        )
        .await
        .unwrap();
    client
        .upload_artifact(&root, "model/empty.txt", vec![])
        .await
        .unwrap();

    let files = client.list_artifacts(&root, "").await.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "ario/payload.json",
            "ario/promotions/ev 1/payload.json",
            "model/MLmodel",
            "model/empty.txt"
        ]
    );
    assert_eq!(
        client.list_artifacts(&root, "model").await.unwrap().len(),
        2
    );
    assert_eq!(
        client
            .read_artifact(&root, "ario/payload.json", 1024)
            .await
            .unwrap(),
        payload
    );
    // the plugin reference's MLmodel digest
    assert_eq!(
        client.hash_artifact(&root, "model/MLmodel").await.unwrap(),
        "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727"
    );
    assert_eq!(
        client
            .hash_artifact(&root, "model/empty.txt")
            .await
            .unwrap(),
        sha_hex(b"")
    );
    let dest = tempfile::tempdir().unwrap();
    client
        .download_dir(&root, "model", dest.path())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(dest.path().join("MLmodel")).unwrap(),
        b"artifact_path: model\nflavors: {}\n"
    );

    // The server's own answer, typed: 3.x says RESOURCE_DOES_NOT_EXIST (404),
    // 2.x says INTERNAL_ERROR (500) for the same missing file.
    match client.read_artifact(&root, "ario/missing.json", 1024).await {
        Err(e @ MlflowError::Api { .. }) if server.version().starts_with("2.") => {
            assert_eq!(e.error_code(), Some("INTERNAL_ERROR"), "{e}");
        }
        Err(e @ MlflowError::Api { .. }) => {
            assert_eq!(e.error_code(), Some("RESOURCE_DOES_NOT_EXIST"));
            assert!(e.is_not_found());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.upload_artifact(&root, "../escape", vec![]).await,
        Err(MlflowError::UnsafePath(_))
    ));
}

#[tokio::test]
async fn unreachable_server_is_a_typed_error() {
    let closed = ario_test_support::closed_addr();
    let mut cfg = TrackingConfig::new(&format!("http://{closed}")).unwrap();
    cfg.max_retries = 1;
    cfg.backoff = std::time::Duration::from_millis(10);
    let client = MlflowClient::new(cfg).unwrap();
    let err = client
        .hash_artifact(&ArtifactRoot::Proxied("1/r/artifacts".into()), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, MlflowError::Unreachable { .. }), "{err:?}");
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Streams a 512 MiB artifact through the proxied service and prints the
/// process's peak RSS (a measurement; the only assertion is the 64 MiB bound).
/// Run on demand:
/// `ARIO_PEER_PYTHON=.peers/py/bin/python cargo test -p ario-mlflow-client --release --test artifacts -- --ignored --nocapture`
#[tokio::test]
#[ignore = "writes 512 MiB; run on demand"]
async fn streaming_512_mib_keeps_memory_bounded() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    let client = MlflowClient::new(TrackingConfig::new(server.url()).unwrap()).unwrap();
    let (_, _run, uri) = server.create_run("artifacts").await.unwrap();
    let ArtifactRoot::Proxied(rel) = ArtifactRoot::from_uri(&uri).unwrap() else {
        panic!("not proxied")
    };
    // Written straight into the server's store: uploading it would itself need the memory.
    let on_disk = server.dir().join("artifacts").join(&rel).join("big.bin");
    std::fs::create_dir_all(on_disk.parent().unwrap()).unwrap();
    {
        use std::io::Write as _;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&on_disk).unwrap());
        let block = vec![0x5a_u8; 1 << 20];
        for _ in 0..512 {
            f.write_all(&block).unwrap();
        }
    }
    let before = peak_rss_kib();
    let (n, _) = client
        .stream_artifact(
            &ArtifactRoot::Proxied(rel),
            "big.bin",
            &mut tokio::io::sink(),
        )
        .await
        .unwrap();
    let after = peak_rss_kib();
    std::fs::remove_file(&on_disk).unwrap();
    assert_eq!(n, 512 << 20);
    println!(
        "streamed {} MiB; peak RSS {} MiB before, {} MiB after",
        n >> 20,
        before / 1024,
        after / 1024
    );
    assert!(after < 64 * 1024, "peak RSS {} MiB", after / 1024);
}
