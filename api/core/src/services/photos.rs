//! Photo evidence: process, flag, store the objects, then write the row. A failure at any
//! step leaves no row and deletes what was stored; the orphan sweep catches the rest
//! (a crash between the upload and the commit).

use std::collections::HashMap;

use bytes::Bytes;
use chrono::Duration;
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tracing::Instrument;
use uuid::Uuid;

use entity::ids::{CaseId, PhotoId, UserId};

use entity::{case_events, cases, photos, visits};

use crate::auth::CurrentUser;
use crate::auth::policy::{self, PhotoTiming};
use crate::domain::{GeoPoint, PhotoKind};
use crate::error::{Error, ErrorCode, Msg};
use crate::photo::{self, PhotoError, ProcessedPhoto};
use crate::services::uploads::SpooledFile;
use crate::services::{now, reports, scope};
use crate::state::AppState;
use crate::storage::{ObjectKey, Rendition, StorageError};

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
    /// The owner's id: the first segment of its photos' object keys.
    fn id(&self) -> Uuid {
        match self {
            Owner::Case(case) => case.id.0,
            Owner::Visit { visit, .. } => visit.id.0,
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

    /// A photo taken long before this is flagged: when the problem was seen (the phone
    /// says when; a case synced the next day is not the day it was seen).
    fn reference_time(&self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Owner::Case(case) => case.observed_at,
            Owner::Visit { visit, .. } => visit.visited_at,
        }
    }

    /// Photos owned by someone else.
    fn elsewhere(&self) -> Condition {
        owned_elsewhere(self.column(), self.id())
    }
}

/// Photos not owned by `id` in `column` (a NULL owner column is someone else's too).
fn owned_elsewhere(column: photos::Column, id: Uuid) -> Condition {
    Condition::any().add(column.ne(id)).add(column.is_null())
}

/// Whether two perceptual hashes show the same picture: the one rule of "similar", for
/// the flag given at upload and for the matches listed later.
fn similar(a: u64, b: u64) -> bool {
    photo::hamming(a, b) <= photo::SIMILAR_MAX_DISTANCE
}

/// Photos matching `elsewhere` that share a 16-bit band with `phash`, newest first: a
/// photo within `SIMILAR_MAX_DISTANCE` bits shares at least one band, so the bands find
/// every candidate (the caller keeps those that are [`similar`]).
fn band_neighbours(phash: u64, elsewhere: Condition) -> sea_orm::Select<photos::Entity> {
    let [b0, b1, b2, b3] = photo::phash_bands(phash);
    photos::Entity::find()
        .filter(elsewhere)
        .filter(
            Condition::any()
                .add(photos::Column::PhashB0.eq(b0))
                .add(photos::Column::PhashB1.eq(b1))
                .add(photos::Column::PhashB2.eq(b2))
                .add(photos::Column::PhashB3.eq(b3)),
        )
        .order_by_desc(photos::Column::Id)
}

/// How many band neighbours are compared with a photo, newest first.
const NEIGHBOURS_COMPARED: u64 = 1000;

/// The storage key of one rendition of a stored photo.
pub fn object_key(photo: &photos::Model, rendition: Rendition) -> ObjectKey {
    let owner = photo
        .case_id
        .map(|case| case.0)
        .or(photo.visit_id.map(|visit| visit.0))
        .unwrap_or_default();
    ObjectKey::photo(owner, photo.id, rendition)
}

/// One rendition of a stored photo, streamed from the store: its content type, its bytes and
/// their length when the store says it.
pub async fn rendition(
    state: &AppState,
    photo: &photos::Model,
    rendition: Rendition,
) -> Result<
    (
        String,
        impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + use<>,
        Option<i64>,
    ),
    Error,
> {
    let content_type = match rendition {
        Rendition::Original => photo.content_type.clone(),
        Rendition::Preview | Rendition::Thumbnail => "image/jpeg".to_owned(),
    };
    let (stream, length) = state
        .store
        .get_stream(&object_key(photo, rendition))
        .await?;
    Ok((content_type, stream, length))
}

