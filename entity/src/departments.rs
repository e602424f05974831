use sea_orm::entity::prelude::*;

use crate::ids::DepartmentId;

use crate::vocabulary::DepartmentKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "departments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DepartmentId,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// urban_management, traffic_police, sanitation, subdistrict_office, housing,
    /// landscaping or other.
    pub kind: DepartmentKind,
    pub contact: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
