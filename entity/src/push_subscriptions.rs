use sea_orm::entity::prelude::*;

use crate::ids::{PushSubscriptionId, UserId};

/// One device's Web Push subscription: the push service's endpoint for it and the keys
/// its messages are encrypted to (RFC 8291). An endpoint belongs to one user at a time.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PushSubscriptionId,
    pub user_id: UserId,
    #[sea_orm(column_type = "Text", unique)]
    pub endpoint: String,
    /// The device's P-256 public key, base64url of its uncompressed point.
    pub p256dh: String,
    /// The device's 16-byte authentication secret, base64url.
    pub auth: String,
    /// When the browser said the subscription ends (`expirationTime`), if it did.
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_success_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
