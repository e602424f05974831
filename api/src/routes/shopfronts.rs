//! `/api/v1/shopfronts`: street-facing shops with their frontage zones (门前三包), CSV/XLSX
//! import, and their users.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, post, put, web};
use entity::ids::{DepartmentId, ShopfrontId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, Caller, needs};
use crate::domain::CreditCode;
use crate::domain::geometry::Area;
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::areas::{ImportQuery, ImportResult};
use crate::routes::departments::parse_label;
use crate::routes::extract::{Json, Query};
use crate::routes::location::{PointJson, PointRequest};
use crate::routes::pagination::{self, Page};
use crate::routes::users::json::UserJson;
use crate::services::imports;
use crate::services::registry::{
    self as service, DEFAULT_FRONTAGE_RADIUS_M, FrontageZone, ShopfrontInput,
};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(import_shopfronts)
        .service(list_shopfronts)
        .service(get_shopfront)
        .service(create_shopfront)
        .service(update_shopfront)
        .service(delete_shopfront)
        .service(shopfront_users);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopfrontJson {
    pub id: ShopfrontId,
    pub name: String,
    pub credit_code: Option<String>,
    pub address: String,
    pub contact: String,
    pub phone: String,
    /// Where the shop is (`null` for shops imported without a place).
    pub location: Option<PointJson>,
    /// The frontage zone (门前三包范围) as GeoJSON, when drawn; otherwise
    /// `frontage_radius_m` around the shop.
    #[schema(value_type = Option<Object>)]
    pub frontage_zone: Option<serde_json::Value>,
    pub frontage_radius_m: Option<f64>,
    /// The overseeing department (监管部门).
    pub overseeing_department_id: Option<DepartmentId>,
}

impl From<entity::shopfronts::Model> for ShopfrontJson {
    fn from(s: entity::shopfronts::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            credit_code: s.credit_code,
            address: s.address,
            contact: s.contact,
            phone: s.phone,
            location: s
                .lat
                .zip(s.lon)
                .map(|(lat, lon)| PointJson::wgs84(lat, lon)),
            frontage_zone: s.zone.and_then(|z| serde_json::from_str(&z).ok()),
            frontage_radius_m: s.zone_radius_m,
            overseeing_department_id: s.department_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopfrontRequest {
    pub name: String,
    /// 统一社会信用代码, with its check digit.
    pub credit_code: String,
    pub address: String,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub contact: String,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub phone: String,
    /// Where the shop is (zones are always WGS-84).
    pub location: PointRequest,
    /// The frontage zone as a GeoJSON Polygon/MultiPolygon ...
    #[schema(value_type = Option<Object>)]
    pub frontage_zone: Option<serde_json::Value>,
    /// ... or as a WKT POLYGON ...
    pub frontage_zone_wkt: Option<String>,
    /// ... or a radius around the shop (default 15 m).
    pub frontage_radius_m: Option<f64>,
    /// The overseeing department (监管部门).
    pub overseeing_department_id: Option<DepartmentId>,
}

fn parse(body: ShopfrontRequest) -> Result<ShopfrontInput, ApiError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_label(&body.name, 100));
    let credit_code = errors.check("credit_code", CreditCode::parse(&body.credit_code));
    let address = errors.check("address", parse_label(&body.address, 200));
    let location = errors.check("location", body.location.parse());
    let zone = errors.check(
        "frontage_zone",
        match (
            body.frontage_zone,
            body.frontage_zone_wkt,
            body.frontage_radius_m,
        ) {
            (Some(geojson), None, None) => Area::from_geojson(&geojson).map(FrontageZone::Polygon),
            (None, Some(wkt), None) => Area::from_wkt(&wkt).map(FrontageZone::Polygon),
            (None, None, Some(r)) if (1.0..=500.0).contains(&r) => Ok(FrontageZone::Radius(r)),
            (None, None, Some(_)) => Err(Msg::fixed(
                "frontage_radius_m must be from 1 to 500",
                "frontage_radius_m 须在 1 到 500 之间",
            )),
            (None, None, None) => Ok(FrontageZone::Radius(DEFAULT_FRONTAGE_RADIUS_M)),
            _ => Err(Msg::fixed(
                "give one of frontage_zone, frontage_zone_wkt and frontage_radius_m",
                "frontage_zone、frontage_zone_wkt、frontage_radius_m 只能填一个",
            )),
        },
    );
    match (name, credit_code, address, location, zone) {
        (Some(name), Some(credit_code), Some(address), Some(location), Some(zone)) => {
            Ok(ShopfrontInput {
                name,
                credit_code,
                address,
                contact: body.contact.trim().chars().take(100).collect(),
                phone: body.phone.trim().chars().take(40).collect(),
                location,
                zone,
                department_id: body.overseeing_department_id,
            })
        }
        _ => Err(Error::invalid(errors).into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListShopfrontsQuery {
    pub department_id: Option<DepartmentId>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Shopfronts, a page at a time (admins and supervisors).
#[utoipa::path(tag = "registry", params(ListShopfrontsQuery), responses((status = 200, body = Page<ShopfrontJson>)), security(("bearer" = [])))]
#[get("/shopfronts")]
async fn list_shopfronts(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadRegistry>,
    query: Query<ListShopfrontsQuery>,
) -> Result<web::Json<Page<ShopfrontJson>>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    let after = pagination::parse_cursor(query.cursor.as_deref(), &mut errors);
    errors.finish()?;
    let (rows, more) = service::list_shopfronts(&state, query.department_id, after, limit).await?;
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|s| pagination::cursor_after(s.id));
    Ok(web::Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One shopfront (admins, supervisors, its overseeing department and its own users).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = ShopfrontJson), (status = 404)), security(("bearer" = [])))]
