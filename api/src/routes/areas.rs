//! `/api/v1/areas`: the area tree with boundaries, and GeoJSON import.

use actix_web::{HttpResponse, delete, get, post, put, web};
use entity::ids::DepartmentId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, Caller, needs};
use crate::domain::AreaLevel;
use crate::domain::geometry::Area;
use crate::error::{ApiError, Error, FieldErrors, RowProblem};
use crate::routes::departments::{parse_code, parse_label};
use crate::routes::extract::{Json, Query};
use crate::routes::pagination;
use crate::services::{imports, registry as service};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(import_areas)
        .service(list_areas)
        .service(get_area)
        .service(create_area)
        .service(update_area)
        .service(delete_area);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaJson {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub level: crate::domain::AreaLevel,
    pub parent_id: Option<Uuid>,
    /// The department that takes unmatched cases here and below (属地兜底).
    pub local_authority_id: Option<DepartmentId>,
    /// GeoJSON Polygon or MultiPolygon, WGS-84. In lists only with `?geometry=true`.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<serde_json::Value>,
}

impl AreaJson {
    /// The area without its boundary, as lists give it unless asked.
    fn outline_only(mut self) -> Self {
        self.boundary = None;
        self
    }
}

impl From<entity::areas::Model> for AreaJson {
    fn from(a: entity::areas::Model) -> Self {
        Self {
            id: a.id,
            code: a.code,
            name: a.name,
            level: a.level,
            parent_id: a.parent_id,
            local_authority_id: a.local_authority_id,
            boundary: a.boundary.and_then(|b| serde_json::from_str(&b).ok()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaRequest {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_id: Option<Uuid>,
    pub local_authority_id: Option<DepartmentId>,
    /// GeoJSON Polygon or MultiPolygon, WGS-84.
    #[schema(value_type = Object)]
    pub boundary: serde_json::Value,
}

fn parse(body: AreaRequest) -> Result<service::AreaInput, ApiError> {
    let mut errors = FieldErrors::default();
    let code = errors.check("code", parse_code(&body.code));
    let name = errors.check("name", parse_label(&body.name, 100));
    let boundary = errors.check("boundary", Area::from_geojson(&body.boundary));
    match (code, name, boundary) {
        (Some(code), Some(name), Some(boundary)) => Ok(service::AreaInput {
            code,
            name,
            level: body.level,
            parent_id: body.parent_id,
            boundary,
            local_authority_id: body.local_authority_id,
        }),
        _ => Err(Error::invalid(errors).into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAreasQuery {
    pub parent_id: Option<Uuid>,
    pub level: Option<AreaLevel>,
    /// The area with this code.
    pub code: Option<String>,
    /// Include each area's boundary (large: a grid's polygon can be kilobytes).
    #[serde(default)]
    pub geometry: bool,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Areas, a page at a time: the children of one, of one level, or the one with a code;
/// boundaries only with `geometry=true`.
#[utoipa::path(tag = "registry", params(ListAreasQuery), responses((status = 200, body = pagination::Page<AreaJson>)), security(("bearer" = [])))]
#[get("/areas")]
async fn list_areas(
    state: web::Data<AppState>,
    _user: Caller,
    query: Query<ListAreasQuery>,
) -> Result<web::Json<pagination::Page<AreaJson>>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    let after = pagination::parse_cursor(query.cursor.as_deref(), &mut errors);
    errors.finish()?;
    let filter = service::AreaFilter {
        parent: query.parent_id,
        level: query.level,
        code: query.code.clone(),
    };
    let (rows, more) = service::list_areas(&state, &filter, after, limit).await?;
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|a| pagination::cursor_after(a.id));
    let geometry = query.geometry;
    Ok(web::Json(pagination::Page {
        items: rows
            .into_iter()
            .map(AreaJson::from)
            .map(|a| if geometry { a } else { a.outline_only() })
            .collect(),
        next_cursor,
    }))
}

/// One area with its boundary.
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = AreaJson), (status = 404)), security(("bearer" = [])))]
#[get("/areas/{id}")]
async fn get_area(
    state: web::Data<AppState>,
    _user: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<AreaJson>, ApiError> {
    Ok(web::Json(service::get_area(&state.db, *id).await?.into()))
}

/// Add an area (admins).
#[utoipa::path(tag = "registry", request_body = AreaRequest, responses((status = 201, body = AreaJson), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/areas")]
async fn create_area(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<AreaRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create_area(&state, parse(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(AreaJson::from(created)))
}

/// Replace an area (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), request_body = AreaRequest, responses((status = 200, body = AreaJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[put("/areas/{id}")]
async fn update_area(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
    body: Json<AreaRequest>,
) -> Result<web::Json<AreaJson>, ApiError> {
    Ok(web::Json(
        service::update_area(&state, *id, parse(body.into_inner())?)
            .await?
            .into(),
    ))
}

/// Remove an area without sub-areas or cases (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/areas/{id}")]
async fn delete_area(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete_area(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check everything and write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    /// The ids created (empty on a dry run, which creates nothing).
    pub created_ids: Vec<Uuid>,
    /// The ids updated (on a dry run: that would be updated).
    pub updated_ids: Vec<Uuid>,
}

impl ImportResult {
    pub fn of(dry_run: bool, outcome: crate::services::imports::ImportOutcome) -> Self {
        Self {
            dry_run,
            created: outcome.created.len(),
            updated: outcome.updated.len(),
            created_ids: if dry_run { Vec::new() } else { outcome.created },
            updated_ids: outcome.updated,
        }
    }
}

/// Import a GeoJSON FeatureCollection (properties `code`, `name`, `level`,
/// `parent_code`), creating or updating areas by code. All or nothing; problems are
/// listed by feature (422 `invalid_import`).
#[utoipa::path(tag = "registry", params(ImportQuery), request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = ImportResult), (status = 422, description = "invalid_import")), security(("bearer" = [])))]
#[post("/areas/import")]
async fn import_areas(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportResult>, ApiError> {
    let bytes = crate::routes::read_body(payload, crate::routes::IMPORT_LIMIT_BYTES).await?;
    let body: serde_json::Value = crate::routes::extract::parse(&bytes)?;
    let features = imports::area_features(&body).map_err(Error::invalid_rows)?;
    let outcome = service::import_areas(&state, features, query.dry_run)
        .await
        .map_err(|problems| {
            Error::invalid_rows(
                problems
                    .into_iter()
                    .map(|(i, field, problem)| RowProblem {
                        row: i + 1,
                        field,
                        problem,
                    })
                    .collect(),
            )
        })?;
    Ok(web::Json(ImportResult::of(query.dry_run, outcome)))
}
