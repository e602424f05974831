//! Direct uploads: a phone sends a photo straight to the object store through presigned
//! URLs — one PUT for a small file, one per 5 MiB part for a larger one, so that a link cut
//! half-way resumes from the parts the store already has — then finalizes it. The
//! finalize checks the object against what the phone declared (size, SHA-256), and hands
//! it to the photo pipeline like any upload: the format told from its bytes, the same
//! limits, flags and rules of who may add what. Unfinished uploads expire and are removed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter,
};

use entity::direct_uploads;
use entity::ids::{CaseId, UploadId};
use entity::photos;

use crate::auth::CurrentUser;
use crate::domain::PhotoKind;
use crate::error::{Error, ErrorCode, Msg};
use crate::photo::MAX_FILE_BYTES;
use crate::services::uploads::{self, Spool};
use crate::services::{now, photos as photo_service};
use crate::state::AppState;
use crate::storage::keys::UPLOAD_PREFIX;
use crate::storage::{ObjectKey, PresignedPut, ReceivedPart, StorageError};

/// The size of every part but the last: S3's smallest part. A file no larger goes in one
/// PUT.
pub const PART_BYTES: i64 = 5 * 1024 * 1024;
/// How long a presigned URL is good for; the phone asks for fresh ones when it resumes.
pub const URL_VALIDITY: Duration = Duration::from_secs(15 * 60);
/// How long an upload may stay unfinished before it is removed.
pub const UPLOAD_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// Unfinished uploads one user may have at once.
pub const MAX_PENDING_PER_USER: u64 = 20;
/// How long a finished upload's row is kept, so that a finalize whose answer was lost
/// gets the photo again.
const FINISHED_KEPT: chrono::Duration = chrono::Duration::days(7);

/// What the phone declares before it sends the bytes.
pub struct Declared {
    pub case_id: CaseId,
    pub kind: PhotoKind,
    pub size: i64,
    pub sha256: String,
    pub taken_at: Option<DateTime<Utc>>,
}

/// One part of an upload (a single-PUT upload has one): whether the store has it, and
/// when it does not, where to send it.
pub struct Part {
    pub number: i32,
    pub size: i64,
    pub received: bool,
    pub put: Option<PresignedPut>,
}

/// An upload as the phone is told of it.
pub struct Upload {
    pub row: direct_uploads::Model,
    pub parts: Vec<Part>,
    /// When the URLs handed out now stop working.
    pub urls_expire_at: Option<DateTime<Utc>>,
    pub photo: Option<photos::Model>,
}

/// The sizes of the parts of a file of `size` bytes, in order.
fn part_sizes(size: i64) -> Vec<i64> {
    let count = (size + PART_BYTES - 1) / PART_BYTES;
    (0..count)
        .map(|i| (size - i * PART_BYTES).min(PART_BYTES))
        .collect()
}

fn is_multipart(size: i64) -> bool {
    size > PART_BYTES
}

/// Where the phone reaches the store: the configured public endpoint of an external
/// store, or, for the embedded one, this service's own address as the phone reaches it
/// (`origin`: `XUNCHA_PUBLIC_URL`, or the `Host` it asked for), which passes the
/// presigned PUTs on.
pub fn store_endpoint(state: &AppState, origin: &str) -> String {
    match &state.settings.s3 {
        Some(s3) => s3.public_endpoint.clone(),
        None => origin.to_owned(),
    }
}

fn validate(declared: &mut Declared) -> Result<(), Error> {
    if declared.size < 1 || declared.size > MAX_FILE_BYTES as i64 {
        return Err(Error::invalid_field(
            "size",
            Msg::fixed(
                "from 1 byte to 20 MiB (20971520 bytes)",
                "须在 1 字节至 20 MiB（20971520 字节）之间",
            ),
        ));
    }
    declared.sha256 = declared.sha256.trim().to_ascii_lowercase();
    if declared.sha256.len() != 64 || !declared.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid_field(
            "sha256",
            Msg::fixed(
                "the file's SHA-256 as 64 hexadecimal digits",
                "须为文件的 SHA-256，64 位十六进制数字",
            ),
        ));
    }
    Ok(())
}