/// A case the user may see and add photos of `kind` to, as the owner of new photos.
pub async fn case_owner(
    state: &AppState,
    user: &CurrentUser,
    case_id: CaseId,
    kind: PhotoKind,
) -> Result<Owner, Error> {
    let case = reports::visible_case(state, user, case_id).await?;
    policy::may_add_photo(user, &case, kind)?;
    Ok(Owner::Case(Box::new(case)))
}

/// Adds photos to an owner the caller has checked the user may add to. Returns every
/// photo of the request in order, and whether any was new (the same bytes posted again
/// are the photo already stored). `stated_taken_at` is when the phone says the photos
/// were taken, for those whose EXIF does not say.
pub async fn add_to(
    state: &AppState,
    user: &CurrentUser,
    owner: Owner,
    kind: PhotoKind,
    uploads: &[SpooledFile],
    stated_taken_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(Vec<photos::Model>, bool), Error> {
    // The spool hashed each file as it arrived: only bytes the owner does not have yet are
    // processed, and the row and the flags use that one hash.
    let digests: Vec<&str> = uploads.iter().map(|f| f.sha256.as_str()).collect();
    let stored: HashMap<String, photos::Model> = photos::Entity::find()
        .filter(owner.column().eq(owner.id()))
        .filter(photos::Column::Sha256.is_in(digests.clone()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.sha256.clone(), p))
        .collect();
    // The new files, with their place in the request (1-based), for error messages.
    let mut fresh: Vec<&SpooledFile> = Vec::new();
    let mut places: Vec<usize> = Vec::new();
    for (index, file) in uploads.iter().enumerate() {
        if !stored.contains_key(&file.sha256) && !fresh.iter().any(|f| f.sha256 == file.sha256) {
            fresh.push(file);
            places.push(index + 1);
        }
    }
    let existing_of_kind = count_of_kind(&state.db, &owner, kind).await?;
    if existing_of_kind + fresh.len() as u64 > MAX_PER_KIND {
        return Err(Error::new(ErrorCode::PhotoLimitReached));
    }

    let mut uploaded = StoredObjects::new(state.store.clone());
    let prepared = prepare_all(state, &owner, &fresh, &places, &mut uploaded.keys).await;
    let at = now();
    let committed = match prepared {
        Ok(mut prepared) => {
            for Prepared { photo, .. } in &mut prepared {
                photo.exif.taken_at = photo.exif.taken_at.or(stated_taken_at);
            }
            write_rows(state, user, &owner, kind, &fresh, prepared, at)
                .instrument(tracing::info_span!("photo.database", rows = fresh.len()))
                .await
        }
        Err(err) => Err(err),
    };
    let rows = match committed {
        Ok(rows) => {
            uploaded.keep();
            rows
        }
        Err(err) => {
            uploaded.delete_now().await;
            return Err(err);
        }
    };

    let new_by_digest: HashMap<&str, &photos::Model> =
        rows.iter().map(|r| (r.sha256.as_str(), r)).collect();
    let ordered = digests
        .iter()
        .filter_map(|d| stored.get(*d).or_else(|| new_by_digest.get(d).copied()))
        .cloned()
        .collect();
    Ok((ordered, !rows.is_empty()))
}

/// A "before" photo of a case that has moved on is taken only if it was taken (EXIF, or
/// as the phone says) before the case's last change of state.
async fn taken_before_last_change(
    txn: &impl ConnectionTrait,
    case: &cases::Model,
    rows: &[photos::Model],
) -> Result<(), Error> {
    let last_change: Option<chrono::DateTime<chrono::Utc>> = case_events::Entity::find()
        .select_only()
        .column(case_events::Column::CreatedAt)
        .filter(case_events::Column::CaseId.eq(case.id))
        .filter(
            Condition::any()
                .add(case_events::Column::FromStatus.is_null())
                .add(
                    Expr::col(case_events::Column::FromStatus)
                        .ne(Expr::col(case_events::Column::ToStatus))
                        .into_condition(),
                ),
        )
        .order_by_desc(case_events::Column::Seq)
        .into_tuple()
        .one(txn)
        .await?;
    let last_change = last_change.unwrap_or(case.updated_at);
    if rows
        .iter()
        .all(|row| row.taken_at.is_some_and(|taken| taken < last_change))
    {
        return Ok(());
    }
    Err(Error::new(ErrorCode::Conflict).with_message(Msg::new(
        format!(
            "The case is {} now: it takes only before photos taken before it moved on (EXIF, or taken_at), and these were taken later or do not say when.",
            case.status
        ),
        format!(
            "案件当前为{}：只能补充在状态变更之前拍摄的整改前照片（以 EXIF 或 taken_at 为准），这些照片拍摄于其后或未注明拍摄时间。",
            case.status
        ),
    )))
}

/// Objects stored for photos whose rows are not written yet. Deleted on failure before the
/// answer; when the request is dropped half-way (the client went away), deleted by a task
/// of their own, so that not only the hourly sweep finds them.
struct StoredObjects {
    store: crate::storage::ObjectStore,
    keys: Vec<ObjectKey>,
}

impl StoredObjects {
    fn new(store: crate::storage::ObjectStore) -> Self {
        Self {
            store,
            keys: Vec::new(),
        }
    }

    /// Their rows are written: they stay.
    fn keep(&mut self) {
        self.keys.clear();
    }

    async fn delete_now(&mut self) {
        for key in std::mem::take(&mut self.keys) {
            if let Err(cleanup) = self.store.delete(&key).await {
                tracing::warn!(key = key.as_str(), error = %cleanup, "left for the orphan sweep");
            }
        }
    }
}

impl Drop for StoredObjects {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut orphans = Self::new(self.store.clone());
        orphans.keys = std::mem::take(&mut self.keys);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { orphans.delete_now().await });
        }
    }
}

