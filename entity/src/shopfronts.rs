use sea_orm::entity::prelude::*;

use crate::ids::{DepartmentId, ShopfrontId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shopfronts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ShopfrontId,
    pub name: String,
    pub credit_code: Option<String>,
    pub address: String,
    /// The overseeing department (usually the sub-district office).
    pub department_id: Option<DepartmentId>,
    pub contact: String,
    pub phone: String,
    /// The shop's location, WGS-84.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The frontage zone (门前三包) as a GeoJSON Polygon/MultiPolygon, WGS-84 ...
    #[sea_orm(column_type = "Text", nullable)]
    pub zone: Option<String>,
    /// ... or, without one, a radius around the location.
    pub zone_radius_m: Option<f64>,
    /// The zone's bounding box, for SQL prefilters.
    pub min_lat: Option<f64>,
    pub min_lon: Option<f64>,
    pub max_lat: Option<f64>,
    pub max_lon: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