/// Starts an upload of a photo of `kind` to a case the user may add it to, and hands out
/// the URLs to send it to.
pub async fn begin(
    state: &AppState,
    user: &CurrentUser,
    mut declared: Declared,
    origin: &str,
) -> Result<Upload, Error> {
    validate(&mut declared)?;
    photo_service::case_owner(state, user, declared.case_id, declared.kind).await?;
    let pending = direct_uploads::Entity::find()
        .filter(direct_uploads::Column::UserId.eq(user.id))
        .filter(direct_uploads::Column::FinishedAt.is_null())
        .filter(direct_uploads::Column::ExpiresAt.gt(now()))
        .count(&state.db)
        .await?;
    if pending >= MAX_PENDING_PER_USER {
        return Err(
            Error::too_many(ErrorCode::TooManyRequests, 60).with_message(Msg::fixed(
                "You have 20 unfinished direct uploads; finish or cancel some first.",
                "您已有 20 个未完成的直传上传，请先完成或取消部分上传。",
            )),
        );
    }
    let id = UploadId::now_v7();
    let key = ObjectKey::upload(user.id, id);
    let multipart_id = if is_multipart(declared.size) {
        Some(
            state
                .store
                .start_multipart(&key, "application/octet-stream")
                .await?,
        )
    } else {
        None
    };
    let at = now();
    let row = direct_uploads::ActiveModel {
        id: Set(id),
        user_id: Set(user.id),
        case_id: Set(declared.case_id),
        kind: Set(declared.kind),
        size: Set(declared.size),
        sha256: Set(declared.sha256),
        taken_at: Set(declared.taken_at),
        object_key: Set(key.as_str().to_owned()),
        multipart_id: Set(multipart_id.clone()),
        joined_at: Set(None),
        finishing_until: Set(None),
        photo_id: Set(None),
        created_at: Set(at),
        expires_at: Set(at + UPLOAD_LIFETIME),
        finished_at: Set(None),
    };
    let row = match row.insert(&state.db).await {
        Ok(row) => row,
        Err(err) => {
            if let Some(multipart_id) = multipart_id {
                let _ = state.store.abort_multipart(&key, &multipart_id).await;
            }
            return Err(err.into());
        }
    };
    with_urls(state, row, origin, &[]).await
}

/// The user's upload, or 404 (someone else's is not theirs to know of).
async fn own(
    state: &AppState,
    user: &CurrentUser,
    id: UploadId,
) -> Result<direct_uploads::Model, Error> {
    direct_uploads::Entity::find_by_id(id)
        .filter(direct_uploads::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound))
}

fn unexpired(row: &direct_uploads::Model) -> Result<(), Error> {
    if row.finished_at.is_none() && row.expires_at <= now() {
        return Err(Error::new(ErrorCode::UploadExpired));
    }
    Ok(())
}

/// What the store has of an upload, as parts of its declared layout, and whether they
/// are already one object (a single PUT, or parts joined).
struct Stored {
    parts: Vec<ReceivedPart>,
    whole: bool,
}

async fn stored(state: &AppState, row: &direct_uploads::Model) -> Result<Stored, Error> {
    let key = ObjectKey::named(&row.object_key);
    if let (Some(multipart_id), None) = (&row.multipart_id, row.joined_at) {
        let parts = match state.store.received_parts(&key, multipart_id).await {
            Ok(parts) => parts,
            Err(StorageError::NotFound) => Vec::new(),
            Err(err) => return Err(err.into()),
        };
        if parts.len() >= part_sizes(row.size).len() {
            return Ok(Stored {
                parts,
                whole: false,
            });
        }
        // Parts missing, or the store has forgotten the upload (S3 answers NoSuchUpload,
        // the embedded store lists nothing): a finalize that died after joining them
        // leaves the object, which then counts.
        let whole = whole_object(state, row, &key).await?;
        return Ok(if whole.whole {
            whole
        } else {
            Stored {
                parts,
                whole: false,
            }
        });
    }
    whole_object(state, row, &key).await
}

/// The object as the upload's parts, when the store has it at the declared size.
async fn whole_object(
    state: &AppState,
    row: &direct_uploads::Model,
    key: &ObjectKey,
) -> Result<Stored, Error> {
    match state.store.size_of(key).await {
        Ok(size) if size == row.size => Ok(Stored {
            parts: part_sizes(row.size)
                .into_iter()
                .zip(1..)
                .map(|(size, number)| ReceivedPart {
                    number,
                    size,
                    e_tag: None,
                })
                .collect(),
            whole: true,
        }),
        // An object of another size is as good as none: sent again, it is replaced.
        Ok(_) | Err(StorageError::NotFound) => Ok(Stored {
            parts: Vec::new(),
            whole: false,
        }),
        Err(err) => Err(err.into()),
    }
}

