//! Areas: the tree of districts, sub-districts, communities and grids, and its imports.

use crate::domain::AreaLevel;
use crate::domain::geometry::Area;
use crate::error::{Error, Msg};
use crate::services::assignment::bump_version;
use crate::services::imports::ImportOutcome;
use crate::services::now;
use crate::state::AppState;
use entity::ids::DepartmentId;
use entity::{areas, departments};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::*;

// ---------------------------------------------------------------- areas

pub struct AreaInput {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<Uuid>,
    pub boundary: Area,
    pub local_authority_id: Option<DepartmentId>,
}

fn area_model(
    id: Uuid,
    input: AreaInput,
    created_at: chrono::DateTime<chrono::Utc>,
) -> areas::ActiveModel {
    let (min_lat, min_lon, max_lat, max_lon) = input.boundary.bbox();
    areas::ActiveModel {
        id: Set(id),
        code: Set(input.code),
        name: Set(input.name),
        level: Set(input.level),
        parent_id: Set(input.parent_id),
        boundary: Set(Some(input.boundary.to_geojson().to_string())),
        local_authority_id: Set(input.local_authority_id),
        min_lat: Set(Some(min_lat)),
        min_lon: Set(Some(min_lon)),
        max_lat: Set(Some(max_lat)),
        max_lon: Set(Some(max_lon)),
        created_at: Set(created_at),
        updated_at: Set(now()),
    }
}

async fn check_area_refs(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
    input: &AreaInput,
) -> Result<(), Error> {
    if let Some(parent) = input.parent_id {
        if Some(parent) == id {
            return Err(Error::invalid_field(
                "parent_id",
                Msg::fixed("an area cannot be its own parent", "区域不能是自己的上级"),
            ));
        }
        let mut walk = Some(parent);
        let mut steps = 0;
        while let Some(current) = walk {
            let row = areas::Entity::find_by_id(current).one(db).await?;
            let Some(row) = row else {
                return Err(Error::invalid_field(
                    "parent_id",
                    Msg::fixed("no such area", "区域不存在"),
                ));
            };
            if Some(row.id) == id || steps > 64 {
                return Err(Error::invalid_field(
                    "parent_id",
                    Msg::fixed("would make a cycle", "会形成循环"),
                ));
            }
            walk = row.parent_id;
            steps += 1;
        }
    }
    if let Some(department) = input.local_authority_id
        && departments::Entity::find_by_id(department)
            .one(db)
            .await?
            .is_none()
    {
        return Err(Error::invalid_field(
            "local_authority_id",
            Msg::fixed("no such department", "部门不存在"),
        ));
    }
    Ok(())
}

