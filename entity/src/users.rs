use sea_orm::entity::prelude::*;

use crate::ids::{DepartmentId, ShopfrontId, UserId};

use crate::vocabulary::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: UserId,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// One of the `Role` codes of the api crate's domain.
    pub role: Role,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    pub disabled: bool,
    /// Access tokens issued before this instant are refused.
    pub password_changed_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
