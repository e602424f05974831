use sea_orm::entity::prelude::*;

use crate::ids::{CampaignId, SiteId};

/// A site drawn for a campaign, in draw order within its stratum.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_sites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: CampaignId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub site_id: SiteId,
    pub scope_area_id: Uuid,
    pub draw_order: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
