//! Assignment rules: which department a category goes to in an area.

use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::bump_version;
use crate::services::now;
use crate::state::AppState;
use entity::ids::DepartmentId;
use entity::{areas, assignment_rules, categories, departments};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

// ---------------------------------------------------------------- assignment rules

pub async fn create_rule(
    state: &AppState,
    category: String,
    area_id: Option<Uuid>,
    department_id: DepartmentId,
) -> Result<assignment_rules::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    check_rule_refs(&txn, &category, area_id, department_id).await?;
    let duplicate = assignment_rules::Entity::find()
        .filter(assignment_rules::Column::CategoryCode.eq(&category))
        .filter(match area_id {
            Some(area) => assignment_rules::Column::AreaId.eq(area),
            None => assignment_rules::Column::AreaId.is_null(),
        })
        .one(&txn)
        .await?;
    if duplicate.is_some() {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "A rule for this category and area exists; change it instead.",
            "该类别和区域的规则已存在，请修改现有规则。",
        )));
    }
    let at = now();
    let rule = assignment_rules::ActiveModel {
        id: Set(Uuid::now_v7()),
        category_code: Set(category),
        area_id: Set(area_id),
        department_id: Set(department_id),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(rule)
}

async fn check_rule_refs(
    db: &impl ConnectionTrait,
    category: &str,
    area_id: Option<Uuid>,
    department_id: DepartmentId,
) -> Result<(), Error> {
    if categories::Entity::find_by_id(category.to_owned())
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::invalid_field(
            "category",
            Msg::fixed("no such category", "类别不存在"),
        ));
    }
    if let Some(area) = area_id
        && areas::Entity::find_by_id(area).one(db).await?.is_none()
    {
        return Err(Error::invalid_field(
            "area_id",
            Msg::fixed("no such area", "区域不存在"),
        ));
    }
    if departments::Entity::find_by_id(department_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::invalid_field(
            "department_id",
            Msg::fixed("no such department", "部门不存在"),
        ));
    }
    Ok(())
}

pub async fn update_rule(
    state: &AppState,
    id: Uuid,
    department_id: DepartmentId,
) -> Result<assignment_rules::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let rule = assignment_rules::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(Error::not_found)?;
    check_rule_refs(&txn, &rule.category_code, rule.area_id, department_id).await?;
    let mut active = rule.into_active_model();
    active.department_id = Set(department_id);
    active.updated_at = Set(now());
    let rule = active.update(&txn).await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(rule)
}

pub async fn delete_rule(state: &AppState, id: Uuid) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let deleted = assignment_rules::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found());
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn list_rules(state: &AppState) -> Result<Vec<assignment_rules::Model>, Error> {
    Ok(assignment_rules::Entity::find()
        .order_by_asc(assignment_rules::Column::CategoryCode)
        .order_by_asc(assignment_rules::Column::Id)
        .all(&state.db)
        .await?)
}

// ---------------------------------------------------------------- shopfronts
