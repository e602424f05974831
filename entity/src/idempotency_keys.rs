use sea_orm::entity::prelude::*;

use crate::ids::UserId;

/// The first answer to a state-changing request sent with an `Idempotency-Key`, per user
/// and key. While the first request runs, `fingerprint` is empty and `locked_until` holds
/// its lease; once it has answered, the answer is kept for retries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 (hex) of the method, the path with its query and the body.
    pub fingerprint: Option<String>,
    pub response_status: Option<i16>,
    pub response_content_type: Option<String>,
    pub response_location: Option<String>,
    pub response_body: Option<Vec<u8>>,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
