use sea_orm::entity::prelude::*;

use crate::ids::{CampaignId, SiteId, UserId, VisitId};

/// An inspector's visit to a drawn site, with its total score.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: VisitId,
    /// The phone's idempotency key.
    #[sea_orm(unique)]
    pub client_id: Uuid,
    pub request_hash: String,
    pub campaign_id: CampaignId,
    pub site_id: SiteId,
    pub inspector_id: UserId,
    pub visited_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub score: f64,
    pub max_score: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
