use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, PhotoId, UploadId, UserId};
use crate::vocabulary::PhotoKind;

/// A photo a phone sends straight to the object store, and what it declared it would send.
/// `multipart_id` is the store's id of a multipart upload (none: one presigned PUT), and
/// `joined_at` when its parts were joined into the object; `finishing_until` is a
/// finalize's claim on the upload; `photo_id` is set when the finalize has made it a
/// photo of the case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "direct_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: UploadId,
    pub user_id: UserId,
    pub case_id: CaseId,
    pub kind: PhotoKind,
    pub size: i64,
    /// The SHA-256 (lowercase hex) the phone declared.
    pub sha256: String,
    pub taken_at: Option<DateTimeUtc>,
    pub object_key: String,
    pub multipart_id: Option<String>,
    pub joined_at: Option<DateTimeUtc>,
    pub finishing_until: Option<DateTimeUtc>,
    pub photo_id: Option<PhotoId>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
