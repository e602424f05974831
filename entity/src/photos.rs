use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, PhotoId, UserId, VisitId};

use crate::vocabulary::PhotoKind;

/// A photo of a case or of an inspection visit (exactly one of the two). The row exists
/// only once its three objects (original, preview, thumbnail) are stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PhotoId,
    pub case_id: Option<CaseId>,
    pub visit_id: Option<VisitId>,
    /// before, after or verification.
    pub kind: PhotoKind,
    pub sha256: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub taken_at: Option<DateTimeUtc>,
    pub exif_lat: Option<f64>,
    pub exif_lon: Option<f64>,
    /// JSON array of flag codes.
    #[sea_orm(column_type = "Text")]
    pub flags: String,
    /// The 64-bit perceptual hash, and its four 16-bit bands for lookups.
    pub phash: i64,
    pub phash_b0: i32,
    pub phash_b1: i32,
    pub phash_b2: i32,
    pub phash_b3: i32,
    pub uploaded_by: UserId,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
