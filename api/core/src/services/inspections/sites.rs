//! Inspection sites (点位): CRUD and all-or-nothing imports upserting by code.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use entity::ids::{ShopfrontId, SiteId};

use entity::{areas, campaign_sites, inspection_sites, shopfronts};

use crate::domain::GeoPoint;
use crate::domain::inspection::SiteType;
use crate::error::{Error, ErrorCode, Msg};
use crate::services::imports::ImportOutcome;
use crate::services::now;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct SiteInput {
    pub code: String,
    pub name: String,
    pub site_type: SiteType,
    pub area_id: Uuid,
    pub location: GeoPoint,
    pub address: String,
    pub shopfront_id: Option<ShopfrontId>,
    pub active: bool,
}

fn model(
    id: SiteId,
    input: SiteInput,
    created_at: chrono::DateTime<chrono::Utc>,
) -> inspection_sites::ActiveModel {
    inspection_sites::ActiveModel {
        id: Set(id),
        code: Set(input.code),
        name: Set(input.name),
        site_type: Set(input.site_type),
        area_id: Set(input.area_id),
        lat: Set(input.location.lat()),
        lon: Set(input.location.lon()),
        address: Set(input.address),
        shopfront_id: Set(input.shopfront_id),
        active: Set(input.active),
        created_at: Set(created_at),
        updated_at: Set(now()),
    }
}

/// The area and shopfront a site names must exist (422 on the field otherwise).
async fn check_references(db: &impl ConnectionTrait, input: &SiteInput) -> Result<(), Error> {
    if areas::Entity::find_by_id(input.area_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::invalid_field(
            "area_id",
            Msg::fixed("no such area", "区域不存在"),
        ));
    }
    if let Some(shop) = input.shopfront_id
        && shopfronts::Entity::find_by_id(shop)
            .one(db)
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

fn code_taken(err: sea_orm::DbErr) -> Error {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "A site with this code exists.",
            "该编码的点位已存在。",
        ))
    } else {
        err.into()
    }
}

pub async fn create(state: &AppState, input: SiteInput) -> Result<inspection_sites::Model, Error> {
    check_references(&state.db, &input).await?;
    let at = now();
    model(SiteId::now_v7(), input, at)
        .insert(&state.db)
        .await
        .map_err(code_taken)
}

pub async fn update(
    state: &AppState,
    id: SiteId,
    input: SiteInput,
) -> Result<inspection_sites::Model, Error> {
    let old = get(&state.db, id).await?;
    check_references(&state.db, &input).await?;
    model(id, input, old.created_at)
        .update(&state.db)
        .await
        .map_err(code_taken)
}

pub async fn get(db: &impl ConnectionTrait, id: SiteId) -> Result<inspection_sites::Model, Error> {
    inspection_sites::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

pub struct SiteFilter {
    pub area_id: Option<Uuid>,
    pub site_type: Option<SiteType>,
    pub after: Option<SiteId>,
    pub limit: u64,
}

/// A page of sites in id order; `area_id` takes the areas under it too.
pub async fn list(
    state: &AppState,
    filter: SiteFilter,
) -> Result<(Vec<inspection_sites::Model>, bool), Error> {
    let mut query = inspection_sites::Entity::find().order_by_asc(inspection_sites::Column::Id);
    if let Some(site_type) = filter.site_type {
        query = query.filter(inspection_sites::Column::SiteType.eq(site_type));
    }
    if let Some(area) = filter.area_id {
        let tree = super::AreaTree::load(&state.db).await?;
        let under: Vec<Uuid> = areas_under(&tree, area);
        if under.len() > 500 {
            // Too many for one IN list on SQLite: filter after reading instead.
            return list_filtered_in_memory(state, filter, &tree, area).await;
        }
        query = query.filter(inspection_sites::Column::AreaId.is_in(under));
    }
    if let Some(after) = filter.after {
        query = query.filter(inspection_sites::Column::Id.gt(after));
    }
    let mut rows = query.limit(filter.limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > filter.limit;
    rows.truncate(filter.limit as usize);
    Ok((rows, more))
}

fn areas_under(tree: &super::AreaTree, area: Uuid) -> Vec<Uuid> {
    tree.all_ids().filter(|&id| tree.within(id, area)).collect()
}

async fn list_filtered_in_memory(
    state: &AppState,
    filter: SiteFilter,
    tree: &super::AreaTree,
    area: Uuid,
) -> Result<(Vec<inspection_sites::Model>, bool), Error> {
    let mut query = inspection_sites::Entity::find().order_by_asc(inspection_sites::Column::Id);
    if let Some(site_type) = filter.site_type {
        query = query.filter(inspection_sites::Column::SiteType.eq(site_type));
    }
    if let Some(after) = filter.after {
        query = query.filter(inspection_sites::Column::Id.gt(after));
    }
    let mut rows: Vec<_> = query
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|s| tree.within(s.area_id, area))
        .take(filter.limit as usize + 1)
        .collect();
    let more = rows.len() as u64 > filter.limit;
    rows.truncate(filter.limit as usize);
    Ok((rows, more))
}

/// A site no campaign has drawn may be removed; a drawn one is kept as evidence (set it
/// inactive instead).
pub async fn delete(state: &AppState, id: SiteId) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    get(&txn, id).await?;
    let drawn = campaign_sites::Entity::find()
        .filter(campaign_sites::Column::SiteId.eq(id))
        .count(&txn)
        .await?;
    if drawn > 0 {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
            "A campaign has drawn this site; set it inactive instead.",
            "该点位已被抽中过，不能删除，请改为停用。",
        )));
    }
    inspection_sites::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Creates or updates every row by code, all or nothing; a dry run rolls back.
pub async fn import(
    state: &AppState,
    rows: Vec<SiteInput>,
    dry_run: bool,
) -> Result<ImportOutcome, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let mut existing: HashMap<String, inspection_sites::Model> = HashMap::new();
    let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
    for chunk in codes.chunks(500) {
        for site in inspection_sites::Entity::find()
            .filter(inspection_sites::Column::Code.is_in(chunk.to_vec()))
            .all(&txn)
            .await?
        {
            existing.insert(site.code.clone(), site);
        }
    }
    let mut outcome = ImportOutcome::default();
    let mut inserts = Vec::new();
    for row in rows {
        match existing.get(&row.code) {
            Some(old) => {
                // An import does not wake a site the office switched off.
                let row = SiteInput {
                    active: old.active,
                    ..row
                };
                model(old.id, row, old.created_at).update(&txn).await?;
                outcome.updated.push(old.id.0);
            }
            None => {
                let id = SiteId::now_v7();
                inserts.push(model(id, row, now()));
                outcome.created.push(id.0);
            }
        }
    }
    for chunk in inserts.chunks(500) {
        inspection_sites::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    if dry_run {
        txn.rollback().await?;
        return Ok(outcome);
    }
    txn.commit().await?;
    Ok(outcome)
}
