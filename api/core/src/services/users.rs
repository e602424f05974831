//! User administration: create, list, change role or scope, disable, reset password.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use std::collections::HashMap;

use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId, UserId};
use entity::{areas, departments, shopfronts, user_areas, users};

use crate::domain::{NewPassword, Role, Username};
use crate::error::{Error, ErrorCode, FieldErrors, Msg};
use crate::services::{now, sessions};
use crate::state::AppState;

/// A role with the department or shopfront it acts for. Department users belong to a
/// department, shopfront users to a shopfront, everyone else to neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleScope {
    pub role: Role,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
}

impl RoleScope {
    pub fn parse(
        role: Role,
        department_id: Option<DepartmentId>,
        shopfront_id: Option<ShopfrontId>,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        let required = Msg::fixed("required for this role", "该角色必须填写");
        let forbidden = Msg::fixed("not allowed for this role", "该角色不可填写");
        let mut ok = true;
        match (role, department_id, shopfront_id) {
            (Role::Department, None, _) => {
                errors.add("department_id", required);
                ok = false;
            }
            (Role::Shopfront, _, None) => {
                errors.add("shopfront_id", required);
                ok = false;
            }
            _ => {}
        }
        if role != Role::Department && department_id.is_some() {
            errors.add("department_id", forbidden.clone());
            ok = false;
        }
        if role != Role::Shopfront && shopfront_id.is_some() {
            errors.add("shopfront_id", forbidden);
            ok = false;
        }
        ok.then_some(Self {
            role,
            department_id,
            shopfront_id,
        })
    }
}

/// The most areas one user can be bound to.
pub const MAX_BOUND_AREAS: usize = 100;

/// The areas a user is bound to, as an admin sends them: each once, at most
/// [`MAX_BOUND_AREAS`].
pub fn parse_area_ids(ids: Vec<Uuid>) -> Result<Vec<Uuid>, Msg> {
    let mut unique = Vec::with_capacity(ids.len().min(MAX_BOUND_AREAS));
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
        if unique.len() > MAX_BOUND_AREAS {
            return Err(Msg::new(
                format!("at most {MAX_BOUND_AREAS} areas"),
                format!("最多 {MAX_BOUND_AREAS} 个区域"),
            ));
        }
    }
    Ok(unique)
}

/// Only supervisors and inspectors are bound to areas (a department's territory is the
/// areas whose local authority it is).
fn takes_areas(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Inspector)
}

pub struct NewUser {
    pub username: Username,
    pub password: NewPassword,
    pub display_name: String,
    pub scope: RoleScope,
    pub areas: Vec<Uuid>,
}

pub async fn create(state: &AppState, new: NewUser) -> Result<users::Model, Error> {
    check_scope_exists(state, &new.scope).await?;
    check_areas(state, new.scope.role, &new.areas).await?;
    let hash = state
        .passwords
        .hash(new.password.expose().to_owned())
        .await?;
    let at = now();
    let txn = crate::services::begin_write(&state.db).await?;
    let inserted = users::ActiveModel {
        id: Set(UserId::now_v7()),
        username: Set(new.username.into_string()),
        display_name: Set(new.display_name),
        password_hash: Set(hash),
        role: Set(new.scope.role),
        department_id: Set(new.scope.department_id),
        shopfront_id: Set(new.scope.shopfront_id),
        disabled: Set(false),
        password_changed_at: Set(at),
        last_login_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await;
    let user = match inserted {
        Ok(user) => user,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(Error::new(ErrorCode::UsernameTaken));
        }
        Err(err) => return Err(err.into()),
    };
    bind_areas(&txn, user.id, &new.areas).await?;
    txn.commit().await?;
    Ok(user)
}

