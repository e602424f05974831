//! Reading photo upload forms in two steps, so that nothing large is read before the
//! caller is known to be allowed: first the small fields that lead the form (`kind`),
//! then — once the route has checked who may add what — the files, within a share of a
//! memory budget common to all uploads (503 `server_busy` when it is spent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::http::header;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode, Msg};
use crate::photo::MAX_FILE_BYTES;
use crate::state::AppState;

/// At most this many files in one upload request (the per-kind limit).
pub const MAX_FILES_PER_REQUEST: usize = 9;
/// Small fields before the files, and their length.
const MAX_FIELDS: usize = 8;
const MAX_FIELD_BYTES: usize = 64;
/// The largest upload body: every file at its cap, with room for the part headers.
pub const MAX_UPLOAD_BYTES: u64 = (MAX_FILES_PER_REQUEST * MAX_FILE_BYTES) as u64 + 64 * 1024;
/// How long an upload waits for its share of the memory budget before 503.
const BUDGET_WAIT: Duration = Duration::from_secs(10);

/// A form whose leading fields are read and whose files are not yet.
pub struct PhotoForm {
    form: Multipart,
    first_file: Option<Field>,
    /// The `kind` field, when the form sends one before its files.
    pub kind: Option<String>,
}

/// The files of an upload, with the share of the memory budget (and the user's upload
/// slot) they hold until dropped.
pub struct Uploads {
    pub files: Vec<Bytes>,
    _budget: OwnedSemaphorePermit,
    _slot: UploadSlot,
}

/// Uploads one user may have in flight at once.
const UPLOADS_PER_USER: u8 = 2;

/// Uploads in flight, per user.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<Uuid, u8>>>);

/// One of a user's upload slots, given back when dropped.
struct UploadSlot {
    in_flight: InFlight,
    user: Uuid,
}

impl InFlight {
    fn take(&self, user: Uuid) -> Result<UploadSlot, ApiError> {
        let mut users = self
            .0
            .lock()
            .map_err(|_| ApiError::internal("upload slots poisoned"))?;
        let count = users.entry(user).or_default();
        if *count >= UPLOADS_PER_USER {
            return Err(
                ApiError::too_many(ErrorCode::TooManyRequests, 5).with_message(Msg::fixed(
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

impl PhotoForm {
    /// Reads the fields before the first file.
    pub async fn open(mut form: Multipart) -> Result<Self, ApiError> {
        let mut kind = None;
        let mut fields = 0;
        while let Some(field) = form.next().await {
            let mut field = field.map_err(multipart_error)?;
            if is_file(&field) {
                return Ok(Self {
                    form,
                    first_file: Some(field),
                    kind,
                });
            }
            fields += 1;
            if fields > MAX_FIELDS {
                return Err(ApiError::bad_request(Msg::fixed(
                    "Too many form fields.",
                    "表单字段过多。",
                )));
            }
            let value = read_field(&mut field, MAX_FIELD_BYTES).await?;
            if field.name() == Some("kind") {
                kind = Some(String::from_utf8_lossy(&value).trim().to_owned());
            }
        }
        Ok(Self {
            form,
            first_file: None,
            kind,
        })
    }

    /// Reads the files, after the caller's right to add them has been checked. Only files
    /// may follow the first file.
    pub async fn files(
        self,
        state: &AppState,
        user: Uuid,
        req: &HttpRequest,
    ) -> Result<Uploads, ApiError> {
        let slot = state.uploads_in_flight.take(user)?;
        let budget = reserve(state, req).await?;
        let Self {
            mut form,
            first_file,
            ..
        } = self;
        let Some(first) = first_file else {
            return Err(ApiError::invalid_field(
                "files",
                Msg::fixed("send at least one file", "请至少上传一个文件"),
            ));
        };
        let mut files = vec![read_file(first).await?];
        while let Some(field) = form.next().await {
            let field = field.map_err(multipart_error)?;
            if !is_file(&field) {
                return Err(ApiError::invalid_field(
                    field.name().unwrap_or("form"),
                    Msg::fixed(
                        "fields go before the files (or kind in the query)",
                        "字段须放在文件之前（或在查询参数中给出 kind）",
                    ),
                ));
            }
            if files.len() == MAX_FILES_PER_REQUEST {
                return Err(ApiError::new(ErrorCode::PhotoLimitReached));
            }
            files.push(read_file(field).await?);
        }
        Ok(Uploads {
            files,
            _budget: budget,
            _slot: slot,
        })
    }
}

fn is_file(field: &Field) -> bool {
    field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .is_some()
}

async fn read_file(mut field: Field) -> Result<Bytes, ApiError> {
    read_field(&mut field, MAX_FILE_BYTES).await
}

/// A field's bytes in one buffer of exactly their size (a growing buffer would hold up to
/// twice what the budget counts).
async fn read_field(field: &mut Field, limit: usize) -> Result<Bytes, ApiError> {
    let mut chunks = Vec::new();
    let mut length = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        length += chunk.len();
        if length > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge).with_message(
                if limit == MAX_FILE_BYTES {
                    Msg::fixed("A photo may be at most 20 MiB.", "每张照片最大 20 MiB。")
                } else {
                    Msg::fixed("A form field is too long.", "表单字段过长。")
                },
            ));
        }
        chunks.push(chunk);
    }
    if chunks.len() == 1 {
        return Ok(chunks.swap_remove(0));
    }
    let mut whole = BytesMut::with_capacity(length);
    for chunk in chunks {
        whole.extend_from_slice(&chunk);
    }
    Ok(whole.freeze())
}

/// Takes this request's share of the upload memory budget: its declared length, or the
/// largest upload when it declares none.
async fn reserve(state: &AppState, req: &HttpRequest) -> Result<OwnedSemaphorePermit, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge));
    }
    // The setting is at least MAX_UPLOAD_BYTES, so a reservation always fits the budget.
    let bytes = declared.unwrap_or(MAX_UPLOAD_BYTES);
    let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    match tokio::time::timeout(
        BUDGET_WAIT,
        state.upload_budget.clone().acquire_many_owned(kib),
    )
    .await
    {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(ApiError::internal(closed)),
        Err(_) => {
            tracing::warn!(bytes, "upload memory budget spent; answering 503");
            Err(ApiError::new(ErrorCode::ServerBusy))
        }
    }
}

pub fn multipart_error(err: MultipartError) -> ApiError {
    match err {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::new(ErrorCode::UnsupportedMediaType)
            .with_message(Msg::fixed(
                "Send photos as multipart/form-data.",
                "请以 multipart/form-data 上传照片。",
            )),
        MultipartError::Payload(cause) => crate::error::extractors::payload_error(&cause),
        other => ApiError::bad_request(Msg::new(
            format!("Malformed multipart body: {other}"),
            format!("multipart 请求体格式错误：{other}"),
        )),
    }
}