/// The upload with fresh URLs for the parts the store does not have at their size.
async fn with_urls(
    state: &AppState,
    row: direct_uploads::Model,
    origin: &str,
    have: &[ReceivedPart],
) -> Result<Upload, Error> {
    let endpoint = store_endpoint(state, origin);
    let key = ObjectKey::named(&row.object_key);
    let mut parts = Vec::new();
    for (index, size) in part_sizes(row.size).into_iter().enumerate() {
        let number = i32::try_from(index + 1).map_err(Error::internal)?;
        let received = have.iter().any(|p| p.number == number && p.size == size);
        let put = if received {
            None
        } else {
            let multipart = row.multipart_id.as_deref().map(|id| (id, number));
            Some(
                state
                    .store
                    .presign_put(&key, multipart, size, &endpoint, URL_VALIDITY)
                    .await?,
            )
        };
        parts.push(Part {
            number,
            size,
            received,
            put,
        });
    }
    let urls_expire_at = parts
        .iter()
        .any(|p| p.put.is_some())
        .then(|| now() + chrono::Duration::from_std(URL_VALIDITY).unwrap_or_default());
    Ok(Upload {
        row,
        parts,
        urls_expire_at,
        photo: None,
    })
}

async fn finished(state: &AppState, row: direct_uploads::Model) -> Result<Upload, Error> {
    let photo = match row.photo_id {
        Some(photo_id) => photos::Entity::find_by_id(photo_id).one(&state.db).await?,
        None => None,
    };
    Ok(Upload {
        parts: part_sizes(row.size)
            .into_iter()
            .zip(1..)
            .map(|(size, number)| Part {
                number,
                size,
                received: true,
                put: None,
            })
            .collect(),
        row,
        urls_expire_at: None,
        photo,
    })
}

/// Where an upload stands: which parts the store has, fresh URLs for the rest (a phone
/// resuming after a cut link or a night offline), or the photo it became.
pub async fn status(
    state: &AppState,
    user: &CurrentUser,
    id: UploadId,
    origin: &str,
) -> Result<Upload, Error> {
    let row = own(state, user, id).await?;
    if row.finished_at.is_some() {
        return finished(state, row).await;
    }
    unexpired(&row)?;
    let have = stored(state, &row).await?.parts;
    with_urls(state, row, origin, &have).await
}

/// Makes the uploaded object a photo of the case: every part at its size, joined; the
/// bytes of the declared size and SHA-256; then the photo pipeline, as for any upload.
/// Answers the upload with its photo, and whether the photo is new (a finalize sent again
/// answers the same photo). One finalize at a time holds the upload; another meanwhile
/// is told to ask again.
pub async fn finish(
    state: &AppState,
    user: &CurrentUser,
    id: UploadId,
) -> Result<(Upload, bool), Error> {
    let row = own(state, user, id).await?;
    if row.finished_at.is_some() {
        return Ok((finished(state, row).await?, false));
    }
    unexpired(&row)?;
    let owner = photo_service::case_owner(state, user, row.case_id, row.kind).await?;
    // Admitted before anything changes in the store, so a refusal leaves the upload as
    // it was.
    let _admission = uploads::admit(state, user.id, Some(row.size.unsigned_abs())).await?;
    let Some(row) = claim(state, id).await? else {
        let row = own(state, user, id).await?;
        if row.finished_at.is_some() {
            return Ok((finished(state, row).await?, false));
        }
        return Err(Error::too_many(ErrorCode::UploadInProgress, 2));
    };
    let finishing = finish_claimed(state, user, owner, row).await;
    if finishing.is_err() {
        release(state, id).await;
    }
    finishing
}

/// How long a finalize holds its upload: the join, the read back and the photo pipeline
/// of 20 MiB take seconds; a finalize that dies lets go when this passes.
const FINISH_CLAIM: chrono::Duration = chrono::Duration::minutes(2);

/// Takes the upload for one finalize; `None` when another holds it or it is finished.
async fn claim(state: &AppState, id: UploadId) -> Result<Option<direct_uploads::Model>, Error> {
    let at = now();
    let claimed = direct_uploads::Entity::update_many()
        .col_expr(
            direct_uploads::Column::FinishingUntil,
            Expr::value(at + FINISH_CLAIM),
        )
        .filter(direct_uploads::Column::Id.eq(id))
        .filter(direct_uploads::Column::FinishedAt.is_null())
        .filter(unclaimed(at))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    Ok(direct_uploads::Entity::find_by_id(id)
        .one(&state.db)
        .await?)
}

