//! Photo and object storage. Every read and write goes through aws-sdk-s3, whether the
//! store is the embedded one or MinIO, Ceph or AWS S3.

mod durable;
pub mod embedded;
pub mod keys;

use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

pub use keys::{ObjectKey, Rendition};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl<E, R> From<SdkError<E, R>> for StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let missing = matches!(&err, SdkError::ServiceError(service)
            if matches!(service.err().code(), Some("NoSuchKey" | "NotFound" | "NoSuchBucket")));
        if missing {
            StorageError::NotFound
        } else {
            StorageError::Unavailable(DisplayErrorContext(&err).to_string())
        }
    }
}

/// Where the objects live and how to sign requests for them.
#[derive(Clone, Debug)]
pub struct StoreEndpoint {
    pub url: String,
    pub region: String,
    pub access_key_id: secrecy::SecretString,
    pub secret_access_key: secrecy::SecretString,
    pub bucket: String,
}

/// One object as read back.
pub struct StoredObject {
    pub bytes: Bytes,
    pub content_type: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl ObjectStore {
    pub fn new(endpoint: &StoreEndpoint) -> Self {
        use secrecy::ExposeSecret;
        let credentials = Credentials::new(
            endpoint.access_key_id.expose_secret(),
            endpoint.secret_access_key.expose_secret(),
            None,
            None,
            "xuncha-settings",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint.url)
            .region(Region::new(endpoint.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(true)
            // Only what the operation needs: many S3-compatible stores reject the
            // aws-chunked trailers that the SDK sends by default.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: endpoint.bucket.clone(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket unless it exists.
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(err) => match StorageError::from(err) {
                StorageError::NotFound => {}
                other => {
                    // Some stores answer HeadBucket on a missing bucket with a bare 404
                    // that has no code; creating tells the truth either way.
                    tracing::debug!(error = %other, "head bucket failed; trying to create it");
                }
            },
        }
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error().and_then(|e| e.code()),
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Answers when the bucket can be reached, within `deadline`.
    pub async fn ping(&self, deadline: Duration) -> Result<(), StorageError> {
        let probe = self.client.head_bucket().bucket(&self.bucket).send();
        match tokio::time::timeout(deadline, probe).await {
            Ok(result) => result.map(|_| ()).map_err(StorageError::from),
            Err(_) => Err(StorageError::Unavailable("timed out".into())),
        }
    }

    pub async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<StoredObject, StorageError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await?;
        let content_type = output.content_type().map(str::to_owned);
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|err| StorageError::Unavailable(err.to_string()))?
            .into_bytes();
        Ok(StoredObject {
            bytes,
            content_type,
        })
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await?;
        Ok(())
    }

    /// An object as a stream of chunks, with its length, for responses that should not
    /// hold a whole photo in memory.
    pub async fn get_stream(
        &self,
        key: &ObjectKey,
    ) -> Result<
        (
            impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + use<>,
            Option<i64>,
        ),
        StorageError,
    > {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await?;
        let length = output.content_length();
        let stream = tokio_util::io::ReaderStream::new(output.body.into_async_read());
        Ok((stream, length))
    }

    /// Keys under `prefix` with their last-modified time, all pages.
    pub async fn list_with_age(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, Option<chrono::DateTime<chrono::Utc>>)>, StorageError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    let modified = object
                        .last_modified()
                        .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0));
                    keys.push((key.to_owned(), modified));
                }
            }
        }
        Ok(keys)
    }

    /// Keys under `prefix`, all pages.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let listed = self.list_with_age(prefix).await?;
        Ok(listed.into_iter().map(|(key, _)| key).collect())
    }
}
