use sea_orm::entity::prelude::*;

use crate::ids::{ShopfrontId, SiteId};

use crate::vocabulary::SiteType;

/// A place that unannounced inspections may visit (点位). Location is WGS-84.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inspection_sites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SiteId,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub site_type: SiteType,
    pub area_id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    /// The shopfront that answers for this site, if it is one.
    pub shopfront_id: Option<ShopfrontId>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
