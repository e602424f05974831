use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, UserId};

/// One step in a case's history. Rows are only ever inserted; each `hash` covers the
/// event and the previous event's hash, so any later edit breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: CaseId,
    pub seq: i32,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<UserId>,
    pub actor_role: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// JSON array of photo ids.
    #[sea_orm(column_type = "Text")]
    pub photo_ids: String,
    pub created_at: DateTimeUtc,
    pub prev_hash: Option<String>,
    pub hash: String,
    /// Base64 Ed25519 signature of the event's hash (`services::evidence`), made with a
    /// key the database does not hold.
    #[sea_orm(column_type = "Text", nullable)]
    pub signature: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
