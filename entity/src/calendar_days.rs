use sea_orm::entity::prelude::*;

use crate::vocabulary::DayKind;

/// A day that is not what its weekday says: a public holiday on a weekday, or a make-up
/// working day (调休) on a weekend.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// holiday or workday.
    pub kind: DayKind,
    pub name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
