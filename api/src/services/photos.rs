//! Photo evidence: process, flag, store the objects, then write the row. A failure at any
//! step leaves no row and deletes what was stored; the orphan sweep catches the rest
//! (a crash between the upload and the commit).

use std::collections::HashMap;

use bytes::Bytes;
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tracing::Instrument;
use uuid::Uuid;

use entity::{cases, photos, visits};

use crate::auth::CurrentUser;
use crate::auth::policy;
use crate::domain::{GeoPoint, PhotoKind};
use crate::error::{ApiError, ErrorCode, Msg};
use crate::photo::{self, PhotoError, ProcessedPhoto};
use crate::services::{now, reports};
use crate::state::AppState;
use crate::storage::{ObjectKey, PhotoSize, StorageError};

pub const MAX_PER_KIND: u64 = 9;
/// A photo taken farther than this from the case's location is flagged.
pub const FAR_FROM_CASE_M: f64 = 200.0;
/// A photo taken this long before the case was filed is flagged.
pub const TAKEN_BEFORE_FILING: Duration = Duration::hours(24);

pub const FLAG_GPS_FAR: &str = "gps_far_from_case";
pub const FLAG_OLD: &str = "taken_long_before_filing";
pub const FLAG_SAME: &str = "same_photo_on_other_case";
pub const FLAG_SIMILAR: &str = "similar_photo_on_other_case";

/// What a photo belongs to: a case, or an inspection visit (located at its site).
pub enum Owner {
    Case(Box<cases::Model>),
    Visit {
        visit: visits::Model,
        site: GeoPoint,
    },
}

impl Owner {
    fn id(&self) -> Uuid {
        match self {
            Owner::Case(case) => case.id,
            Owner::Visit { visit, .. } => visit.id,
        }
    }

    fn column(&self) -> photos::Column {
        match self {
            Owner::Case(_) => photos::Column::CaseId,
            Owner::Visit { .. } => photos::Column::VisitId,
        }
    }

    /// Where the photo should have been taken.
    fn point(&self) -> Option<GeoPoint> {
        match self {
            Owner::Case(case) => GeoPoint::new(case.lat, case.lon).ok(),
            Owner::Visit { site, .. } => Some(*site),
        }
    }

    /// A photo taken long before this is flagged.
    fn reference_time(&self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Owner::Case(case) => case.created_at,
            Owner::Visit { visit, .. } => visit.visited_at,
        }
    }

    /// Photos owned by someone else (a NULL owner column is someone else's too).
    fn elsewhere(&self) -> Condition {
        Condition::any()
            .add(self.column().ne(self.id()))
            .add(self.column().is_null())
    }
}

/// The storage key of one size of a stored photo.
pub fn object_key(photo: &photos::Model, size: PhotoSize) -> ObjectKey {
    let owner = photo.case_id.or(photo.visit_id).unwrap_or_default();
    ObjectKey::photo(owner, photo.id, size)
}

/// A case the user may see and add photos of `kind` to, as the owner of new photos.
pub async fn case_owner(
    state: &AppState,
    user: &CurrentUser,
    case_id: Uuid,
    kind: PhotoKind,
) -> Result<Owner, ApiError> {
    let case = reports::visible_case(state, user, case_id).await?;
    policy::may_add_photo(user, &case, kind)?;
    Ok(Owner::Case(Box::new(case)))
}

