//! `/api/v1/categories`: everyone signed in reads them; admins add, edit and deactivate.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, Caller, needs};
use crate::domain::calendar::DeadlineUnit;
use crate::domain::case::parse_category_code;
use crate::domain::question::{Question, parse_questions};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::{Json, Query};
use crate::routes::pagination;
use crate::services::categories::{self as service, CategoryChange, NewCategory};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_categories)
        .service(get_category)
        .service(create_category)
        .service(update_category);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryJson {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Falls to the shop when inside its frontage zone (门前三包).
    pub frontage: bool,
    /// The limit, in `deadline_unit`s (hours, or days for `working_days`).
    pub deadline_hours: i32,
    /// `calendar_hours`, `working_hours` or `working_days` (on the working calendar).
    pub deadline_unit: crate::domain::calendar::DeadlineUnit,
    pub active: bool,
    /// Extra questions asked when filing (Open311 attributes).
    pub attributes: Vec<Question>,
}

impl From<entity::categories::Model> for CategoryJson {
    fn from(c: entity::categories::Model) -> Self {
        let attributes = service::questions_of(&c);
        Self {
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            frontage: c.frontage,
            deadline_hours: c.deadline_hours,
            deadline_unit: c.deadline_unit,
            attributes,
            active: c.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub frontage: bool,
    pub deadline_hours: i32,
    /// Default `calendar_hours`.
    #[serde(default)]
    pub deadline_unit: Option<DeadlineUnit>,
    /// Extra questions asked when filing (Open311 attributes).
    #[serde(default)]
    pub attributes: Vec<Question>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryRequest {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub frontage: Option<bool>,
    pub deadline_hours: Option<i32>,
    pub deadline_unit: Option<DeadlineUnit>,
    pub active: Option<bool>,
    pub attributes: Option<Vec<Question>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCategoriesQuery {
    /// Admins only: include deactivated categories.
    #[serde(default)]
    pub include_inactive: bool,
}

fn parse_name(raw: &str) -> Result<String, Msg> {
    let name = raw.trim();
    if (1..=50).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(Msg::fixed("1-50 characters", "1-50 个字符"))
    }
}

/// From one hour to a year.
fn parse_deadline_hours(hours: i32) -> Result<i32, Msg> {
    if (1..=8760).contains(&hours) {
        Ok(hours)
    } else {
        Err(Msg::fixed(
            "from 1 to 8760 hours",
            "须在 1 到 8760 小时之间",
        ))
    }
}

/// The categories a case can be filed under.
#[utoipa::path(tag = "categories", params(ListCategoriesQuery),
    responses((status = 200, body = pagination::Page<CategoryJson>)), security(("bearer" = [])))]
#[get("/categories")]
async fn list_categories(
    state: web::Data<AppState>,
    user: Caller,
    query: Query<ListCategoriesQuery>,
) -> Result<web::Json<pagination::Page<CategoryJson>>, ApiError> {
    let rows = service::list(&state, &user, query.include_inactive).await?;
    Ok(web::Json(
        rows.into_iter().map(CategoryJson::from).collect(),
    ))
}

/// One category.
#[utoipa::path(tag = "categories", params(("code" = String, Path)),
    responses((status = 200, body = CategoryJson), (status = 404)), security(("bearer" = [])))]
#[get("/categories/{code}")]
async fn get_category(
    state: web::Data<AppState>,
    _user: Caller,
    code: web::Path<String>,
) -> Result<web::Json<CategoryJson>, ApiError> {
    Ok(web::Json(service::get(&state, &code).await?.into()))
}

/// Add a category (admins).
#[utoipa::path(tag = "categories", request_body = CreateCategoryRequest,
    responses((status = 201, body = CategoryJson), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/categories")]
async fn create_category(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<CreateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let code = errors.check("code", parse_category_code(&body.code));
    let name_zh = errors.check("name_zh", parse_name(&body.name_zh));
    let name_en = errors.check("name_en", parse_name(&body.name_en));
    let deadline_hours = errors.check("deadline_hours", parse_deadline_hours(body.deadline_hours));
    let attributes = errors.check("attributes", parse_questions(body.attributes.clone()));
    let (Some(code), Some(name_zh), Some(name_en), Some(deadline_hours), Some(attributes)) =
        (code, name_zh, name_en, deadline_hours, attributes)
    else {
        return Err(Error::invalid(errors).into());
    };
    let created = service::create(
        &state,
        NewCategory {
            code,
            name_zh,
            name_en,
            frontage: body.frontage,
            deadline_hours,
            deadline_unit: body.deadline_unit.unwrap_or(DeadlineUnit::CalendarHours),
            attributes,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(CategoryJson::from(created)))
}

/// Edit or deactivate a category (admins). A deactivated category takes no new cases.
#[utoipa::path(tag = "categories", params(("code" = String, Path)),
    request_body = UpdateCategoryRequest,
    responses((status = 200, body = CategoryJson), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[patch("/categories/{code}")]
async fn update_category(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    code: web::Path<String>,
    body: Json<UpdateCategoryRequest>,
) -> Result<web::Json<CategoryJson>, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let change = CategoryChange {
        name_zh: body
            .name_zh
            .as_deref()
            .and_then(|v| errors.check("name_zh", parse_name(v))),
        name_en: body
            .name_en
            .as_deref()
            .and_then(|v| errors.check("name_en", parse_name(v))),
        frontage: body.frontage,
        deadline_hours: body
            .deadline_hours
            .and_then(|v| errors.check("deadline_hours", parse_deadline_hours(v))),
        deadline_unit: body.deadline_unit,
        active: body.active,
        attributes: body
            .attributes
            .and_then(|v| errors.check("attributes", parse_questions(v))),
    };
    errors.finish()?;
    Ok(web::Json(
        service::update(&state, &code, change).await?.into(),
    ))
}
