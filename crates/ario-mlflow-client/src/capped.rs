//! Reading a small artifact whole, with a cap on what is held in memory:
//! from any kind of artifact root, reading stops within one chunk of the cap.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::artifacts::{check_relative, ArtifactRoot};
use crate::client::MlflowClient;
use crate::error::MlflowError;

/// A buffer that refuses to grow past `cap` bytes.
struct CappedBuffer {
    bytes: Vec<u8>,
    cap: u64,
    exceeded: bool,
}

impl tokio::io::AsyncWrite for CappedBuffer {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.bytes.len() as u64 + buf.len() as u64 > self.cap {
            self.exceeded = true;
            return Poll::Ready(Err(std::io::Error::other("larger than the cap")));
        }
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl MlflowClient {
    /// The whole bytes of a small artifact; [`MlflowError::TooLarge`] when
    /// it holds more than `cap` bytes (no more than `cap` is ever held).
    pub async fn read_artifact(
        &self,
        root: &ArtifactRoot,
        path: &str,
        cap: u64,
    ) -> Result<Vec<u8>, MlflowError> {
        check_relative(path)?;
        let too_large = || MlflowError::TooLarge {
            path: path.to_owned(),
            cap,
        };
        if let ArtifactRoot::Proxied(base) = root {
            let url = self.proxied_url(base, path);
            let resp = self.send(|| self.http.get(&url)).await?;
            return ario_http::read_capped(resp, cap)
                .await
                .map_err(|e| match e {
                    ario_http::RequestFailure::TooLarge { .. } => too_large(),
                    e => MlflowError::Unreachable {
                        url,
                        detail: e.to_string(),
                    },
                });
        }
        let mut sink = CappedBuffer {
            bytes: Vec::new(),
            cap,
            exceeded: false,
        };
        match self.stream_artifact(root, path, &mut sink).await {
            Ok(_) => Ok(sink.bytes),
            Err(_) if sink.exceeded => Err(too_large()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> MlflowClient {
        MlflowClient::new(crate::TrackingConfig::new("http://127.0.0.1:9").unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_local_artifact_over_the_cap_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("big.json"), vec![b'x'; 1000]).unwrap();
        let root = ArtifactRoot::Local(d.path().to_owned());
        let c = client();
        let got = c.read_artifact(&root, "big.json", 999).await;
        assert!(
            matches!(&got, Err(MlflowError::TooLarge { path, cap: 999 }) if path == "big.json"),
            "{got:?}"
        );
        assert_eq!(
            c.read_artifact(&root, "big.json", 1000)
                .await
                .unwrap()
                .len(),
            1000
        );
    }

    #[tokio::test]
    async fn a_missing_local_artifact_is_not_called_too_large() {
        let d = tempfile::tempdir().unwrap();
        let root = ArtifactRoot::Local(d.path().to_owned());
        let got = client().read_artifact(&root, "absent.json", 10).await;
        assert!(matches!(got, Err(MlflowError::Io { .. })), "{got:?}");
    }
}
