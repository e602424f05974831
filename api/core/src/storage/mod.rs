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
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
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
            if matches!(service.err().code(), Some("NoSuchKey" | "NotFound" | "NoSuchBucket" | "NoSuchUpload")));
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

/// A request the phone sends to the store itself: the method, the URL (its signature in
/// the query) and the headers it must send as they are.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PresignedPut {
    pub method: String,
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
}

/// A part of a multipart upload the store has received.
#[derive(Clone, Debug)]
pub struct ReceivedPart {
    pub number: i32,
    pub size: i64,
    pub e_tag: Option<String>,
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

    /// A presigned PUT of `key` (or of part `part` of the multipart upload `multipart`),
    /// addressed to `endpoint`: where the phone reaches the store, which may not be where
    /// this service does. The length is signed, so the store takes no other.
    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        multipart: Option<(&str, i32)>,
        length: i64,
        endpoint: &str,
        valid_for: Duration,
    ) -> Result<PresignedPut, StorageError> {
        let presigning = PresigningConfig::expires_in(valid_for)
            .map_err(|err| StorageError::Unavailable(err.to_string()))?;
        let at = aws_sdk_s3::Config::builder().endpoint_url(endpoint);
        let presigned = match multipart {
            None => {
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .content_length(length)
                    .customize()
                    .config_override(at)
                    .presigned(presigning)
                    .await?
            }
            Some((upload_id, part)) => {
                self.client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .upload_id(upload_id)
                    .part_number(part)
                    .content_length(length)
                    .customize()
                    .config_override(at)
                    .presigned(presigning)
                    .await?
            }
        };
        Ok(PresignedPut {
            method: presigned.method().to_owned(),
            url: presigned.uri().to_owned(),
            headers: presigned
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        })
    }

    /// Starts a multipart upload of `key`; answers the store's upload id.
    pub async fn start_multipart(
        &self,
        key: &ObjectKey,
        content_type: &str,
    ) -> Result<String, StorageError> {
        let output = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .send()
            .await?;
        output
            .upload_id()
            .map(str::to_owned)
            .ok_or_else(|| StorageError::Unavailable("no upload id in the answer".into()))
    }

    /// The parts of a multipart upload the store has, in part order (at most 1000: the
    /// uploads here have a handful).
    pub async fn received_parts(
        &self,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<Vec<ReceivedPart>, StorageError> {
        let output = self
            .client
            .list_parts()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .send()
            .await?;
        let mut parts: Vec<ReceivedPart> = output
            .parts()
            .iter()
            .filter_map(|part| {
                Some(ReceivedPart {
                    number: part.part_number()?,
                    size: part.size()?,
                    e_tag: part.e_tag().map(str::to_owned),
                })
            })
            .collect();
        parts.sort_by_key(|part| part.number);
        Ok(parts)
    }

    /// Joins the parts into the object.
    pub async fn complete_multipart(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[ReceivedPart],
    ) -> Result<(), StorageError> {
        let parts = parts
            .iter()
            .map(|part| {
                CompletedPart::builder()
                    .part_number(part.number)
                    .set_e_tag(part.e_tag.clone())
                    .build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    /// Drops a multipart upload and the parts received.
    pub async fn abort_multipart(
        &self,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .send()
            .await?;
        Ok(())
    }

    /// Multipart uploads under `prefix` started before `before`, as (key, upload id); empty
    /// when the store cannot list them (the embedded one: its uploads are all in rows).
    pub async fn stale_multiparts(
        &self,
        prefix: &str,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(String, String)> {
        let listed = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await;
        let Ok(listed) = listed else {
            return Vec::new();
        };
        listed
            .uploads()
            .iter()
            .filter(|upload| {
                upload
                    .initiated()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0))
                    .is_some_and(|t| t < before)
            })
            .filter_map(|upload| Some((upload.key()?.to_owned(), upload.upload_id()?.to_owned())))
            .collect()
    }

    /// The object's size, or `NotFound`.
    pub async fn size_of(&self, key: &ObjectKey) -> Result<i64, StorageError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await?;
        Ok(head.content_length().unwrap_or(0))
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
