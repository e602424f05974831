//! What an upload may hold while it is received: a share of the spool budget common to all
//! uploads, one of the user's two upload slots, and the files themselves, spooled to
//! anonymous temporary files (gone when dropped, or when the process dies) and hashed as
//! they arrive. Memory holds a file only while the pipeline decodes it.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::ids::UserId;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::{Error, ErrorCode, Msg};
use crate::photo::MAX_FILE_BYTES;
use crate::state::AppState;

/// At most this many files in one upload request (the per-kind limit).
pub const MAX_FILES_PER_REQUEST: usize = 9;
/// The largest upload body: every file at its cap, with room for the part headers.
pub const MAX_UPLOAD_BYTES: u64 = (MAX_FILES_PER_REQUEST * MAX_FILE_BYTES) as u64 + 64 * 1024;
/// How long an upload waits for its share of the spool budget before 503.
const BUDGET_WAIT: Duration = Duration::from_secs(10);
/// Uploads one user may have in flight at once.
const UPLOADS_PER_USER: u8 = 2;

/// Uploads in flight, per user.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<UserId, u8>>>);

/// One of a user's upload slots, given back when dropped.
struct UploadSlot {
    in_flight: InFlight,
    user: UserId,
}

impl InFlight {
    fn take(&self, user: UserId) -> Result<UploadSlot, Error> {
        let mut users = self
            .0
            .lock()
            .map_err(|_| Error::internal("upload slots poisoned"))?;
        let count = users.entry(user).or_default();
        if *count >= UPLOADS_PER_USER {
            return Err(
                Error::too_many(ErrorCode::TooManyRequests, 5).with_message(Msg::fixed(
                    "Two uploads of yours are still being received; send this one after them.",
                    "您已有两个上传正在接收，请稍后再发送。",
                )),
            );
        }
        *count += 1;
        Ok(UploadSlot {
            in_flight: self.clone(),
            user,
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        if let Ok(mut users) = self.in_flight.0.lock()
            && let Some(count) = users.get_mut(&self.user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                users.remove(&self.user);
            }
        }
    }
}

/// An upload admitted to be received: its share of the spool budget and the user's slot,
/// held until dropped.
pub struct Admission {
    _budget: OwnedSemaphorePermit,
    _slot: UploadSlot,
}

/// Admits an upload of `declared` bytes (the largest upload when it declares none): 413
/// past the largest upload, 429 past the user's two in flight, 503 when the spool budget
/// stays spent for 10 s.
pub async fn admit(
    state: &AppState,
    user: UserId,
    declared: Option<u64>,
) -> Result<Admission, Error> {
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Err(Error::new(ErrorCode::PayloadTooLarge));
    }
    let slot = state.uploads_in_flight.take(user)?;
    // The setting is at least MAX_UPLOAD_BYTES, so a reservation always fits the budget.
    let bytes = declared.unwrap_or(MAX_UPLOAD_BYTES);
    let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    match tokio::time::timeout(
        BUDGET_WAIT,
        state.upload_budget.clone().acquire_many_owned(kib),
    )
    .await
    {
        Ok(Ok(permit)) => Ok(Admission {
            _budget: permit,
            _slot: slot,
        }),
        Ok(Err(closed)) => Err(Error::internal(closed)),
        Err(_) => {
            tracing::warn!(bytes, "upload spool budget spent; answering 503");
            Err(Error::new(ErrorCode::ServerBusy))
        }
    }
}

/// A file being received: written to an anonymous temporary file and hashed chunk by
/// chunk, refused past `MAX_FILE_BYTES`.
pub struct Spool {
    file: tokio::fs::File,
    len: u64,
    hasher: Sha256,
}

/// A received file: its bytes on disk, their length and their SHA-256 (hex), the one hash
/// of the file that the photo row and the flags use.
#[derive(Debug)]
pub struct SpooledFile {
    file: std::fs::File,
    pub len: u64,
    pub sha256: String,
}

impl Spool {
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            file: tokio::fs::File::from_std(tempfile::tempfile().map_err(spool_failed)?),
            len: 0,
            hasher: Sha256::new(),
        })
    }

    /// Appends a chunk as it arrives.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.len += chunk.len() as u64;
        if self.len > MAX_FILE_BYTES as u64 {
            return Err(
                Error::new(ErrorCode::PayloadTooLarge).with_message(Msg::fixed(
                    "A photo may be at most 20 MiB.",
                    "每张照片最大 20 MiB。",
                )),
            );
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(spool_failed)
    }

    pub async fn finish(mut self) -> Result<SpooledFile, Error> {
        self.file.flush().await.map_err(spool_failed)?;
        Ok(SpooledFile {
            file: self.file.into_std().await,
            len: self.len,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

impl SpooledFile {
    /// Bytes already in memory (seeding, tools), spooled as an upload would be.
    pub async fn of(bytes: &[u8]) -> Result<Self, Error> {
        let mut spool = Spool::new()?;
        spool.write(bytes).await?;
        spool.finish().await
    }

    /// The whole file in one buffer of exactly its size, read on the blocking pool.
    pub async fn read(&self) -> Result<bytes::Bytes, Error> {
        let mut file = self.file.try_clone().map_err(spool_failed)?;
        let len = usize::try_from(self.len).map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let mut whole = Vec::with_capacity(len);
            file.seek(SeekFrom::Start(0))?;
            file.take(len as u64).read_to_end(&mut whole)?;
            Ok::<_, std::io::Error>(bytes::Bytes::from(whole))
        })
        .await
        .map_err(Error::internal)?
        .map_err(spool_failed)
    }
}

/// The temporary directory failing (full, gone) is the server's trouble, worth a retry.
fn spool_failed(err: std::io::Error) -> Error {
    tracing::warn!(error = %err, "upload spool failed");
    Error::new(ErrorCode::ServerBusy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spooled_file_reads_back_whole_with_its_hash() {
        let mut spool = Spool::new().unwrap();
        spool.write(b"abc").await.unwrap();
        spool.write(b"def").await.unwrap();
        let file = spool.finish().await.unwrap();
        assert_eq!(file.len, 6);
        assert_eq!(file.sha256, crate::photo::sha256_hex(b"abcdef"));
        assert_eq!(&file.read().await.unwrap()[..], b"abcdef");
    }

    #[tokio::test]
    async fn a_file_past_the_limit_is_refused() {
        let mut spool = Spool::new().unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..20 {
            spool.write(&chunk).await.unwrap();
        }
        let err = spool.write(b"x").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
    }
}
