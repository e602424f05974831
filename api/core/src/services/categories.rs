//! Case categories: the ten disorders seeded by migration, plus the city's own.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};

use entity::categories;

use crate::auth::CurrentUser;
use crate::auth::policy::{self, Permission};
use crate::domain::calendar::DeadlineUnit;
use crate::domain::question::Question;
use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::bump_version;
use crate::services::now;
use crate::state::AppState;

pub struct NewCategory {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub frontage: bool,
    pub deadline_hours: i32,
    pub deadline_unit: DeadlineUnit,
    pub attributes: Vec<Question>,
}

#[derive(Default)]
pub struct CategoryChange {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub frontage: Option<bool>,
    pub deadline_hours: Option<i32>,
    pub deadline_unit: Option<DeadlineUnit>,
    pub active: Option<bool>,
    pub attributes: Option<Vec<Question>>,
}

/// Active categories for everyone; inactive ones too for those who administer them.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    include_inactive: bool,
) -> Result<Vec<categories::Model>, Error> {
    if include_inactive {
        policy::require(user, Permission::Administer)?;
    }
    in_order(state, include_inactive).await
}

/// The categories a case can be filed under (Open311 publishes them to anyone).
pub async fn list_active(state: &AppState) -> Result<Vec<categories::Model>, Error> {
    in_order(state, false).await
}

async fn in_order(
    state: &AppState,
    include_inactive: bool,
) -> Result<Vec<categories::Model>, Error> {
    let mut query = categories::Entity::find()
        .order_by_asc(categories::Column::CreatedAt)
        .order_by_asc(categories::Column::Code);
    if !include_inactive {
        query = query.filter(categories::Column::Active.eq(true));
    }
    Ok(query.all(&state.db).await?)
}

pub async fn get(state: &AppState, code: &str) -> Result<categories::Model, Error> {
    // Not a code at all (a NUL in it would even fail PostgreSQL's comparison): none such.
    if crate::domain::case::parse_category_code(code).is_err() {
        return Err(Error::not_found());
    }
    categories::Entity::find_by_id(code.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)
}

pub async fn create(state: &AppState, new: NewCategory) -> Result<categories::Model, Error> {
    if categories::Entity::find_by_id(new.code.clone())
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "A category with this code exists.",
            "该编码的类别已存在。",
        )));
    }
    let at = now();
    // Assignment and filing read categories from the registry snapshot: bump its version.
    let txn = crate::services::begin_write(&state.db).await?;
    let created = categories::ActiveModel {
        code: Set(new.code),
        name_zh: Set(new.name_zh),
        name_en: Set(new.name_en),
        frontage: Set(new.frontage),
        deadline_hours: Set(new.deadline_hours),
        deadline_unit: Set(new.deadline_unit),
        active: Set(true),
        attributes: Set(questions_json(&new.attributes)),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update(
    state: &AppState,
    code: &str,
    change: CategoryChange,
) -> Result<categories::Model, Error> {
    let mut active = get(state, code).await?.into_active_model();
    if let Some(v) = change.name_zh {
        active.name_zh = Set(v);
    }
    if let Some(v) = change.name_en {
        active.name_en = Set(v);
    }
    if let Some(v) = change.frontage {
        active.frontage = Set(v);
    }
    if let Some(v) = change.deadline_hours {
        active.deadline_hours = Set(v);
    }
    if let Some(v) = change.deadline_unit {
        active.deadline_unit = Set(v);
    }
    if let Some(v) = change.active {
        active.active = Set(v);
    }
    if let Some(v) = change.attributes {
        active.attributes = Set(questions_json(&v));
    }
    active.updated_at = Set(now());
    let txn = crate::services::begin_write(&state.db).await?;
    let updated = active.update(&txn).await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

fn questions_json(questions: &[Question]) -> String {
    serde_json::to_string(questions).unwrap_or_else(|_| "[]".to_owned())
}

/// The questions a category asks (none when the stored JSON is unreadable).
pub fn questions_of(category: &categories::Model) -> Vec<Question> {
    serde_json::from_str(&category.attributes).unwrap_or_default()
}