#[get("/shopfronts/{id}")]
async fn get_shopfront(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<ShopfrontId>,
) -> Result<web::Json<ShopfrontJson>, ApiError> {
    let shop = service::visible_shopfront(&state, &user, *id).await?;
    Ok(web::Json(shop.into()))
}

/// Add a shopfront (admins).
#[utoipa::path(tag = "registry", request_body = ShopfrontRequest, responses((status = 201, body = ShopfrontJson), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/shopfronts")]
async fn create_shopfront(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<ShopfrontRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create_shopfront(&state, parse(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(ShopfrontJson::from(created)))
}

/// Replace a shopfront (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), request_body = ShopfrontRequest, responses((status = 200, body = ShopfrontJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[put("/shopfronts/{id}")]
async fn update_shopfront(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<ShopfrontId>,
    body: Json<ShopfrontRequest>,
) -> Result<web::Json<ShopfrontJson>, ApiError> {
    Ok(web::Json(
        service::update_shopfront(&state, *id, parse(body.into_inner())?)
            .await?
            .into(),
    ))
}

/// Remove a shopfront without users or cases (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/shopfronts/{id}")]
async fn delete_shopfront(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<ShopfrontId>,
) -> Result<HttpResponse, ApiError> {
    service::delete_shopfront(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The users of a shopfront (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = pagination::Page<UserJson>), (status = 404)), security(("bearer" = [])))]
#[get("/shopfronts/{id}/users")]
async fn shopfront_users(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<ShopfrontId>,
) -> Result<web::Json<pagination::Page<UserJson>>, ApiError> {
    service::get_shopfront(&state.db, *id).await?;
    let users = service::users_of(&state, None, Some(*id)).await?;
    Ok(web::Json(pagination::Page::whole(
        crate::routes::users::users_json(&state, users).await?,
    )))
}

/// Import shopfronts from a CSV or XLSX file sent as the request body. Columns (English or
/// Chinese): name/名称, credit_code/统一社会信用代码, address/地址, contact/联系人,
/// phone/电话, lat/纬度, lon/经度, crs/坐标系, zone/门前三包范围 (GeoJSON or WKT),
/// radius_m/半径, department_code/监管部门编码. Creates or updates by credit code; all or
/// nothing, problems listed by row (422 `invalid_import`).
#[utoipa::path(tag = "registry", params(ImportQuery),
    request_body(content_type = "text/csv", description = "CSV, or XLSX (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)"),
    responses((status = 200, body = ImportResult), (status = 422, description = "invalid_import")), security(("bearer" = [])))]
#[post("/shopfronts/import")]
async fn import_shopfronts(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportResult>, ApiError> {
    let bytes = crate::routes::read_body(payload, crate::routes::IMPORT_LIMIT_BYTES).await?;
    let departments: HashMap<String, DepartmentId> = service::list_departments(&state)
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let rows = imports::shopfront_rows(&bytes, &departments).map_err(Error::invalid_rows)?;
    let outcome = service::import_shopfronts(&state, rows, query.dry_run).await?;
    Ok(web::Json(ImportResult::of(query.dry_run, outcome)))
}
