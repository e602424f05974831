//! `/api/v1/departments`: the departments that handle cases, and their users.

use actix_web::{HttpResponse, delete, get, post, put, web};
use entity::ids::DepartmentId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, needs};
use crate::domain::DepartmentKind;
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::routes::users::json::UserJson;
use crate::services::registry::{self as service, DepartmentInput};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_departments)
        .service(get_department)
        .service(create_department)
        .service(update_department)
        .service(delete_department)
        .service(department_users);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentJson {
    pub id: DepartmentId,
    pub code: String,
    pub name: String,
    pub kind: crate::domain::DepartmentKind,
    pub contact: String,
}

impl From<entity::departments::Model> for DepartmentJson {
    fn from(d: entity::departments::Model) -> Self {
        Self {
            id: d.id,
            code: d.code,
            name: d.name,
            kind: d.kind,
            contact: d.contact,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    pub code: String,
    pub name: String,
    /// urban_management, traffic_police, sanitation, subdistrict_office, housing, landscaping, other
    pub kind: DepartmentKind,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub contact: String,
}

pub fn parse_code(raw: &str) -> Result<String, Msg> {
    let code = raw.trim();
    if (1..=40).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(code.to_owned())
    } else {
        Err(Msg::fixed(
            "1-40 letters, digits, '-', '_' or '.'",
            "1-40 个字母、数字、'-'、'_' 或 '.'",
        ))
    }
}

pub fn parse_label(raw: &str, max: usize) -> Result<String, Msg> {
    let text = raw.trim();
    if (1..=max).contains(&text.chars().count()) && !text.chars().any(char::is_control) {
        Ok(text.to_owned())
    } else {
        Err(Msg::new(
            format!("1-{max} characters"),
            format!("1-{max} 个字符"),
        ))
    }
}

fn parse(body: DepartmentRequest) -> Result<DepartmentInput, ApiError> {
    let mut errors = FieldErrors::default();
    let code = errors.check("code", parse_code(&body.code));
    let name = errors.check("name", parse_label(&body.name, 100));
    let contact = errors.check(
        "contact",
        if body.contact.chars().count() <= 200 {
            Ok(body.contact.trim().to_owned())
        } else {
            Err(Msg::fixed("at most 200 characters", "最多 200 个字符"))
        },
    );
    match (code, name, contact) {
        (Some(code), Some(name), Some(contact)) => Ok(DepartmentInput {
            code,
            name,
            kind: body.kind,
            contact,
        }),
        _ => Err(Error::invalid(errors).into()),
    }
}

/// All departments (admins and supervisors).
#[utoipa::path(tag = "registry", responses((status = 200, body = pagination::Page<DepartmentJson>)), security(("bearer" = [])))]
#[get("/departments")]
async fn list_departments(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadRegistry>,
) -> Result<web::Json<pagination::Page<DepartmentJson>>, ApiError> {
    Ok(web::Json(
        service::list_departments(&state)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One department.
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = DepartmentJson), (status = 404)), security(("bearer" = [])))]
#[get("/departments/{id}")]
async fn get_department(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadRegistry>,
    id: web::Path<DepartmentId>,
) -> Result<web::Json<DepartmentJson>, ApiError> {
    Ok(web::Json(
        service::get_department(&state.db, *id).await?.into(),
    ))
}

/// Add a department (admins).
#[utoipa::path(tag = "registry", request_body = DepartmentRequest, responses((status = 201, body = DepartmentJson), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/departments")]
async fn create_department(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<DepartmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create_department(&state.db, parse(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(DepartmentJson::from(created)))
}

/// Replace a department's code, name, kind and contact (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), request_body = DepartmentRequest, responses((status = 200, body = DepartmentJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[put("/departments/{id}")]
async fn update_department(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<DepartmentId>,
    body: Json<DepartmentRequest>,
) -> Result<web::Json<DepartmentJson>, ApiError> {
    Ok(web::Json(
        service::update_department(&state, *id, parse(body.into_inner())?)
            .await?
            .into(),
    ))
}

/// Remove a department that nothing refers to any more (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/departments/{id}")]
async fn delete_department(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<DepartmentId>,
) -> Result<HttpResponse, ApiError> {
    service::delete_department(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The users who act for a department (admins).
#[utoipa::path(tag = "registry", params(("id" = Uuid, Path)), responses((status = 200, body = pagination::Page<UserJson>), (status = 404)), security(("bearer" = [])))]
#[get("/departments/{id}/users")]
async fn department_users(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<DepartmentId>,
) -> Result<web::Json<pagination::Page<UserJson>>, ApiError> {
    service::get_department(&state.db, *id).await?;
    let users = service::users_of(&state, Some(*id), None).await?;
    Ok(web::Json(pagination::Page::whole(
        crate::routes::users::users_json(&state, users).await?,
    )))
}
