//! The responsibility registry: departments, areas, assignment rules and shopfronts. Every
//! change bumps the registry version in its own transaction, so each instance's spatial
//! index notices.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, SqlErr,
};

use entity::ids::{DepartmentId, ShopfrontId};
use entity::{departments, users};

use crate::domain::DepartmentKind;
use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::bump_version;
use crate::services::now;
use crate::state::AppState;

mod frontage;
pub use frontage::*;

mod rules;
pub use rules::*;

mod tree;
pub use tree::*;

/// Maps a unique or foreign-key violation to a 409 that says what clashed.
fn clash(err: DbErr, what: Msg) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_))
        | Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            Error::new(ErrorCode::Conflict).with_message(what)
        }
        _ => err.into(),
    }
}

// ---------------------------------------------------------------- departments

pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub contact: String,
}

pub async fn create_department(
    db: &sea_orm::DatabaseConnection,
    input: DepartmentInput,
) -> Result<departments::Model, Error> {
    let txn = crate::services::begin_write(db).await?;
    let at = now();
    let created = departments::ActiveModel {
        id: Set(DepartmentId::now_v7()),
        code: Set(input.code),
        name: Set(input.name),
        kind: Set(input.kind),
        contact: Set(input.contact),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        clash(
            e,
            Msg::fixed(
                "A department with this code exists.",
                "该编码的部门已存在。",
            ),
        )
    })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update_department(
    state: &AppState,
    id: DepartmentId,
    input: DepartmentInput,
) -> Result<departments::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let mut active = get_department(&txn, id).await?.into_active_model();
    active.code = Set(input.code);
    active.name = Set(input.name);
    active.kind = Set(input.kind);
    active.contact = Set(input.contact);
    active.updated_at = Set(now());
    let updated = active.update(&txn).await.map_err(|e| {
        clash(
            e,
            Msg::fixed(
                "A department with this code exists.",
                "该编码的部门已存在。",
            ),
        )
    })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn get_department(
    db: &impl ConnectionTrait,
    id: DepartmentId,
) -> Result<departments::Model, Error> {
    departments::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

pub async fn list_departments(state: &AppState) -> Result<Vec<departments::Model>, Error> {
    Ok(departments::Entity::find()
        .order_by_asc(departments::Column::Code)
        .all(&state.db)
        .await?)
}

pub async fn delete_department(state: &AppState, id: DepartmentId) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    get_department(&txn, id).await?;
    departments::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .map_err(|e| {
            clash(
                e,
                Msg::fixed(
                    "The department still has users, shopfronts, rules or cases.",
                    "该部门仍有关联的用户、门店、规则或案件。",
                ),
            )
        })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Users who act for a department or a shopfront.
pub async fn users_of(
    state: &AppState,
    department: Option<DepartmentId>,
    shopfront: Option<ShopfrontId>,
) -> Result<Vec<users::Model>, Error> {
    let mut query = users::Entity::find().order_by_asc(users::Column::Username);
    if let Some(id) = department {
        query = query.filter(users::Column::DepartmentId.eq(id));
    }
    if let Some(id) = shopfront {
        query = query.filter(users::Column::ShopfrontId.eq(id));
    }
    Ok(query.all(&state.db).await?)
}
