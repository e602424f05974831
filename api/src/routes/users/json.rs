use chrono::{DateTime, Utc};
use entity::ids::{DepartmentId, ShopfrontId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::Role;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    /// The areas a supervisor or inspector is bound to: they see cases in these areas and
    /// every area below. Empty: not bound (a supervisor sees the whole city, an inspector
    /// the cases they filed).
    pub area_ids: Vec<Uuid>,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserJson {
    pub fn new(user: entity::users::Model, area_ids: Vec<Uuid>) -> Self {
        Self {
            area_ids,
            id: user.id,
            // Stored roles are written only from `Role`; a corrupt one shows as inspector,
            // the least privileged role that can sign in.
            role: user.role,
            username: user.username,
            display_name: user.display_name,
            department_id: user.department_id,
            shopfront_id: user.shopfront_id,
            disabled: user.disabled,
            last_login_at: user.last_login_at,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    /// Supervisors and inspectors only: the areas they are bound to (at most 100).
    #[serde(default)]
    pub area_ids: Vec<Uuid>,
}

/// Fields left out stay as they are. `role` changes replace the scope: send
/// `department_id` or `shopfront_id` with it as the role needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    /// Replaces the areas a supervisor or inspector is bound to (`[]`: none). A role that
    /// takes no areas drops them.
    pub area_ids: Option<Vec<Uuid>>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub new_password: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}