/// Adds photos to an owner the caller has checked the user may add to. Returns every
/// photo of the request in order, and whether any was new (the same bytes posted again
/// are the photo already stored).
pub async fn add_to(
    state: &AppState,
    user: &CurrentUser,
    owner: Owner,
    kind: PhotoKind,
    uploads: &[Bytes],
) -> Result<(Vec<photos::Model>, bool), ApiError> {
    // Identify first (cheap): only bytes the case does not have yet are processed. This is
    // the one SHA-256 of each file; the row and the flags use it.
    let digests: Vec<String> = {
        let files = uploads.to_vec();
        tokio::task::spawn_blocking(move || files.iter().map(|b| photo::sha256_hex(b)).collect())
            .instrument(tracing::info_span!("photo.hash", files = uploads.len()))
            .await
            .map_err(ApiError::internal)?
    };
    let stored: HashMap<String, photos::Model> = photos::Entity::find()
        .filter(owner.column().eq(owner.id()))
        .filter(photos::Column::Sha256.is_in(digests.clone()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.sha256.clone(), p))
        .collect();
    let mut fresh: Vec<(String, Bytes)> = Vec::new();
    for (digest, bytes) in digests.iter().zip(uploads) {
        if !stored.contains_key(digest) && !fresh.iter().any(|(d, _)| d == digest) {
            fresh.push((digest.clone(), bytes.clone()));
        }
    }
    let existing_of_kind = count_of_kind(&state.db, &owner, kind).await?;
    if existing_of_kind + fresh.len() as u64 > MAX_PER_KIND {
        return Err(ApiError::new(ErrorCode::PhotoLimitReached));
    }

    let mut processed = Vec::with_capacity(fresh.len());
    for (index, (_, bytes)) in fresh.iter().enumerate() {
        processed.push(
            process(state, bytes.clone())
                .await
                .map_err(|e| in_file(e, index))?,
        );
    }

    let at = now();
    let flags = flags_for(state, &owner, &fresh, &processed)
        .instrument(tracing::info_span!("photo.flags", files = fresh.len()))
        .await?;
    let rows: Vec<photos::Model> = fresh
        .iter()
        .zip(&processed)
        .zip(flags)
        .map(|((file, photo), flags)| row_for(&owner, kind, user.id, file, photo, flags, at))
        .collect();

    let mut uploaded: Vec<ObjectKey> = Vec::new();
    let stored_all = store_objects(state, &rows, &fresh, &processed, &mut uploaded)
        .instrument(tracing::info_span!("photo.store", objects = rows.len() * 3))
        .await;
    let committed = match stored_all {
        Ok(()) => {
            insert_rows(state, user, &owner, kind, &rows, at)
                .instrument(tracing::info_span!("photo.database", rows = rows.len()))
                .await
        }
        Err(err) => Err(err.into()),
    };
    if let Err(err) = committed {
        for key in &uploaded {
            if let Err(cleanup) = state.store.delete(key).await {
                tracing::warn!(key = key.as_str(), error = %cleanup, "left for the orphan sweep");
            }
        }
        return Err(err);
    }

    let new_by_digest: HashMap<&str, &photos::Model> =
        rows.iter().map(|r| (r.sha256.as_str(), r)).collect();
    let ordered = digests
        .iter()
        .filter_map(|d| {
            stored
                .get(d)
                .or_else(|| new_by_digest.get(d.as_str()).copied())
        })
        .cloned()
        .collect();
    Ok((ordered, !rows.is_empty()))
}

fn in_file(err: ApiError, index: usize) -> ApiError {
    ApiError {
        message: Msg::new(
            format!("File {}: {}", index + 1, err.message.en),
            format!("第 {} 个文件：{}", index + 1, err.message.zh),
        ),
        ..err
    }
}

async fn count_of_kind(
    db: &impl sea_orm::ConnectionTrait,
    owner: &Owner,
    kind: PhotoKind,
) -> Result<u64, ApiError> {
    Ok(photos::Entity::find()
        .filter(owner.column().eq(owner.id()))
        .filter(photos::Column::Kind.eq(kind.as_str()))
        .count(db)
        .await?)
}

/// Runs the pipeline on the blocking pool, at most `photo_slots` at a time.
async fn process(state: &AppState, bytes: Bytes) -> Result<ProcessedPhoto, ApiError> {
    let _slot = state
        .photo_slots
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let city = state.settings.timezone;
    let span = tracing::info_span!("photo.decode_encode", bytes = bytes.len());
    let result = tokio::task::spawn_blocking(move || {
        let _stage = span.enter();
        photo::process(&bytes, city, photo::MAX_PIXELS)
    })
    .await
    .map_err(ApiError::internal)?;
    result.map_err(|err| match err {
        PhotoError::UnsupportedFormat(what) => ApiError::new(ErrorCode::UnsupportedMediaType)
            .with_message(Msg::new(
                format!("Photos must be JPEG, PNG or WebP; this file is {what}. On iPhone, set Camera > Formats to Most Compatible."),
                format!("照片须为 JPEG、PNG 或 WebP 格式；此文件为 {what}。iPhone 请在 相机 > 格式 中选择“兼容性最佳”。"),
            )),
        PhotoError::TooManyPixels { width, height } => ApiError::new(ErrorCode::ImageTooLarge)
            .with_message(Msg::new(
                format!("The image is {width}x{height}; at most 40 megapixels are accepted."),
                format!("图片为 {width}x{height}，最多接受 4000 万像素。"),
            )),
        PhotoError::Corrupt(detail) => {
            tracing::info!(detail, "undecodable photo refused");
            ApiError::new(ErrorCode::InvalidImage)
        }
    })
}