fn unclaimed(at: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(direct_uploads::Column::FinishingUntil.is_null())
        .add(direct_uploads::Column::FinishingUntil.lt(at))
}

/// Lets the upload go after a failed finalize, so that a retry need not wait.
async fn release(state: &AppState, id: UploadId) {
    let released = direct_uploads::Entity::update_many()
        .col_expr(
            direct_uploads::Column::FinishingUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(direct_uploads::Column::Id.eq(id))
        .exec(&state.db)
        .await;
    if let Err(err) = released {
        tracing::warn!(error = %err, upload = %id, "direct upload: claim not released");
    }
}

async fn finish_claimed(
    state: &AppState,
    user: &CurrentUser,
    owner: photo_service::Owner,
    mut row: direct_uploads::Model,
) -> Result<(Upload, bool), Error> {
    let key = ObjectKey::named(&row.object_key);
    let have = stored(state, &row).await?;
    let expected = part_sizes(row.size);
    let missing: Vec<String> = expected
        .iter()
        .zip(1..)
        .filter(|(size, number)| {
            !have
                .parts
                .iter()
                .any(|p| p.number == *number && p.size == **size)
        })
        .map(|(_, number)| number.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(
            Error::new(ErrorCode::UploadIncomplete).with_message(Msg::new(
                format!(
                    "The store does not have these parts yet: {}.",
                    missing.join(", ")
                ),
                format!("存储中尚缺以下分片：{}。", missing.join("、")),
            )),
        );
    }
    if let (Some(multipart_id), None) = (&row.multipart_id, row.joined_at) {
        if !have.whole {
            let parts: Vec<ReceivedPart> = have
                .parts
                .into_iter()
                .filter(|p| usize::try_from(p.number).is_ok_and(|n| n >= 1 && n <= expected.len()))
                .collect();
            state
                .store
                .complete_multipart(&key, multipart_id, &parts)
                .await?;
        }
        // From now on the upload is one object: the store has forgotten its parts.
        let mut joined = row.into_active_model();
        joined.joined_at = Set(Some(now()));
        row = joined.update(&state.db).await?;
    }

    let file = match spool_object(state, &key).await {
        Ok(file) if file.len == row.size.unsigned_abs() && file.sha256 == row.sha256 => file,
        Ok(_) | Err(SpoolFailure::TooLarge) => return Err(start_over(state, row).await),
        Err(SpoolFailure::Error(err)) => return Err(err),
    };
    let (photos, created) =
        photo_service::add_to(state, user, owner, row.kind, &[file], row.taken_at).await?;
    let photo = photos.into_iter().next();
    let at = now();
    direct_uploads::Entity::update_many()
        .col_expr(
            direct_uploads::Column::PhotoId,
            Expr::value(photo.as_ref().map(|p| p.id)),
        )
        .col_expr(direct_uploads::Column::FinishedAt, Expr::value(at))
        .col_expr(
            direct_uploads::Column::FinishingUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(direct_uploads::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    // The photo has its own objects now; the upload's is spent (the sweep removes it if
    // this fails).
    if let Err(err) = state.store.delete(&key).await {
        tracing::warn!(error = %err, key = key.as_str(), "direct upload: object not removed");
    }
    let row = direct_uploads::Model {
        photo_id: photo.as_ref().map(|p| p.id),
        finished_at: Some(at),
        finishing_until: None,
        ..row
    };
    let mut upload = finished(state, row).await?;
    upload.photo = photo.or(upload.photo);
    Ok((upload, created))
}

enum SpoolFailure {
    TooLarge,
    Error(Error),
}

/// The object, streamed into the upload spool (hashed on the way), never past the photo
/// size limit whatever the store holds.
async fn spool_object(
    state: &AppState,
    key: &ObjectKey,
) -> Result<uploads::SpooledFile, SpoolFailure> {
    let (mut stream, _) = state
        .store
        .get_stream(key)
        .await
        .map_err(|err| SpoolFailure::Error(err.into()))?;
    let mut spool = Spool::new().map_err(SpoolFailure::Error)?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            SpoolFailure::Error(StorageError::Unavailable(err.to_string()).into())
        })?;
        spool.write(&chunk).await.map_err(|err| match err.code {
            ErrorCode::PayloadTooLarge => SpoolFailure::TooLarge,
            _ => SpoolFailure::Error(err),
        })?;
    }
    spool.finish().await.map_err(SpoolFailure::Error)
}

