//! `/api/v1/sites`: inspection sites (点位), kept by the campaign office and admins.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use entity::ids::{ShopfrontId, SiteId};

use crate::auth::{Allowed, needs};
use crate::domain::inspection::SiteType;
use crate::error::{ApiError, Error, FieldErrors};
use crate::routes::areas::{ImportQuery, ImportResult};
use crate::routes::departments::parse_label;
use crate::routes::extract::{Json, Query};
use crate::routes::location::{PointJson, PointRequest};
use crate::routes::pagination::{self, Page};
use crate::services::imports;
use crate::services::inspections::sites::{self as service, SiteFilter, SiteInput};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(import_sites)
        .service(list_sites)
        .service(get_site)
        .service(create_site)
        .service(update_site)
        .service(delete_site);
}

/// Sites are the campaign office's working list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteJson {
    pub id: SiteId,
    pub code: String,
    pub name: String,
    pub site_type: SiteType,
    /// The type as campaign documents name it.
    pub site_type_zh: &'static str,
    pub area_id: Uuid,
    pub location: PointJson,
    pub address: String,
    pub shopfront_id: Option<ShopfrontId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::inspection_sites::Model> for SiteJson {
    fn from(s: entity::inspection_sites::Model) -> Self {
        let site_type = s.site_type;
        Self {
            id: s.id,
            code: s.code,
            name: s.name,
            site_type,
            site_type_zh: site_type.name_zh(),
            area_id: s.area_id,
            location: PointJson::wgs84(s.lat, s.lon),
            address: s.address,
            shopfront_id: s.shopfront_id,
            active: s.active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    /// The city's own code for the site, unique.
    pub code: String,
    pub name: String,
    pub site_type: String,
    /// The area the site lies in (usually a community or grid).
    pub area_id: Uuid,
    pub location: PointRequest,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub address: String,
    /// The shopfront this site is, when it is one.
    pub shopfront_id: Option<ShopfrontId>,
    /// Inactive sites are never drawn.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn parse(body: SiteRequest) -> Result<SiteInput, ApiError> {
    let mut errors = FieldErrors::default();
    let code = errors.check("code", parse_label(&body.code, 40));
    let name = errors.check("name", parse_label(&body.name, 100));
    let site_type = errors.check(
        "site_type",
        SiteType::parse(&body.site_type).ok_or_else(|| {
            let all: Vec<&str> = SiteType::ALL.iter().map(|t| t.as_str()).collect();
            crate::error::Msg::new(
                format!("one of {}", all.join(", ")),
                format!("须为 {} 之一", all.join("、")),
            )
        }),
    );
    let location = errors.check("location", body.location.parse());
    if body.address.chars().count() > 200 {
        errors.add(
            "address",
            crate::error::Msg::fixed("at most 200 characters", "最多 200 个字符"),
        );
    }
    match (code, name, site_type, location) {
        (Some(code), Some(name), Some(site_type), Some(location)) if errors.is_empty() => {
            Ok(SiteInput {
                code,
                name,
                site_type,
                area_id: body.area_id,
                location,
                address: body.address.trim().to_owned(),
                shopfront_id: body.shopfront_id,
                active: body.active,
            })
        }
        _ => Err(Error::invalid(errors).into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSitesQuery {
    /// Sites in this area and the areas under it.
    pub area_id: Option<Uuid>,
    pub site_type: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Sites, a page at a time (admins and supervisors).
#[utoipa::path(tag = "inspections", params(ListSitesQuery), responses((status = 200, body = Page<SiteJson>)), security(("bearer" = [])))]
#[get("/sites")]
async fn list_sites(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    query: Query<ListSitesQuery>,
) -> Result<web::Json<Page<SiteJson>>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    let after = pagination::parse_cursor(query.cursor.as_deref(), &mut errors);
    let site_type = query.site_type.as_deref().and_then(|raw| {
        let parsed = SiteType::parse(raw);
        if parsed.is_none() {
            errors.add(
                "site_type",
                crate::error::Msg::fixed("not a site type", "不是有效的点位类型"),
            );
        }
        parsed
    });
    errors.finish()?;
    let (rows, more) = service::list(
        &state,
        SiteFilter {
            area_id: query.area_id,
            site_type,
            after,
            limit,
        },
    )
    .await?;
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|s| pagination::cursor_after(s.id.0));
    Ok(web::Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One site (admins and supervisors).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = SiteJson), (status = 404)), security(("bearer" = [])))]
#[get("/sites/{id}")]
async fn get_site(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    id: web::Path<SiteId>,
) -> Result<web::Json<SiteJson>, ApiError> {
    Ok(web::Json(service::get(&state.db, *id).await?.into()))
}

/// Add a site (admins and supervisors).
#[utoipa::path(tag = "inspections", request_body = SiteRequest, responses((status = 201, body = SiteJson), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/sites")]
async fn create_site(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    body: Json<SiteRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, parse(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(SiteJson::from(created)))
}

/// Replace a site (admins and supervisors).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), request_body = SiteRequest, responses((status = 200, body = SiteJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[put("/sites/{id}")]
async fn update_site(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    id: web::Path<SiteId>,
    body: Json<SiteRequest>,
) -> Result<web::Json<SiteJson>, ApiError> {
    Ok(web::Json(
        service::update(&state, *id, parse(body.into_inner())?)
            .await?
            .into(),
    ))
}

/// Remove a site no campaign has drawn (admins and supervisors); 409 for a drawn one.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/sites/{id}")]
async fn delete_site(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    id: web::Path<SiteId>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Import sites from a CSV or XLSX body. Columns (English or Chinese): code/编码,
/// name/名称, site_type/类型 (code or Chinese name), area_code/区域编码, lat/纬度,
/// lon/经度, crs/坐标系, address/地址, shopfront_credit_code/门店统一社会信用代码.
/// Creates or updates by code; all or nothing, problems listed by row (422
/// `invalid_import`); `?dry_run=true` checks without writing.
#[utoipa::path(tag = "inspections", params(ImportQuery),
    request_body(content_type = "text/csv", description = "CSV, or XLSX (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)"),
    responses((status = 200, body = ImportResult), (status = 422, description = "invalid_import")), security(("bearer" = [])))]
#[post("/sites/import")]
async fn import_sites(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageSites>,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportResult>, ApiError> {
    let bytes = crate::routes::read_body(payload, crate::routes::IMPORT_LIMIT_BYTES).await?;
    let areas = crate::services::registry::area_ids_by_code(&state).await?;
    let shopfronts: HashMap<String, ShopfrontId> =
        crate::services::registry::shopfront_credit_codes(&state).await?;
    let rows = imports::site_rows(&bytes, &areas, &shopfronts).map_err(Error::invalid_rows)?;
    let outcome = service::import(&state, rows, query.dry_run).await?;
    Ok(web::Json(ImportResult::of(query.dry_run, outcome)))
}
