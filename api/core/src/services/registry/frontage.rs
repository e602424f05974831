//! Shopfronts (门前三包 parties): their frontage zones, the department that oversees them, and
//! their imports.

use crate::domain::geometry::Area;
use crate::domain::{CreditCode, GeoPoint};
use crate::error::{Error, Msg};
use crate::services::assignment::bump_version;
use crate::services::imports::ImportOutcome;
use crate::services::now;
use crate::state::AppState;
use entity::ids::{DepartmentId, ShopfrontId};
use entity::{departments, shopfronts};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::*;

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
    pub department_id: Option<DepartmentId>,
}

/// Where no zone is given, the frontage is this far around the shop's location.
pub const DEFAULT_FRONTAGE_RADIUS_M: f64 = 15.0;

fn shopfront_model(
    id: ShopfrontId,
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
    let created = shopfront_model(ShopfrontId::now_v7(), input, now())
        .insert(&txn)
        .await
        .map_err(|e| clash(e, CREDIT_CODE_TAKEN))?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn update_shopfront(
    state: &AppState,
    id: ShopfrontId,
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
    id: ShopfrontId,
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
    id: ShopfrontId,
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
    department: Option<DepartmentId>,
    after: Option<ShopfrontId>,
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

pub async fn delete_shopfront(state: &AppState, id: ShopfrontId) -> Result<(), Error> {
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
) -> Result<std::collections::HashMap<String, ShopfrontId>, Error> {
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
                outcome.updated.push(old.id.0);
            }
            None => {
                let id = ShopfrontId::now_v7();
                inserts.push(shopfront_model(id, row, now()));
                outcome.created.push(id.0);
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
    shop: Option<ShopfrontId>,
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
    let department = || {
        SimpleExpr::SubQuery(
            None,
            Box::new(department_of_shop.clone().into_sub_query_statement()),
        )
    };
    let overseer = || {
        Expr::col((
            entity::cases::Entity,
            entity::cases::Column::OverseerDepartmentId,
        ))
    };
    // Only the cases whose overseer changes are written: every write of a case reaches
    // the phones' sync.
    let changes = sea_orm::Condition::any()
        .add(overseer().is_null().and(department().is_not_null()))
        .add(overseer().is_not_null().and(department().is_null()))
        .add(overseer().ne(department()));
    let mut update = entity::cases::Entity::update_many()
        .col_expr(entity::cases::Column::OverseerDepartmentId, department())
        .filter(entity::cases::Column::AssigneeShopfrontId.is_not_null())
        .filter(changes);
    if let Some(shop) = shop {
        update = update.filter(entity::cases::Column::AssigneeShopfrontId.eq(shop));
    }
    update.exec(txn).await?;
    Ok(())
}