pub async fn create_area(state: &AppState, input: AreaInput) -> Result<areas::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    check_area_refs(&txn, None, &input).await?;
    let created = area_model(Uuid::now_v7(), input, now())
        .insert(&txn)
        .await
        .map_err(|e| {
            clash(
                e,
                Msg::fixed("An area with this code exists.", "该编码的区域已存在。"),
            )
        })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update_area(
    state: &AppState,
    id: Uuid,
    input: AreaInput,
) -> Result<areas::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let existing = get_area(&txn, id).await?;
    check_area_refs(&txn, Some(id), &input).await?;
    let updated = area_model(id, input, existing.created_at)
        .update(&txn)
        .await
        .map_err(|e| {
            clash(
                e,
                Msg::fixed("An area with this code exists.", "该编码的区域已存在。"),
            )
        })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn get_area(db: &impl ConnectionTrait, id: Uuid) -> Result<areas::Model, Error> {
    areas::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

/// Every area's id by its code (for imports that name areas by code).
pub async fn area_ids_by_code(
    state: &AppState,
) -> Result<std::collections::HashMap<String, Uuid>, Error> {
    Ok(areas::Entity::find()
        .select_only()
        .column(areas::Column::Code)
        .column(areas::Column::Id)
        .into_tuple::<(String, Uuid)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect())
}

/// Which areas a list shows.
#[derive(Debug, Default)]
pub struct AreaFilter {
    pub parent: Option<Uuid>,
    pub level: Option<AreaLevel>,
    pub code: Option<String>,
}

/// A page of areas after `after` (by id), and whether more follow.
pub async fn list_areas(
    state: &AppState,
    filter: &AreaFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<areas::Model>, bool), Error> {
    let mut query = areas::Entity::find().order_by_asc(areas::Column::Id);
    if let Some(parent) = filter.parent {
        query = query.filter(areas::Column::ParentId.eq(parent));
    }
    if let Some(level) = filter.level {
        query = query.filter(areas::Column::Level.eq(level));
    }
    if let Some(code) = &filter.code {
        query = query.filter(areas::Column::Code.eq(code.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(areas::Column::Id.gt(after));
    }
    let mut rows = query.limit(limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((rows, more))
}

pub async fn delete_area(state: &AppState, id: Uuid) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    get_area(&txn, id).await?;
    areas::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .map_err(|e| {
            clash(
                e,
                Msg::fixed(
                    "The area still has sub-areas, cases or users bound to it.",
                    "该区域仍有下级区域、案件或绑定的用户。",
                ),
            )
        })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// One feature of an area import, parsed.
pub struct ImportedArea {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<String>,
    pub boundary: Area,
}

/// Creates or updates (by code) every area of an import in one transaction, parents
/// before children; `dry_run` checks everything and writes nothing. Returns (created,
/// updated), or the problems by feature.
pub async fn import_areas(
    state: &AppState,
    features: Vec<ImportedArea>,
    dry_run: bool,
) -> Result<ImportOutcome, Vec<(usize, String, Msg)>> {
    let db_error = |e: Error| vec![(0usize, "import".to_owned(), e.message)];
    let txn = crate::services::begin_write(&state.db)
        .await
        .map_err(|e| db_error(e.into()))?;
    let existing: std::collections::HashMap<String, areas::Model> = areas::Entity::find()
        .all(&txn)
        .await
        .map_err(|e| db_error(e.into()))?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    let mut ids: std::collections::HashMap<String, Uuid> =
        existing.iter().map(|(c, a)| (c.clone(), a.id)).collect();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, feature) in features.iter().enumerate() {
        if !seen.insert(feature.code.clone()) {
            problems.push((
                i,
                "code".to_owned(),
                Msg::fixed("appears twice in the file", "在文件中重复出现"),
            ));
        }
        ids.entry(feature.code.clone()).or_insert_with(Uuid::now_v7);
    }
    // Parents first: order by depth within the file.
    let mut order: Vec<usize> = (0..features.len()).collect();
    let depth_of = |start: usize| {
        let mut depth = 0;
        let mut parent = features[start].parent_code.clone();
        while let Some(code) = parent {
            depth += 1;
            parent = features
                .iter()
                .find(|f| f.code == code)
                .and_then(|f| f.parent_code.clone());
            if depth > 64 {
                break;
            }
        }
        depth
    };
    order.sort_by_key(|&i| depth_of(i));
    for (i, feature) in features.iter().enumerate() {
        if let Some(parent) = &feature.parent_code
            && (!ids.contains_key(parent) || parent == &feature.code)
        {
            problems.push((
                i,
                "parent_code".to_owned(),
                Msg::new(
                    format!("no area with code {parent}"),
                    format!("不存在编码为 {parent} 的区域"),
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut outcome = ImportOutcome::default();
    for i in order {
        let feature = &features[i];
        let id = ids[&feature.code];
        let input = AreaInput {
            code: feature.code.clone(),
            name: feature.name.clone(),
            level: feature.level,
            parent_id: feature.parent_code.as_ref().map(|p| ids[p]),
            boundary: feature.boundary.clone(),
            local_authority_id: existing
                .get(&feature.code)
                .and_then(|a| a.local_authority_id),
        };
        let result = match existing.get(&feature.code) {
            Some(old) => {
                outcome.updated.push(id);
                area_model(id, input, old.created_at)
                    .update(&txn)
                    .await
                    .map(|_| ())
            }
            None => {
                outcome.created.push(id);
                area_model(id, input, now()).insert(&txn).await.map(|_| ())
            }
        };
        if let Err(err) = result {
            problems.push((
                i,
                "feature".to_owned(),
                Msg::new(
                    format!("cannot be stored: {err}"),
                    format!("无法保存：{err}"),
                ),
            ));
        }
    }
    if !problems.is_empty() || dry_run {
        let _ = txn.rollback().await;
        return if problems.is_empty() {
            Ok(outcome)
        } else {
            Err(problems)
        };
    }
    bump_version(&txn).await.map_err(db_error)?;
    txn.commit().await.map_err(|e| db_error(e.into()))?;
    Ok(outcome)
}
