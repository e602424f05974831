//! Reading photo upload forms in two steps, so that nothing large is read before the
//! caller is known to be allowed: first the small fields that lead the form (`kind`,
//! `taken_at`),
//! then — once the use case has checked who may add what — the files, streamed to the
//! spool of `services::uploads` within its limits.

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::http::header;
use bytes::{Bytes, BytesMut};
use entity::ids::UserId;
use futures_util::StreamExt;

use crate::error::{ApiError, Error, ErrorCode, Msg};
use crate::routes::extract::JSON_LIMIT_BYTES;
use crate::services::uploads::{self, Admission, MAX_FILES_PER_REQUEST, Spool, SpooledFile};
use crate::state::AppState;

/// Small fields before the files, and their length.
const MAX_FIELDS: usize = 8;
const MAX_FIELD_BYTES: usize = 64;

/// A form whose leading fields are read and whose files are not yet.
pub struct PhotoForm {
    form: Multipart,
    first_file: Option<Field>,
    /// The `kind` field, when the form sends one before its files.
    pub kind: Option<String>,
    /// The `taken_at` field (RFC 3339): when the phone says its photos were taken, for
    /// those whose EXIF does not say.
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The `report` field (JSON): a filing that carries its photos.
    pub report: Option<Bytes>,
}

/// The files of an upload, spooled to disk, with the admission (spool budget share and
/// the user's upload slot) they hold until dropped.
pub struct Uploads {
    pub files: Vec<SpooledFile>,
    _admission: Admission,
}

impl PhotoForm {
    /// Reads the fields before the first file.
    pub async fn open(mut form: Multipart) -> Result<Self, ApiError> {
        let mut kind = None;
        let mut taken_at = None;
        let mut report = None;
        let mut fields = 0;
        while let Some(field) = form.next().await {
            let mut field = field.map_err(multipart_error)?;
            if is_file(&field) {
                return Ok(Self {
                    form,
                    first_file: Some(field),
                    kind,
                    taken_at,
                    report,
                });
            }
            fields += 1;
            if fields > MAX_FIELDS {
                return Err(Error::bad_request(Msg::fixed(
                    "Too many form fields.",
                    "表单字段过多。",
                ))
                .into());
            }
            if field.name() == Some("report") {
                report = Some(read_field(&mut field, JSON_LIMIT_BYTES).await?);
                continue;
            }
            let value = read_field(&mut field, MAX_FIELD_BYTES).await?;
            let text = String::from_utf8_lossy(&value).trim().to_owned();
            match field.name() {
                Some("kind") => kind = Some(text),
                Some("taken_at") => taken_at = Some(parse_taken_at(&text)?),
                _ => {}
            }
        }
        Ok(Self {
            form,
            first_file: None,
            kind,
            taken_at,
            report,
        })
    }

    /// Reads the files, after the caller's right to add them has been checked. Only files
    /// may follow the first file.
    pub async fn files(
        self,
        state: &AppState,
        user: UserId,
        req: &HttpRequest,
    ) -> Result<Uploads, ApiError> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let admission = uploads::admit(state, user, declared).await?;
        let Self {
            mut form,
            first_file,
            ..
        } = self;
        let Some(first) = first_file else {
            return Err(Error::invalid_field(
                "files",
                Msg::fixed("send at least one file", "请至少上传一个文件"),
            )
            .into());
        };
        let mut files = vec![read_file(first).await?];
        while let Some(field) = form.next().await {
            let field = field.map_err(multipart_error)?;
            if !is_file(&field) {
                return Err(Error::invalid_field(
                    field.name().unwrap_or("form"),
                    Msg::fixed(
                        "fields go before the files (or kind in the query)",
                        "字段须放在文件之前（或在查询参数中给出 kind）",
                    ),
                )
                .into());
            }
            if files.len() == MAX_FILES_PER_REQUEST {
                return Err(Error::new(ErrorCode::PhotoLimitReached).into());
            }
            files.push(read_file(field).await?);
        }
        Ok(Uploads {
            files,
            _admission: admission,
        })
    }
}

fn parse_taken_at(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            Error::invalid_field(
                "taken_at",
                Msg::fixed(
                    "an RFC 3339 time, e.g. 2026-12-01T08:30:00+08:00",
                    "须为 RFC 3339 时间，如 2026-12-01T08:30:00+08:00",
                ),
            )
        })
}

fn is_file(field: &Field) -> bool {
    field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .is_some()
}

/// Streams a file part to the spool, hashing it on the way.
async fn read_file(mut field: Field) -> Result<SpooledFile, ApiError> {
    let mut spool = Spool::new()?;
    while let Some(chunk) = field.next().await {
        spool.write(&chunk.map_err(multipart_error)?).await?;
    }
    Ok(spool.finish().await?)
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
            return Err(Error::new(ErrorCode::PayloadTooLarge)
                .with_message(Msg::fixed("A form field is too long.", "表单字段过长。"))
                .into());
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

pub fn multipart_error(err: MultipartError) -> Error {
    match err {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => Error::new(ErrorCode::UnsupportedMediaType)
            .with_message(Msg::fixed(
                "Send photos as multipart/form-data.",
                "请以 multipart/form-data 上传照片。",
            )),
        MultipartError::Payload(cause) => crate::error::extractors::payload_error(&cause),
        other => Error::bad_request(Msg::new(
            format!("Malformed multipart body: {other}"),
            format!("multipart 请求体格式错误：{other}"),
        )),
    }
}
