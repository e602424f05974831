use sea_orm::entity::prelude::*;

use crate::ids::{CaseId, DepartmentId, ShopfrontId, UserId};
use crate::vocabulary::PushEvent;

/// A case event that someone is to be told of by Web Push, written with the case change
/// itself (no read of who is subscribed there). The fan-out takes it when `not_before`
/// has passed and writes one `push_deliveries` row per device of the people it names:
/// the users of a department or of a shop, or one user. Exactly one of the three is set.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: CaseId,
    pub event: PushEvent,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    pub user_id: Option<UserId>,
    /// Who caused the event: never told of it.
    pub actor_id: Option<UserId>,
    /// A case held for its evidence is told of when it is dispatched.
    pub not_before: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
