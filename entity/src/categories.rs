use sea_orm::entity::prelude::*;

use crate::vocabulary::DeadlineUnit;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Falls to a shop when it happens inside the shop's frontage zone (门前三包).
    pub frontage: bool,
    /// The limit, counted in `deadline_unit`: hours for `calendar_hours` and
    /// `working_hours`, days for `working_days`.
    pub deadline_hours: i32,
    /// calendar_hours, working_hours or working_days.
    pub deadline_unit: DeadlineUnit,
    pub active: bool,
    /// JSON array of the extra questions the category asks (Open311 attributes).
    #[sea_orm(column_type = "Text")]
    pub attributes: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
