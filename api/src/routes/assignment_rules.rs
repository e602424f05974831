//! `/api/v1/assignment-rules`: (category, area or city-wide) → department, and a check
//! that shows where a case would go and why.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use entity::ids::DepartmentId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, needs};
use crate::domain::{Crs, GeoPoint};
use crate::error::{ApiError, Error, Msg};
use crate::routes::extract::{Json, Query};
use crate::routes::pagination;
use crate::services::assignment::Target;
use crate::services::registry as service;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(check_assignment)
        .service(list_rules)
        .service(create_rule)
        .service(update_rule)
        .service(delete_rule);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleJson {
    pub id: Uuid,
    pub category: String,
    /// `null`: city-wide.
    pub area_id: Option<Uuid>,
    pub department_id: DepartmentId,
}

impl From<entity::assignment_rules::Model> for RuleJson {
    fn from(r: entity::assignment_rules::Model) -> Self {
        Self {
            id: r.id,
            category: r.category_code,
            area_id: r.area_id,
            department_id: r.department_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRuleRequest {
    pub category: String,
    pub area_id: Option<Uuid>,
    pub department_id: DepartmentId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRuleRequest {
    pub department_id: DepartmentId,
}

/// All rules (admins and supervisors).
#[utoipa::path(tag = "registry", responses((status = 200, body = pagination::Page<RuleJson>)), security(("bearer" = [])))]
#[get("/assignment-rules")]
async fn list_rules(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadRegistry>,
) -> Result<web::Json<pagination::Page<RuleJson>>, ApiError> {
    Ok(web::Json(
        service::list_rules(&state)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Add a rule (admins). One rule per category and area.
#[utoipa::path(tag = "registry", request_body = CreateRuleRequest, responses((status = 201, body = RuleJson), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/assignment-rules")]
async fn create_rule(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<CreateRuleRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let rule =
        service::create_rule(&state, body.category, body.area_id, body.department_id).await?;
    Ok(HttpResponse::Created().json(RuleJson::from(rule)))
}

/// Point a rule at another department (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), request_body = UpdateRuleRequest, responses((status = 200, body = RuleJson), (status = 404), (status = 422)), security(("bearer" = [])))]
#[patch("/assignment-rules/{id}")]
async fn update_rule(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
    body: Json<UpdateRuleRequest>,
) -> Result<web::Json<RuleJson>, ApiError> {
    Ok(web::Json(
        service::update_rule(&state, *id, body.department_id)
            .await?
            .into(),
    ))
}

/// Remove a rule (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/assignment-rules/{id}")]
async fn delete_rule(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete_rule(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub crs: Crs,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// `shopfront`, `department` or `triage`.
    pub target: &'static str,
    pub id: Option<Uuid>,
    /// The shop's or department's name.
    pub name: Option<String>,
    /// Which step decided: `frontage`, `area_rule`, `city_rule`, `local_authority` or
    /// `triage` (the offline registry's decision has the same steps).
    pub basis: &'static str,
    pub reason: String,
    /// The most specific area containing the point.
    pub area_id: Option<Uuid>,
}

/// Where a case of this category at this point would go, and why (admins, supervisors).
#[utoipa::path(tag = "registry", params(CheckQuery), responses((status = 200, body = CheckResult), (status = 422)), security(("bearer" = [])))]
#[get("/assignment-rules/check")]
async fn check_assignment(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadRegistry>,
    query: Query<CheckQuery>,
) -> Result<web::Json<CheckResult>, ApiError> {
    let point = GeoPoint::from_crs(query.lat, query.lon, query.crs)
        .map_err(|p| Error::invalid_field("lat", p))?;
    crate::services::categories::get(&state, &query.category)
        .await
        .map_err(|_| {
            Error::invalid_field("category", Msg::fixed("no such category", "类别不存在"))
        })?;
    let decision = state
        .registry
        .current(&state.db)
        .await?
        .locate(point, &query.category);
    let (target, id) = match decision.target {
        Target::Shopfront(id) => ("shopfront", Some(id.0)),
        Target::Department(id) => ("department", Some(id.0)),
        Target::Triage => ("triage", None),
    };
    Ok(web::Json(CheckResult {
        target,
        id,
        name: decision.target_name,
        basis: decision.basis.as_str(),
        reason: decision.reason,
        area_id: decision.area_id,
    }))
}
