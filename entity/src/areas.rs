use sea_orm::entity::prelude::*;

use crate::ids::DepartmentId;

use crate::vocabulary::AreaLevel;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "areas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// district, subdistrict, community or grid.
    pub level: AreaLevel,
    pub parent_id: Option<Uuid>,
    /// GeoJSON geometry (Polygon or MultiPolygon, WGS-84).
    #[sea_orm(column_type = "Text", nullable)]
    pub boundary: Option<String>,
    /// The department that takes what nothing else matches here (属地兜底); inherited by
    /// the areas below unless they set their own.
    pub local_authority_id: Option<DepartmentId>,
    /// The boundary's bounding box, for SQL prefilters.
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
