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
