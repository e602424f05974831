use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, PushSubscriptionId};
use crate::vocabulary::PushEvent;

/// One notice to one device, written with the case change and sent until delivered (the
/// Web Push twin of `webhook_deliveries`). `payload` is the plain JSON; it is encrypted to
/// the subscription's keys at each attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscription_id: PushSubscriptionId,
    pub case_id: CaseId,
    pub event: PushEvent,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A sender's claim: nobody else sends it before this time.
    pub locked_until: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
