//! The embedded S3-protocol store: s3s-fs over a folder, served on a loopback port with
//! its own random credentials, so the app talks real S3 over HTTP with nothing installed.

use std::net::SocketAddr;
use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::StoreEndpoint;

/// A running embedded store. Dropping it stops the server.
pub struct EmbeddedS3 {
    endpoint: StoreEndpoint,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmbeddedS3 {
    /// Serves `root` on `addr` (port 0 picks a free port).
    pub async fn start(root: &Path, addr: SocketAddr, bucket: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)?;
        let access_key_id = format!("xuncha-{}", &crate::auth::refresh::generate()[..12]);
        let secret_access_key = crate::auth::refresh::generate();

        let filesystem = super::durable::DurableFs::new(root)?;
        let mut builder = S3ServiceBuilder::new(filesystem);
        builder.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));
        let service = builder.build();

        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(err) => {
                            tracing::warn!(error = %err, "embedded store: accept failed");
                            continue;
                        }
                    },
                    _ = &mut stop_rx => break,
                };
                let connection = http.serve_connection(TokioIo::new(socket), service.clone());
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            drop(listener);
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
        });

        Ok(Self {
            endpoint: StoreEndpoint {
                url: format!("http://{local}"),
                region: "us-east-1".into(),
                access_key_id: access_key_id.into(),
                secret_access_key: secret_access_key.into(),
                bucket: bucket.to_owned(),
            },
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    pub fn endpoint(&self) -> &StoreEndpoint {
        &self.endpoint
    }

    /// What forwards the phones' presigned PUTs to this store.
    pub fn gateway(&self) -> Gateway {
        Gateway {
            base: self.endpoint.url.clone(),
            client: reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(std::time::Duration::from_secs(3))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Stops accepting connections and waits for open ones to finish (at most 5 s).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Forwards the phones' presigned PUTs to the embedded store, which listens on loopback
/// only. A request goes with its query (the signature), the headers a signature may cover
/// and the host its URL was made for, so the store checks the signature this service made
/// for the address the phone used, and nothing unsigned gets through.
#[derive(Clone, Debug)]
pub struct Gateway {
    base: String,
    client: reqwest::Client,
}

/// The store's answer, passed back as it is.
pub struct Forwarded {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

/// The headers of a presigned PUT that go on to the store: what a signature may cover and
/// what describes the body. Anything else (a copy source, a bearer token, hop-by-hop
/// headers, the `Host` a proxy in front wrote) stays behind.
fn forwarded_header(name: &str) -> bool {
    matches!(
        name,
        "content-length" | "content-type" | "content-md5" | "x-amz-date" | "x-amz-content-sha256"
    ) || name.starts_with("x-amz-checksum-")
        || name.starts_with("x-amz-sdk-checksum")
}

impl Gateway {
    pub async fn put(
        &self,
        path_and_query: &str,
        host: &str,
        headers: Vec<(String, String)>,
        body: impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    ) -> Result<Forwarded, super::StorageError> {
        let mut request = self
            .client
            .put(format!("{}{path_and_query}", self.base))
            .body(reqwest::Body::wrap_stream(body));
        // The host the URL was signed for, which the store checks the signature against.
        request = request.header("host", host);
        for (name, value) in headers {
            if forwarded_header(&name) {
                request = request.header(name, value);
            }
        }
        let response = request
            .send()
            .await
            .map_err(|err| super::StorageError::Unavailable(err.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| {
                matches!(
                    name.as_str(),
                    "etag" | "content-type" | "x-amz-request-id" | "x-amz-id-2"
                )
            })
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect();
        // The store's answers to a PUT are small: an empty body or an error document.
        let body = response
            .bytes()
            .await
            .map_err(|err| super::StorageError::Unavailable(err.to_string()))?;
        Ok(Forwarded {
            status,
            headers,
            body,
        })
    }
}
