use sea_orm::entity::prelude::*;

use crate::ids::CaseId;

/// What an Open311 request carried beyond its case. Reporter contact is never shown publicly.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "public_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: CaseId,
    pub api_key_id: Uuid,
    pub jurisdiction_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub device_id: String,
    pub account_id: String,
    pub address_string: String,
    /// Kept as a link; the server never fetches it.
    pub media_url: Option<String>,
    /// JSON object: attribute code → answer (a string, or a list for multi-value lists).
    #[sea_orm(column_type = "Text")]
    pub attributes: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
