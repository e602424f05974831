use sea_orm::entity::prelude::*;

/// The signed digest of one day: the heads of every case chain that moved that day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_digests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The canonical JSON that is signed, as it is published.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub body_sha256: String,
    /// Base64 Ed25519 signature of `body`.
    #[sea_orm(column_type = "Text")]
    pub signature: String,
    pub heads: i32,
    pub created_at: DateTimeUtc,
    /// When it was written to the object store.
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