/// A new photo whose objects are stored: its id and what the pipeline found.
struct Prepared {
    id: PhotoId,
    photo: ProcessedPhoto,
}

/// Runs the pipeline on each new file and stores its three objects, storing one photo
/// while the next is processed: at most two originals are in memory at once, whatever the
/// number of files. Every stored object is named in `uploaded`, whatever failed.
async fn prepare_all(
    state: &AppState,
    owner: &Owner,
    fresh: &[&SpooledFile],
    places: &[usize],
    uploaded: &mut Vec<ObjectKey>,
) -> Result<Vec<Prepared>, Error> {
    let mut prepared: Vec<Prepared> = Vec::with_capacity(fresh.len());
    let mut storing: Option<(Bytes, Prepared)> = None;
    for (index, file) in fresh.iter().enumerate() {
        let previous = storing.take();
        let (next, stored) = futures_util::join!(read_and_process(state, file), async {
            match previous {
                Some((original, photo)) => {
                    let stored = store_objects(state, owner, original, &photo, uploaded).await;
                    Some(stored.map(|()| photo))
                }
                None => None,
            }
        });
        if let Some(stored) = stored {
            prepared.push(stored?);
        }
        let (original, photo) = next.map_err(|e| in_file(e, places[index]))?;
        storing = Some((
            original,
            Prepared {
                id: PhotoId::now_v7(),
                photo,
            },
        ));
    }
    if let Some((original, photo)) = storing {
        store_objects(state, owner, original, &photo, uploaded).await?;
        prepared.push(photo);
    }
    Ok(prepared)
}

/// A file's bytes from the spool and the pipeline's result for them.
async fn read_and_process(
    state: &AppState,
    file: &SpooledFile,
) -> Result<(Bytes, ProcessedPhoto), Error> {
    let original = file.read().await?;
    let photo = process(state, original.clone()).await?;
    Ok((original, photo))
}

