//! The responsibility registry: departments, areas, assignment rules and shopfronts. Every
//! change bumps the registry version in its own transaction, so each instance's spatial
//! index notices.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use entity::{areas, assignment_rules, categories, departments, shopfronts, users};

use crate::domain::geometry::Area;
use crate::domain::{AreaLevel, CreditCode, DepartmentKind, GeoPoint};
use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::bump_version;
use crate::services::imports::ImportOutcome;
use crate::services::now;
use crate::state::AppState;

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
        id: Set(Uuid::now_v7()),
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
    id: Uuid,
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
    id: Uuid,
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

pub async fn delete_department(state: &AppState, id: Uuid) -> Result<(), Error> {
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
    department: Option<Uuid>,
    shopfront: Option<Uuid>,
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

// ---------------------------------------------------------------- areas

pub struct AreaInput {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<Uuid>,
    pub boundary: Area,
    pub local_authority_id: Option<Uuid>,
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
                    "The area still has sub-areas or cases.",
                    "该区域仍有下级区域或案件。",
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

// ---------------------------------------------------------------- assignment rules

pub async fn create_rule(
    state: &AppState,
    category: String,
    area_id: Option<Uuid>,
    department_id: Uuid,
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
    department_id: Uuid,
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
    department_id: Uuid,
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

#[derive(Clone, Debug)]
pub enum FrontageZone {
    Polygon(Area),
    Radius(f64),
}

#[derive(Clone, Debug)]
pub struct ShopfrontInput {
    pub name: String,
    pub credit_code: CreditCode,
    pub address: String,
    pub contact: String,
    pub phone: String,
    pub location: GeoPoint,
    pub zone: FrontageZone,
    pub department_id: Option<Uuid>,
}

/// Where no zone is given, the frontage is this far around the shop's location.
pub const DEFAULT_FRONTAGE_RADIUS_M: f64 = 15.0;

fn shopfront_model(
    id: Uuid,
    input: ShopfrontInput,
    created_at: chrono::DateTime<chrono::Utc>,
) -> shopfronts::ActiveModel {
    let (zone, radius, bbox) = match &input.zone {
        FrontageZone::Polygon(area) => (Some(area.to_geojson().to_string()), None, area.bbox()),
        FrontageZone::Radius(r) => (None, Some(*r), input.location.bounding_box(*r)),
    };
    shopfronts::ActiveModel {
        id: Set(id),
        name: Set(input.name),
        credit_code: Set(Some(input.credit_code.as_str().to_owned())),
        address: Set(input.address),
        department_id: Set(input.department_id),
        contact: Set(input.contact),
        phone: Set(input.phone),
        lat: Set(Some(input.location.lat())),
        lon: Set(Some(input.location.lon())),
        zone: Set(zone),
        zone_radius_m: Set(radius),
        min_lat: Set(Some(bbox.0)),
        min_lon: Set(Some(bbox.1)),
        max_lat: Set(Some(bbox.2)),
        max_lon: Set(Some(bbox.3)),
        created_at: Set(created_at),
        updated_at: Set(now()),
    }
}

const CREDIT_CODE_TAKEN: Msg = Msg::fixed(
    "A shopfront with this credit code exists.",
    "该统一社会信用代码的门店已存在。",
);

async fn check_shop_department(
    db: &impl ConnectionTrait,
    input: &ShopfrontInput,
) -> Result<(), Error> {
    if let Some(id) = input.department_id
        && departments::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(Error::invalid_field(
            "department_id",
            Msg::fixed("no such department", "部门不存在"),
        ));
    }
    Ok(())
}

pub async fn create_shopfront(
    state: &AppState,
    input: ShopfrontInput,
) -> Result<shopfronts::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    check_shop_department(&txn, &input).await?;
    let created = shopfront_model(Uuid::now_v7(), input, now())
        .insert(&txn)
        .await
        .map_err(|e| clash(e, CREDIT_CODE_TAKEN))?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update_shopfront(
    state: &AppState,
    id: Uuid,
    input: ShopfrontInput,
) -> Result<shopfronts::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let existing = get_shopfront(&txn, id).await?;
    check_shop_department(&txn, &input).await?;
    let updated = shopfront_model(id, input, existing.created_at)
        .update(&txn)
        .await
        .map_err(|e| clash(e, CREDIT_CODE_TAKEN))?;
    if updated.department_id != existing.department_id {
        follow_shop_departments(&txn, Some(id)).await?;
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn get_shopfront(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<shopfronts::Model, Error> {
    shopfronts::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

/// A shopfront the user may see (404 otherwise, as if it did not exist).
pub async fn visible_shopfront(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    id: Uuid,
) -> Result<shopfronts::Model, Error> {
    let shop = get_shopfront(&state.db, id).await?;
    if crate::auth::policy::sees_shopfront(user, &shop) {
        Ok(shop)
    } else {
        Err(Error::not_found())
    }
}

pub async fn list_shopfronts(
    state: &AppState,
    department: Option<Uuid>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<shopfronts::Model>, bool), Error> {
    let mut query = shopfronts::Entity::find().order_by_asc(shopfronts::Column::Id);
    if let Some(department) = department {
        query = query.filter(shopfronts::Column::DepartmentId.eq(department));
    }
    if let Some(after) = after {
        query = query.filter(shopfronts::Column::Id.gt(after));
    }
    let mut rows = query.limit(limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((rows, more))
}

pub async fn delete_shopfront(state: &AppState, id: Uuid) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    get_shopfront(&txn, id).await?;
    shopfronts::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .map_err(|e| {
            clash(
                e,
                Msg::fixed(
                    "The shopfront still has users or cases.",
                    "该门店仍有关联的用户或案件。",
                ),
            )
        })?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Creates or updates (by credit code) every shopfront of an import in one transaction;
/// `dry_run` writes nothing. Returns (created, updated).
/// Every shopfront's credit code and id (imports name shops by credit code).
pub async fn shopfront_credit_codes(
    state: &AppState,
) -> Result<std::collections::HashMap<String, Uuid>, Error> {
    Ok(shopfronts::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|s| s.credit_code.map(|c| (c, s.id)))
        .collect())
}

pub async fn import_shopfronts(
    state: &AppState,
    rows: Vec<ShopfrontInput>,
    dry_run: bool,
) -> Result<ImportOutcome, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    // Looked up in chunks: SQLite takes at most 32766 bound parameters per statement.
    let mut existing: std::collections::HashMap<String, shopfronts::Model> =
        std::collections::HashMap::new();
    let codes: Vec<String> = rows
        .iter()
        .map(|r| r.credit_code.as_str().to_owned())
        .collect();
    for chunk in codes.chunks(500) {
        let found = shopfronts::Entity::find()
            .filter(shopfronts::Column::CreditCode.is_in(chunk.to_vec()))
            .all(&txn)
            .await?;
        existing.extend(
            found
                .into_iter()
                .filter_map(|s| s.credit_code.clone().map(|c| (c, s))),
        );
    }
    let mut outcome = ImportOutcome::default();
    let mut inserts = Vec::new();
    let mut moved = false;
    for row in rows {
        match existing.get(row.credit_code.as_str()) {
            Some(old) => {
                moved |= row.department_id != old.department_id;
                shopfront_model(old.id, row, old.created_at)
                    .update(&txn)
                    .await?;
                outcome.updated.push(old.id);
            }
            None => {
                let id = Uuid::now_v7();
                inserts.push(shopfront_model(id, row, now()));
                outcome.created.push(id);
            }
        }
    }
    for chunk in inserts.chunks(500) {
        shopfronts::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    if moved {
        follow_shop_departments(&txn, None).await?;
    }
    if dry_run {
        txn.rollback().await?;
        return Ok(outcome);
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// Moves the cases of shops that changed department (`shop`, or every shop) to the shops'
/// departments: `cases.overseer_department_id` follows the registry.
async fn follow_shop_departments(
    txn: &impl ConnectionTrait,
    shop: Option<Uuid>,
) -> Result<(), Error> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query, QueryStatementBuilder, SimpleExpr};
    let department_of_shop = Query::select()
        .column((shopfronts::Entity, shopfronts::Column::DepartmentId))
        .from(shopfronts::Entity)
        .and_where(
            Expr::col((shopfronts::Entity, shopfronts::Column::Id)).equals((
                entity::cases::Entity,
                entity::cases::Column::AssigneeShopfrontId,
            )),
        )
        .to_owned();
    let mut update = entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::OverseerDepartmentId,
            SimpleExpr::SubQuery(
                None,
                Box::new(department_of_shop.into_sub_query_statement()),
            ),
        )
        .filter(entity::cases::Column::AssigneeShopfrontId.is_not_null());
    if let Some(shop) = shop {
        update = update.filter(entity::cases::Column::AssigneeShopfrontId.eq(shop));
    }
    update.exec(txn).await?;
    Ok(())
}