/// The flags of each new photo: one query for the same bytes on another case or visit for
/// all of them, and their perceptual-hash neighbours looked up at once.
async fn flags_for(
    state: &AppState,
    owner: &Owner,
    fresh: &[(String, Bytes)],
    processed: &[ProcessedPhoto],
) -> Result<Vec<Vec<&'static str>>, ApiError> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let digests: Vec<&str> = fresh.iter().map(|(d, _)| d.as_str()).collect();
    let same_elsewhere: std::collections::HashSet<String> = photos::Entity::find()
        .select_only()
        .column(photos::Column::Sha256)
        .filter(photos::Column::Sha256.is_in(digests))
        .filter(owner.elsewhere())
        .distinct()
        .into_tuple::<String>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let neighbours = similar_candidates(state, owner, processed).await?;
    Ok(fresh
        .iter()
        .zip(processed)
        .zip(neighbours)
        .map(|(((digest, _), photo), neighbours)| {
            let mut flags = Vec::new();
            if let (Some((lat, lon)), Some(at)) = (photo.exif.gps, owner.point())
                && GeoPoint::new(lat, lon).is_ok_and(|taken| taken.distance_m(at) > FAR_FROM_CASE_M)
            {
                flags.push(FLAG_GPS_FAR);
            }
            if photo
                .exif
                .taken_at
                .is_some_and(|taken| taken < owner.reference_time() - TAKEN_BEFORE_FILING)
            {
                flags.push(FLAG_OLD);
            }
            if same_elsewhere.contains(digest) {
                flags.push(FLAG_SAME);
            } else if neighbours
                .iter()
                .any(|other| photo::hamming(*other, photo.phash) <= photo::SIMILAR_MAX_DISTANCE)
            {
                flags.push(FLAG_SIMILAR);
            }
            flags
        })
        .collect())
}

/// For each of `processed`, the perceptual hashes of the newest 1,000 photos of other
/// cases or visits that share a 16-bit band with it: a photo within
/// `SIMILAR_MAX_DISTANCE` bits shares at least one band, so the bands find every
/// candidate. One query per photo, all sent at once.
async fn similar_candidates(
    state: &AppState,
    owner: &Owner,
    processed: &[ProcessedPhoto],
) -> Result<Vec<Vec<u64>>, ApiError> {
    let queries = processed.iter().map(|photo| {
        let [b0, b1, b2, b3] = photo::phash_bands(photo.phash);
        photos::Entity::find()
            .select_only()
            .column(photos::Column::Phash)
            .filter(owner.elsewhere())
            .filter(
                Condition::any()
                    .add(photos::Column::PhashB0.eq(b0))
                    .add(photos::Column::PhashB1.eq(b1))
                    .add(photos::Column::PhashB2.eq(b2))
                    .add(photos::Column::PhashB3.eq(b3)),
            )
            .order_by_desc(photos::Column::Id)
            .limit(1000)
            .into_tuple::<i64>()
            .all(&state.db)
    });
    futures_util::future::try_join_all(queries)
        .await?
        .into_iter()
        .map(|found| Ok(found.into_iter().map(|phash| phash as u64).collect()))
        .collect()
}

fn row_for(
    owner: &Owner,
    kind: PhotoKind,
    uploaded_by: Uuid,
    (digest, original): &(String, Bytes),
    photo: &ProcessedPhoto,
    flags: Vec<&'static str>,
    at: chrono::DateTime<chrono::Utc>,
) -> photos::Model {
    let [b0, b1, b2, b3] = photo::phash_bands(photo.phash);
    photos::Model {
        id: Uuid::now_v7(),
        case_id: matches!(owner, Owner::Case(_)).then(|| owner.id()),
        visit_id: matches!(owner, Owner::Visit { .. }).then(|| owner.id()),
        kind: kind.as_str().to_owned(),
        sha256: digest.to_owned(),
        content_type: photo.format.content_type().to_owned(),
        bytes: original.len() as i64,
        width: i32::try_from(photo.width).unwrap_or(i32::MAX),
        height: i32::try_from(photo.height).unwrap_or(i32::MAX),
        taken_at: photo.exif.taken_at,
        exif_lat: photo.exif.gps.map(|(lat, _)| lat),
        exif_lon: photo.exif.gps.map(|(_, lon)| lon),
        flags: serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()),
        phash: photo.phash as i64,
        phash_b0: b0,
        phash_b1: b1,
        phash_b2: b2,
        phash_b3: b3,
        uploaded_by,
        created_at: at,
    }
}

