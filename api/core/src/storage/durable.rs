//! The embedded store's file system, made durable. s3s-fs writes an object to a temporary
//! file and renames it into place without flushing either, so after a power cut a photo
//! the app had been told was stored could be gone while its row remains. Here every put
//! is flushed — the object's file, the metadata files s3s-fs keeps beside it, and each
//! directory on the way, which holds the new names — before the store answers.

use std::fs::File;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::dto::*;
use s3s::{S3, S3Error, S3Request, S3Response, S3Result};

/// The operations the app uses, passed to s3s-fs but for listing and aborting an
/// upload's parts (found by name here); the rest stay unimplemented.
pub struct DurableFs {
    inner: s3s_fs::FileSystem,
    root: PathBuf,
}

impl DurableFs {
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        let root = std::fs::canonicalize(root)?;
        let inner = s3s_fs::FileSystem::new(&root)
            .map_err(|err| anyhow::anyhow!("embedded store over {}: {err:?}", root.display()))?;
        Ok(Self { inner, root })
    }

    async fn flush(&self, bucket: String, key: Option<String>) -> S3Result<()> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || flush_names(&root, &bucket, key.as_deref()))
            .await
            .map_err(S3Error::internal_error)?
            .map_err(S3Error::internal_error)
    }
}

/// Flushes an object (or, without a key, a bucket) and the directories that name it.
fn flush_names(root: &Path, bucket: &str, key: Option<&str>) -> std::io::Result<()> {
    let bucket_dir = root.join(bucket);
    let target = key.map_or_else(|| bucket_dir.clone(), |key| bucket_dir.join(key));
    File::open(&target)?.sync_all()?;
    if let Some(key) = key {
        for kind in ["metadata", "internal"] {
            let beside = root.join(format!(
                ".bucket-{}.object-{}.{kind}.json",
                URL_SAFE_NO_PAD.encode(bucket),
                URL_SAFE_NO_PAD.encode(key)
            ));
            if beside.exists() {
                File::open(&beside)?.sync_all()?;
            }
        }
    }
    let mut dir = target.parent();
    while let Some(current) = dir {
        File::open(current)?.sync_all()?;
        if current == root {
            break;
        }
        dir = current.parent();
    }
    Ok(())
}

/// The part numbers `list_parts` and `abort_multipart_upload` look for. s3s-fs finds an
/// upload's parts by reading the whole root, which holds two files per object ever stored
/// (a second per status call on a store of a million photos); the app's uploads have at
/// most four parts, so the files of S3's first page of numbers are looked up by name.
const PART_NUMBERS: std::ops::RangeInclusive<i32> = 1..=1000;

/// s3s-fs's names for an upload's record and its parts (as `flush_names` knows its
/// metadata files).
fn upload_record(root: &Path, upload_id: &uuid::Uuid) -> PathBuf {
    root.join(format!(".upload-{upload_id}.json"))
}

fn part_file(root: &Path, upload_id: &uuid::Uuid, number: i32) -> PathBuf {
    root.join(format!(".upload_id-{upload_id}.part-{number}"))
}

/// The parts of an upload, or `None` when the store does not know it.
fn parts_of(root: &Path, upload_id: &str) -> std::io::Result<Option<Vec<Part>>> {
    let Ok(id) = upload_id.parse::<uuid::Uuid>() else {
        return Ok(None);
    };
    if !upload_record(root, &id).exists() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for number in PART_NUMBERS {
        match std::fs::metadata(part_file(root, &id, number)) {
            Ok(meta) if meta.is_file() => parts.push(Part {
                part_number: Some(number),
                size: Some(i64::try_from(meta.len()).unwrap_or(i64::MAX)),
                last_modified: meta.modified().ok().map(Timestamp::from),
                ..Default::default()
            }),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(Some(parts))
}

/// Removes an upload's parts, its pending metadata and its record; `false` when the store
/// does not know it.
fn abort_upload(root: &Path, bucket: &str, key: &str, upload_id: &str) -> std::io::Result<bool> {
    let Ok(id) = upload_id.parse::<uuid::Uuid>() else {
        return Ok(false);
    };
    let record = upload_record(root, &id);
    if !record.exists() {
        return Ok(false);
    }
    let pending_metadata = root.join(format!(
        ".bucket-{}.object-{}.upload-{id}.metadata.json",
        URL_SAFE_NO_PAD.encode(bucket),
        URL_SAFE_NO_PAD.encode(key)
    ));
    let files = PART_NUMBERS
        .map(|number| part_file(root, &id, number))
        .chain([pending_metadata, record]);
    for file in files {
        match std::fs::remove_file(file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

#[async_trait::async_trait]
impl S3 for DurableFs {
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.inner.put_object(req).await?;
        self.flush(bucket, Some(key)).await?;
        Ok(answer)
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let answer = self.inner.create_bucket(req).await?;
        self.flush(bucket, None).await?;
        Ok(answer)
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.inner.head_bucket(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.inner.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.inner.head_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.inner.delete_object(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.inner.list_objects_v2(req).await
    }

    // Direct uploads. A part lost to a power cut is sent again (the phone asks which parts
    // the store has); the joined object is flushed like any put.
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.inner.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.inner.upload_part(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let ListPartsInput {
            bucket,
            key,
            upload_id,
            ..
        } = req.input;
        let root = self.root.clone();
        let id = upload_id.clone();
        let parts = tokio::task::spawn_blocking(move || parts_of(&root, &id))
            .await
            .map_err(S3Error::internal_error)?
            .map_err(S3Error::internal_error)?
            .ok_or_else(|| s3s::s3_error!(NoSuchUpload))?;
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(bucket),
            key: Some(key),
            upload_id: Some(upload_id),
            parts: Some(parts),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.inner.complete_multipart_upload(req).await?;
        self.flush(bucket, Some(key)).await?;
        Ok(answer)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let AbortMultipartUploadInput {
            bucket,
            key,
            upload_id,
            ..
        } = req.input;
        let root = self.root.clone();
        let aborted =
            tokio::task::spawn_blocking(move || abort_upload(&root, &bucket, &key, &upload_id))
                .await
                .map_err(S3Error::internal_error)?
                .map_err(S3Error::internal_error)?;
        if !aborted {
            return Err(s3s::s3_error!(NoSuchUpload));
        }
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}
