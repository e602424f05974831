use sea_orm::entity::prelude::*;

use crate::ids::DepartmentId;

/// (category, area or city-wide) → department. The rule of the most specific area that
/// contains a case wins; a rule without an area applies city-wide.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub category_code: String,
    pub area_id: Option<Uuid>,
    pub department_id: DepartmentId,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
