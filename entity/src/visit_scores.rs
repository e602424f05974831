use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, VisitId};

/// The score of one checklist item at one visit, and the case its deduction filed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub visit_id: VisitId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub score: f64,
    pub max_points: f64,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub case_id: Option<CaseId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