/// Flags the prepared photos, then writes their rows.
async fn write_rows(
    state: &AppState,
    user: &CurrentUser,
    owner: &Owner,
    kind: PhotoKind,
    fresh: &[&SpooledFile],
    prepared: Vec<Prepared>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<photos::Model>, Error> {
    let flags = flags_for(state, owner, fresh, &prepared)
        .instrument(tracing::info_span!("photo.flags", files = fresh.len()))
        .await?;
    let rows: Vec<photos::Model> = fresh
        .iter()
        .zip(&prepared)
        .zip(flags)
        .map(|((file, prepared), flags)| row_for(owner, kind, user.id, file, prepared, flags, at))
        .collect();
    insert_rows(state, user, owner, kind, &rows, at).await?;
    Ok(rows)
}

/// An error about the file at `place` (1-based) of the request.
fn in_file(err: Error, place: usize) -> Error {
    Error {
        message: Msg::new(
            format!("File {place}: {}", err.message.en),
            format!("第 {place} 个文件：{}", err.message.zh),
        ),
        ..err
    }
}

async fn count_of_kind(
    db: &impl sea_orm::ConnectionTrait,
    owner: &Owner,
    kind: PhotoKind,
) -> Result<u64, Error> {
    Ok(photos::Entity::find()
        .filter(owner.column().eq(owner.id()))
        .filter(photos::Column::Kind.eq(kind))
        .count(db)
        .await?)
}

/// Runs the pipeline on the blocking pool, at most `photo_slots` at a time.
async fn process(state: &AppState, bytes: Bytes) -> Result<ProcessedPhoto, Error> {
    let slot = state
        .photo_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(Error::internal)?;
    let city = state.settings.timezone;
    let span = tracing::info_span!("photo.decode_encode", bytes = bytes.len());
    let result = tokio::task::spawn_blocking(move || {
        // Held by the decode itself: a request dropped half-way frees the slot only when
        // its decode has ended, so decodes never outnumber the slots.
        let _slot = slot;
        let _stage = span.enter();
        photo::process(&bytes, city, photo::MAX_PIXELS)
    })
    .await
    .map_err(Error::internal)?;
    result.map_err(|err| match err {
        PhotoError::UnsupportedFormat(what) => Error::new(ErrorCode::UnsupportedMediaType)
            .with_message(Msg::new(
                format!("Photos must be JPEG, PNG or WebP; this file is {what}. On iPhone, set Camera > Formats to Most Compatible."),
                format!("照片须为 JPEG、PNG 或 WebP 格式；此文件为 {what}。iPhone 请在 相机 > 格式 中选择“兼容性最佳”。"),
            )),
        PhotoError::TooManyPixels { width, height } => Error::new(ErrorCode::ImageTooLarge)
            .with_message(Msg::new(
                format!("The image is {width}x{height}; at most 40 megapixels are accepted."),
                format!("图片为 {width}x{height}，最多接受 4000 万像素。"),
            )),
        PhotoError::Corrupt(detail) => {
            tracing::info!(detail, "undecodable photo refused");
            Error::new(ErrorCode::InvalidImage)
        }
    })
}

/// The flags of each new photo: one query for the same bytes on another case or visit for
/// all of them, and their perceptual-hash neighbours looked up at once.
async fn flags_for(
    state: &AppState,
    owner: &Owner,
    fresh: &[&SpooledFile],
    prepared: &[Prepared],
) -> Result<Vec<Vec<&'static str>>, Error> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let digests: Vec<&str> = fresh.iter().map(|f| f.sha256.as_str()).collect();
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
    let neighbours = similar_candidates(state, owner, prepared).await?;
    Ok(fresh
        .iter()
        .zip(prepared)
        .zip(neighbours)
        .map(|((file, Prepared { photo, .. }), neighbours)| {
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
            if same_elsewhere.contains(&file.sha256) {
                flags.push(FLAG_SAME);
            } else if neighbours.iter().any(|other| similar(*other, photo.phash)) {
                flags.push(FLAG_SIMILAR);
            }
            flags
        })
        .collect())
}