/// Stores the three objects of every photo at once. Every object that was stored is
/// named in `uploaded`, whatever else failed, so the caller can remove them.
async fn store_objects(
    state: &AppState,
    rows: &[photos::Model],
    originals: &[(String, Bytes)],
    processed: &[ProcessedPhoto],
    uploaded: &mut Vec<ObjectKey>,
) -> Result<(), StorageError> {
    let mut puts = Vec::with_capacity(rows.len() * 3);
    for ((row, (_, original)), photo) in rows.iter().zip(originals).zip(processed) {
        for (size, bytes, content_type) in [
            (
                PhotoSize::Original,
                original.clone(),
                row.content_type.as_str(),
            ),
            (
                PhotoSize::Preview,
                Bytes::from(photo.preview.clone()),
                "image/jpeg",
            ),
            (
                PhotoSize::Thumbnail,
                Bytes::from(photo.thumbnail.clone()),
                "image/jpeg",
            ),
        ] {
            let key = object_key(row, size);
            puts.push(async move {
                let stored = state.store.put(&key, bytes, content_type).await;
                (key, stored)
            });
        }
    }
    let mut first_error = None;
    for (key, stored) in futures_util::future::join_all(puts).await {
        match stored {
            Ok(()) => uploaded.push(key),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Writes the rows once their objects exist, re-checking the per-kind limit inside the
/// transaction, and touches the owner so phones syncing by `updated_since` see the photos.
async fn insert_rows(
    state: &AppState,
    user: &CurrentUser,
    owner: &Owner,
    kind: PhotoKind,
    rows: &[photos::Model],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = crate::services::begin_write(&state.db).await?;
    match owner {
        Owner::Case(case) => {
            // The update holds the case's row (PostgreSQL; SQLite's write lock covers it),
            // and the case is judged again as it is now: the body may have taken minutes,
            // and the case may have moved on or out of the user's reach meanwhile.
            cases::Entity::update_many()
                .col_expr(cases::Column::UpdatedAt, Expr::value(at))
                .filter(cases::Column::Id.eq(case.id))
                .exec(&txn)
                .await?;
            let current = cases::Entity::find_by_id(case.id)
                .one(&txn)
                .await?
                .ok_or_else(ApiError::not_found)?;
            if let Err(refused) = policy::may_add_photo(user, &current, kind) {
                txn.rollback().await?;
                return Err(refused);
            }
        }
        Owner::Visit { visit, .. } => {
            crate::services::inspections::campaigns::hold_open(&txn, visit.campaign_id).await?;
            visits::Entity::update_many()
                .col_expr(visits::Column::UpdatedAt, Expr::value(at))
                .filter(visits::Column::Id.eq(visit.id))
                .exec(&txn)
                .await?;
        }
    }
    let count = count_of_kind(&txn, owner, kind).await?;
    if count + rows.len() as u64 > MAX_PER_KIND {
        txn.rollback().await?;
        return Err(ApiError::new(ErrorCode::PhotoLimitReached));
    }
    let models = rows.iter().cloned().map(|row| photos::ActiveModel {
        id: Set(row.id),
        case_id: Set(row.case_id),
        visit_id: Set(row.visit_id),
        kind: Set(row.kind),
        sha256: Set(row.sha256),
        content_type: Set(row.content_type),
        bytes: Set(row.bytes),
        width: Set(row.width),
        height: Set(row.height),
        taken_at: Set(row.taken_at),
        exif_lat: Set(row.exif_lat),
        exif_lon: Set(row.exif_lon),
        flags: Set(row.flags),
        phash: Set(row.phash),
        phash_b0: Set(row.phash_b0),
        phash_b1: Set(row.phash_b1),
        phash_b2: Set(row.phash_b2),
        phash_b3: Set(row.phash_b3),
        uploaded_by: Set(row.uploaded_by),
        created_at: Set(row.created_at),
    });
    photos::Entity::insert_many(models.collect::<Vec<_>>())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A photo the user may see (through its case or visit), or 404.
pub async fn visible_photo(
    state: &AppState,
    user: &CurrentUser,
    photo_id: Uuid,
) -> Result<photos::Model, ApiError> {
    let photo = photos::Entity::find_by_id(photo_id)
        .one(&state.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match (photo.case_id, photo.visit_id) {
        (Some(case_id), _) => {
            reports::visible_case(state, user, case_id).await?;
        }
        (None, Some(visit_id)) => {
            crate::services::inspections::visits::visible_visit(state, user, visit_id).await?;
        }
        (None, None) => return Err(ApiError::not_found()),
    }
    Ok(photo)
}

/// Deletes photo objects that no row points to and that are older than `min_age` (younger
/// ones may belong to an upload still in flight). Returns how many were deleted.
pub async fn sweep_orphans(state: &AppState, min_age: Duration) -> Result<usize, ApiError> {
    let listed = state
        .store
        .list_with_age(crate::storage::keys::PHOTO_PREFIX)
        .await?;
    let cutoff = now() - min_age;
    let old: Vec<(String, Uuid)> = listed
        .into_iter()
        .filter(|(_, modified)| modified.is_none_or(|m| m <= cutoff))
        .filter_map(|(key, _)| ObjectKey::photo_id_of(&key).map(|id| (key, id)))
        .collect();
    let mut deleted = 0;
    for chunk in old.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
        let known: std::collections::HashSet<Uuid> = photos::Entity::find()
            .filter(photos::Column::Id.is_in(ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        for (key, id) in chunk {
            if !known.contains(id) {
                state.store.delete(&ObjectKey::from_listed(key)).await?;
                deleted += 1;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "swept orphaned photo objects");
    }
    Ok(deleted)
}
