use sea_orm::entity::prelude::*;

use crate::ids::DepartmentId;

/// An outbound webhook: city-wide (no department) or for one department's cases.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    /// HMAC-SHA256 key for the signature header.
    pub secret: String,
    pub department_id: Option<DepartmentId>,
    /// JSON array of event names: assigned, overdue, rectified, closed, reopened.
    #[sea_orm(column_type = "Text")]
    pub events: String,
    /// json, dingtalk or wecom.
    pub format: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