/// For each of `processed`, the perceptual hashes of the newest photos of other cases or
/// visits that share a band with it ([`band_neighbours`]). One query per photo, all sent
/// at once.
async fn similar_candidates(
    state: &AppState,
    owner: &Owner,
    prepared: &[Prepared],
) -> Result<Vec<Vec<u64>>, Error> {
    let queries = prepared.iter().map(|Prepared { photo, .. }| {
        band_neighbours(photo.phash, owner.elsewhere())
            .select_only()
            .column(photos::Column::Phash)
            .limit(NEIGHBOURS_COMPARED)
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
    uploaded_by: UserId,
    file: &SpooledFile,
    Prepared { id, photo }: &Prepared,
    flags: Vec<&'static str>,
    at: chrono::DateTime<chrono::Utc>,
) -> photos::Model {
    let [b0, b1, b2, b3] = photo::phash_bands(photo.phash);
    photos::Model {
        id: *id,
        case_id: match owner {
            Owner::Case(case) => Some(case.id),
            Owner::Visit { .. } => None,
        },
        visit_id: match owner {
            Owner::Case(_) => None,
            Owner::Visit { visit, .. } => Some(visit.id),
        },
        kind,
        sha256: file.sha256.clone(),
        content_type: photo.format.content_type().to_owned(),
        bytes: i64::try_from(file.len).unwrap_or(i64::MAX),
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

/// Stores the three objects of a photo at once. Every object that was stored is named in
/// `uploaded`, whatever else failed, so the caller can remove them.
async fn store_objects(
    state: &AppState,
    owner: &Owner,
    original: Bytes,
    prepared: &Prepared,
    uploaded: &mut Vec<ObjectKey>,
) -> Result<(), Error> {
    let photo = &prepared.photo;
    let puts = [
        (Rendition::Original, original, photo.format.content_type()),
        (
            Rendition::Preview,
            Bytes::copy_from_slice(&photo.preview),
            "image/jpeg",
        ),
        (
            Rendition::Thumbnail,
            Bytes::copy_from_slice(&photo.thumbnail),
            "image/jpeg",
        ),
    ]
    .map(|(rendition, bytes, content_type)| {
        let key = ObjectKey::photo(owner.id(), prepared.id, rendition);
        async move {
            let stored = state.store.put(&key, bytes, content_type).await;
            (key, stored)
        }
    });
    let mut first_error = None;
    let results = futures_util::future::join_all(puts)
        .instrument(tracing::info_span!("photo.store", objects = 3))
        .await;
    for (key, stored) in results {
        match stored {
            Ok(()) => uploaded.push(key),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    first_error.map_or(Ok(()), |err: StorageError| Err(err.into()))
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
) -> Result<(), Error> {
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
                .ok_or_else(Error::not_found)?;
            let judged = match policy::may_add_photo(user, &current, kind) {
                Ok(PhotoTiming::Now) => Ok(()),
                Ok(PhotoTiming::TakenBeforeLastChange) => {
                    taken_before_last_change(&txn, &current, rows).await
                }
                Err(refused) => Err(refused),
            };
            if let Err(refused) = judged {
                txn.rollback().await?;
                return Err(refused);
            }
            if kind == PhotoKind::Before && current.held_until.is_some() {
                reports::dispatch_held(&txn, current.id, at).await?;
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
        return Err(Error::new(ErrorCode::PhotoLimitReached));
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
    photo_id: PhotoId,
) -> Result<photos::Model, Error> {
    let photo = photos::Entity::find_by_id(photo_id)
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)?;
    match (photo.case_id, photo.visit_id) {
        (Some(case_id), _) => {
            reports::visible_case(state, user, case_id).await?;
        }
        (None, Some(visit_id)) => {
            crate::services::inspections::visits::visible_visit(state, user, visit_id).await?;
        }
        (None, None) => return Err(Error::not_found()),
    }
    Ok(photo)
}

/// At most this many matches of a photo are listed.
pub const MATCHES_LIMIT: usize = 20;

/// Another case's or visit's photo that matches one: the same bytes, or a picture within
/// `SIMILAR_MAX_DISTANCE` bits (what the flags `same_photo_on_other_case` and
/// `similar_photo_on_other_case` say, naming the other photo).
#[derive(Debug)]
pub struct PhotoMatch {
    pub photo_id: PhotoId,
    pub case_id: Option<CaseId>,
    pub case_no: Option<String>,
    pub visit_id: Option<entity::ids::VisitId>,
    /// The same bytes (else a similar picture).
    pub same: bool,
    /// Bits between the two perceptual hashes.
    pub distance: u32,
}

/// The photos of other cases and visits that match `photo_id`, newest first, at most
/// [`MATCHES_LIMIT`]: whichever was uploaded first, so the original's reader finds the
/// copies too. Needs `ReviewEvidence` (checked by the handler); a photo the user cannot
/// see is 404. A supervisor bound to areas gets the matches on cases in their scope only
/// (no visits: campaigns run elsewhere are not theirs); the photo's own flags still say
/// that it is used elsewhere.
pub async fn matches(
    state: &AppState,
    user: &CurrentUser,
    photo_id: PhotoId,
) -> Result<Vec<PhotoMatch>, Error> {
    let photo = visible_photo(state, user, photo_id).await?;
    let mut elsewhere = match (photo.case_id, photo.visit_id) {
        (Some(case), _) => owned_elsewhere(photos::Column::CaseId, case.0),
        (None, Some(visit)) => owned_elsewhere(photos::Column::VisitId, visit.0),
        (None, None) => return Err(Error::not_found()),
    };
    let scope = scope::case_scope(state, user).await?;
    if scope != policy::CaseScope::All {
        // Before the limits, so that matches out of sight do not crowd out those in it.
        elsewhere = elsewhere.add(
            photos::Column::CaseId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(cases::Column::Id)
                    .from(cases::Entity)
                    .cond_where(policy::case_condition(&scope))
                    .to_owned(),
            ),
        );
    }
    let phash = photo.phash as u64;
    let limit = MATCHES_LIMIT as u64;
    let (same, neighbours) = futures_util::try_join!(
        photos::Entity::find()
            .filter(photos::Column::Sha256.eq(photo.sha256.as_str()))
            .filter(elsewhere.clone())
            .order_by_desc(photos::Column::Id)
            .limit(limit)
            .all(&state.db),
        band_neighbours(phash, elsewhere)
            .filter(photos::Column::Sha256.ne(photo.sha256.as_str()))
            .limit(NEIGHBOURS_COMPARED)
            .all(&state.db),
    )?;
    let mut found: Vec<(photos::Model, bool)> = same
        .into_iter()
        .map(|p| (p, true))
        .chain(
            neighbours
                .into_iter()
                .filter(|p| similar(p.phash as u64, phash))
                .map(|p| (p, false)),
        )
        .collect();
    // UUIDv7 ids: the newest photo has the greatest.
    found.sort_by_key(|(p, _)| std::cmp::Reverse(p.id));
    let case_ids: Vec<CaseId> = found.iter().filter_map(|(p, _)| p.case_id).collect();
    let numbers: HashMap<CaseId, String> = if case_ids.is_empty() {
        HashMap::new()
    } else {
        cases::Entity::find()
            .select_only()
            .column(cases::Column::Id)
            .column(cases::Column::CaseNo)
            .filter(cases::Column::Id.is_in(case_ids))
            .into_tuple::<(CaseId, String)>()
            .all(&state.db)
            .await?
            .into_iter()
            .collect()
    };
    found.truncate(MATCHES_LIMIT);
    Ok(found
        .into_iter()
        .map(|(p, same)| PhotoMatch {
            photo_id: p.id,
            case_no: p.case_id.and_then(|c| numbers.get(&c).cloned()),
            case_id: p.case_id,
            visit_id: p.visit_id,
            same,
            distance: photo::hamming(p.phash as u64, phash),
        })
        .collect())
}

/// Deletes photo objects that no row points to and that are older than `min_age` (younger
/// ones may belong to an upload still in flight). Returns how many were deleted.
pub async fn sweep_orphans(state: &AppState, min_age: Duration) -> Result<usize, Error> {
    let listed = state
        .store
        .list_with_age(crate::storage::keys::PHOTO_PREFIX)
        .await?;
    let cutoff = now() - min_age;
    let old: Vec<(String, PhotoId)> = listed
        .into_iter()
        .filter(|(_, modified)| modified.is_none_or(|m| m <= cutoff))
        .filter_map(|(key, _)| ObjectKey::photo_id_of(&key).map(|id| (key, id)))
        .collect();
    let mut deleted = 0;
    for chunk in old.chunks(500) {
        let ids: Vec<PhotoId> = chunk.iter().map(|(_, id)| *id).collect();
        let known: std::collections::HashSet<PhotoId> = photos::Entity::find()
            .filter(photos::Column::Id.is_in(ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        for (key, id) in chunk {
            if !known.contains(id) {
                state.store.delete(&ObjectKey::named(key)).await?;
                deleted += 1;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "swept orphaned photo objects");
    }
    Ok(deleted)
}
