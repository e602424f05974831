use sea_orm::entity::prelude::*;

/// One scored item; a deduction on an item with a category files a case of it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub checklist_id: Uuid,
    pub position: i32,
    pub title: String,
    pub max_points: f64,
    pub category_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