/// Replaces the areas a user is bound to.
async fn bind_areas(
    txn: &sea_orm::DatabaseTransaction,
    user: UserId,
    areas: &[Uuid],
) -> Result<(), Error> {
    user_areas::Entity::delete_many()
        .filter(user_areas::Column::UserId.eq(user))
        .exec(txn)
        .await?;
    if !areas.is_empty() {
        user_areas::Entity::insert_many(areas.iter().map(|&area_id| user_areas::ActiveModel {
            user_id: Set(user),
            area_id: Set(area_id),
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

/// The areas each of `users` is bound to, in a stable order.
pub async fn areas_of(
    db: &impl sea_orm::ConnectionTrait,
    users: &[UserId],
) -> Result<HashMap<UserId, Vec<Uuid>>, Error> {
    let mut bound: HashMap<UserId, Vec<Uuid>> = HashMap::new();
    if users.is_empty() {
        return Ok(bound);
    }
    let rows = user_areas::Entity::find()
        .filter(user_areas::Column::UserId.is_in(users.iter().copied()))
        .order_by_asc(user_areas::Column::AreaId)
        .all(db)
        .await?;
    for row in rows {
        bound.entry(row.user_id).or_default().push(row.area_id);
    }
    Ok(bound)
}

pub async fn get(state: &AppState, id: UserId) -> Result<users::Model, Error> {
    users::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)
}

pub struct UserFilter {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub after: Option<UserId>,
    pub limit: u64,
}

/// One page in creation order (ids are UUIDv7), and whether more follow.
pub async fn list(
    state: &AppState,
    filter: UserFilter,
) -> Result<(Vec<users::Model>, bool), Error> {
    let mut query = users::Entity::find().order_by_asc(users::Column::Id);
    if let Some(role) = filter.role {
        query = query.filter(users::Column::Role.eq(role));
    }
    if let Some(disabled) = filter.disabled {
        query = query.filter(users::Column::Disabled.eq(disabled));
    }
    if let Some(after) = filter.after {
        query = query.filter(users::Column::Id.gt(after));
    }
    let mut rows = query.limit(filter.limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > filter.limit;
    rows.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
    Ok((rows, more))
}

pub struct UserChange {
    pub display_name: Option<String>,
    pub scope: Option<RoleScope>,
    /// Replaces the areas the user is bound to. A new role that takes no areas drops them.
    pub areas: Option<Vec<Uuid>>,
    pub disabled: Option<bool>,
}

/// Applies an admin's change. An admin cannot disable or demote their own account, so a
/// city can never lock itself out by accident.
pub async fn update(
    state: &AppState,
    acting_admin: UserId,
    id: UserId,
    change: UserChange,
) -> Result<users::Model, Error> {
    let user = get(state, id).await?;
    let demotes_self = change.scope.is_some_and(|s| s.role != Role::Admin);
    if id == acting_admin && (change.disabled == Some(true) || demotes_self) {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "You cannot disable or demote your own account.",
            "不能停用或降级自己的账号。",
        )));
    }
    if let Some(scope) = &change.scope {
        check_scope_exists(state, scope).await?;
    }
    let role = change.scope.map_or(user.role, |s| s.role);
    let areas = match change.areas {
        Some(areas) => Some(areas),
        None if !takes_areas(role) => Some(Vec::new()),
        None => None,
    };
    if let Some(areas) = &areas {
        check_areas(state, role, areas).await?;
    }
    let txn = crate::services::begin_write(&state.db).await?;
    let disabling = change.disabled == Some(true) && !user.disabled;
    let mut active = user.into_active_model();
    if let Some(name) = change.display_name {
        active.display_name = Set(name);
    }
    if let Some(scope) = change.scope {
        active.role = Set(scope.role);
        active.department_id = Set(scope.department_id);
        active.shopfront_id = Set(scope.shopfront_id);
    }
    if let Some(disabled) = change.disabled {
        active.disabled = Set(disabled);
    }
    active.updated_at = Set(now());
    let user = active.update(&txn).await?;
    if let Some(areas) = &areas {
        bind_areas(&txn, id, areas).await?;
    }
    if disabling {
        sessions::revoke_all(&txn, id).await?;
    }
    txn.commit().await?;
    Ok(user)
}

pub async fn reset_password(
    state: &AppState,
    id: UserId,
    password: NewPassword,
) -> Result<(), Error> {
    let user = get(state, id).await?;
    sessions::set_password(state, user, password).await?;
    Ok(())
}

pub async fn count(state: &AppState) -> Result<u64, Error> {
    Ok(users::Entity::find().count(&state.db).await?)
}

/// 422 unless the role takes areas (or none are sent) and each exists.
async fn check_areas(state: &AppState, role: Role, areas: &[Uuid]) -> Result<(), Error> {
    if areas.is_empty() {
        return Ok(());
    }
    if !takes_areas(role) {
        return Err(Error::invalid_field(
            "area_ids",
            Msg::fixed(
                "only supervisors and inspectors are bound to areas",
                "只有督查员和巡查员可以绑定区域",
            ),
        ));
    }
    let found = areas::Entity::find()
        .filter(areas::Column::Id.is_in(areas.iter().copied()))
        .count(&state.db)
        .await?;
    if found != areas.len() as u64 {
        return Err(Error::invalid_field(
            "area_ids",
            Msg::fixed("no such area", "区域不存在"),
        ));
    }
    Ok(())
}

async fn check_scope_exists(state: &AppState, scope: &RoleScope) -> Result<(), Error> {
    if let Some(id) = scope.department_id
        && departments::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(Error::invalid_field(
            "department_id",
            Msg::fixed("no such department", "部门不存在"),
        ));
    }
    if let Some(id) = scope.shopfront_id
        && shopfronts::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(Error::invalid_field(
            "shopfront_id",
            Msg::fixed("no such shopfront", "门店不存在"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_takes_exactly_its_scope() {
        let dept = Some(DepartmentId::now_v7());
        let shop = Some(ShopfrontId::now_v7());
        let cases = [
            (Role::Admin, None, None, true),
            (Role::Inspector, dept, None, false),
            (Role::Department, None, None, false),
            (Role::Department, dept, None, true),
            (Role::Department, dept, shop, false),
            (Role::Shopfront, None, shop, true),
            (Role::Shopfront, None, None, false),
            (Role::Supervisor, None, shop, false),
        ];
        for (role, dept, shop, valid) in cases {
            let mut errors = FieldErrors::default();
            let parsed = RoleScope::parse(role, dept, shop, &mut errors);
            assert_eq!(parsed.is_some(), valid, "{role} {dept:?} {shop:?}");
            assert_eq!(errors.is_empty(), valid);
        }
    }
}