/// The object is not what was declared: it is removed and, for a multipart upload, a new
/// one is started under the same upload, so the phone sends the file again to fresh URLs.
async fn start_over(state: &AppState, row: direct_uploads::Model) -> Error {
    let key = ObjectKey::named(&row.object_key);
    if let Err(err) = state.store.delete(&key).await {
        return err.into();
    }
    if row.multipart_id.is_some() {
        let restarted = match state
            .store
            .start_multipart(&key, "application/octet-stream")
            .await
        {
            Ok(id) => id,
            Err(err) => return err.into(),
        };
        let mut again = row.into_active_model();
        again.multipart_id = Set(Some(restarted));
        again.joined_at = Set(None);
        if let Err(err) = again.update(&state.db).await {
            return err.into();
        }
    }
    Error::new(ErrorCode::UploadMismatch)
}

/// Drops an unfinished upload and what the store has of it; a finished one is forgotten
/// (its photo stays). Not while a finalize holds it.
pub async fn cancel(state: &AppState, user: &CurrentUser, id: UploadId) -> Result<(), Error> {
    let row = own(state, user, id).await?;
    if !remove(state, &row).await? {
        return Err(Error::too_many(ErrorCode::UploadInProgress, 2));
    }
    Ok(())
}

/// Deletes the upload's row unless a finalize holds it (answers whether it did), then
/// what the store has of it; what the store fails to drop is left to the sweep.
async fn remove(state: &AppState, row: &direct_uploads::Model) -> Result<bool, Error> {
    let deleted = direct_uploads::Entity::delete_many()
        .filter(direct_uploads::Column::Id.eq(row.id))
        .filter(unclaimed(now()))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Ok(false);
    }
    if row.finished_at.is_none() {
        let key = ObjectKey::named(&row.object_key);
        if let (Some(multipart_id), None) = (&row.multipart_id, row.joined_at) {
            match state.store.abort_multipart(&key, multipart_id).await {
                Ok(()) | Err(StorageError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        // Also after an abort: the parts may have been joined by a finalize that died.
        match state.store.delete(&key).await {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(true)
}

/// Removes unfinished uploads past their lifetime and finished ones kept long enough,
/// then what the store holds under the uploads prefix that no upload can still want (a
/// crash between the store and the row). Returns how many uploads were removed.
pub async fn sweep(state: &AppState) -> Result<usize, Error> {
    let at = now();
    let expired = direct_uploads::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(direct_uploads::Column::FinishedAt.is_null())
                        .add(direct_uploads::Column::ExpiresAt.lte(at)),
                )
                .add(direct_uploads::Column::FinishedAt.lt(at - FINISHED_KEPT)),
        )
        .all(&state.db)
        .await?;
    let mut removed = 0;
    for row in &expired {
        match remove(state, row).await {
            Ok(true) => removed += 1,
            Ok(false) => {} // a finalize holds it; the next sweep sees
            Err(err) => tracing::warn!(error = %err, upload = %row.id, "direct upload sweep"),
        }
    }
    let stale = at - UPLOAD_LIFETIME - chrono::Duration::hours(1);
    for (key, multipart_id) in state.store.stale_multiparts(UPLOAD_PREFIX, stale).await {
        let _ = state
            .store
            .abort_multipart(&ObjectKey::named(&key), &multipart_id)
            .await;
    }
    for (key, modified) in state.store.list_with_age(UPLOAD_PREFIX).await? {
        if modified.is_some_and(|m| m < stale) {
            state.store.delete(&ObjectKey::named(&key)).await?;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_five_mebibytes_but_the_last() {
        assert_eq!(part_sizes(1), vec![1]);
        assert_eq!(part_sizes(PART_BYTES), vec![PART_BYTES]);
        assert_eq!(part_sizes(PART_BYTES + 1), vec![PART_BYTES, 1]);
        let largest = MAX_FILE_BYTES as i64;
        let sizes = part_sizes(largest);
        assert_eq!(sizes.len(), 4);
        assert_eq!(sizes.iter().sum::<i64>(), largest);
        assert!(!is_multipart(PART_BYTES) && is_multipart(PART_BYTES + 1));
    }
}
