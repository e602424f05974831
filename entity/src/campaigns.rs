use sea_orm::entity::prelude::*;

use crate::ids::{CampaignId, UserId};

use crate::vocabulary::{CampaignMode, CampaignStatus};

/// An inspection round with its committed draw. `seed` stays secret until it closes.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CampaignId,
    pub name: String,
    /// unannounced or announced.
    pub mode: CampaignMode,
    /// open or closed.
    pub status: CampaignStatus,
    pub starts_on: Date,
    pub ends_on: Date,
    pub checklist_id: Uuid,
    /// JSON: the scope areas and the quota per site type.
    #[sea_orm(column_type = "Text")]
    pub plan: String,
    /// JSON array of the inspectors' user ids.
    #[sea_orm(column_type = "Text")]
    pub inspectors: String,
    /// JSON: the sampling frame (candidates per stratum) the draw ran on.
    #[sea_orm(column_type = "Text")]
    pub frame: String,
    pub frame_sha256: String,
    /// Hex of the 32 random bytes; revealed when the campaign closes.
    pub seed: String,
    pub seed_sha256: String,
    pub created_by: UserId,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
