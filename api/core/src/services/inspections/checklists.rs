//! Checklist templates (考核表). A checklist a campaign uses is frozen: its scores must
//! keep meaning what they meant.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use entity::{campaigns, categories, checklist_items, checklists};

use crate::error::{Error, ErrorCode, Msg};
use crate::services::now;
use crate::state::AppState;

pub struct ItemInput {
    pub title: String,
    pub max_points: f64,
    pub category: Option<String>,
}

pub struct ChecklistInput {
    pub name: String,
    pub description: String,
    pub items: Vec<ItemInput>,
}

pub type Checklist = (checklists::Model, Vec<checklist_items::Model>);

async fn check_categories(db: &impl ConnectionTrait, input: &ChecklistInput) -> Result<(), Error> {
    for (index, item) in input.items.iter().enumerate() {
        if let Some(code) = &item.category
            && categories::Entity::find_by_id(code.clone())
                .one(db)
                .await?
                .is_none()
        {
            return Err(Error::invalid_field(
                &format!("items[{index}].category"),
                Msg::new(format!("no category {code}"), format!("类别 {code} 不存在")),
            ));
        }
    }
    Ok(())
}

async fn insert_items(
    db: &impl ConnectionTrait,
    checklist_id: Uuid,
    items: Vec<ItemInput>,
) -> Result<(), Error> {
    let rows: Vec<checklist_items::ActiveModel> = items
        .into_iter()
        .enumerate()
        .map(|(position, item)| checklist_items::ActiveModel {
            id: Set(Uuid::now_v7()),
            checklist_id: Set(checklist_id),
            position: Set(position as i32),
            title: Set(item.title),
            max_points: Set(item.max_points),
            category_code: Set(item.category),
        })
        .collect();
    checklist_items::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

pub async fn create(state: &AppState, input: ChecklistInput) -> Result<Checklist, Error> {
    check_categories(&state.db, &input).await?;
    let at = now();
    let id = Uuid::now_v7();
    let txn = crate::services::begin_write(&state.db).await?;
    checklists::ActiveModel {
        id: Set(id),
        name: Set(input.name),
        description: Set(input.description),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    insert_items(&txn, id, input.items).await?;
    txn.commit().await?;
    get(&state.db, id).await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Checklist, Error> {
    let checklist = checklists::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)?;
    let items = checklist_items::Entity::find()
        .filter(checklist_items::Column::ChecklistId.eq(id))
        .order_by_asc(checklist_items::Column::Position)
        .all(db)
        .await?;
    Ok((checklist, items))
}

pub async fn list(state: &AppState) -> Result<Vec<Checklist>, Error> {
    let all = checklists::Entity::find()
        .order_by_asc(checklists::Column::Id)
        .all(&state.db)
        .await?;
    let mut items = checklist_items::Entity::find()
        .order_by_asc(checklist_items::Column::Position)
        .all(&state.db)
        .await?;
    Ok(all
        .into_iter()
        .map(|c| {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut items)
                .into_iter()
                .partition(|i| i.checklist_id == c.id);
            items = rest;
            (c, mine)
        })
        .collect())
}

async fn refuse_if_used(db: &impl ConnectionTrait, id: Uuid) -> Result<(), Error> {
    let used = campaigns::Entity::find()
        .filter(campaigns::Column::ChecklistId.eq(id))
        .count(db)
        .await?;
    if used > 0 {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "A campaign uses this checklist; make a new one instead.",
            "已有检查活动使用该考核表，请另建一份。",
        )));
    }
    Ok(())
}

/// Replaces name, description and items of a checklist no campaign uses.
pub async fn update(state: &AppState, id: Uuid, input: ChecklistInput) -> Result<Checklist, Error> {
    check_categories(&state.db, &input).await?;
    let txn = crate::services::begin_write(&state.db).await?;
    let (old, _) = get(&txn, id).await?;
    refuse_if_used(&txn, id).await?;
    checklist_items::Entity::delete_many()
        .filter(checklist_items::Column::ChecklistId.eq(id))
        .exec(&txn)
        .await?;
    insert_items(&txn, id, input.items).await?;
    checklists::ActiveModel {
        id: Set(id),
        name: Set(input.name),
        description: Set(input.description),
        created_at: Set(old.created_at),
        updated_at: Set(now()),
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    get(&state.db, id).await
}

pub async fn delete(state: &AppState, id: Uuid) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    get(&txn, id).await?;
    refuse_if_used(&txn, id).await?;
    checklist_items::Entity::delete_many()
        .filter(checklist_items::Column::ChecklistId.eq(id))
        .exec(&txn)
        .await?;
    checklists::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
