//! `/api/v1/checklists`: scored checklist templates (考核表).

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, needs};
use crate::domain::inspection::parse_max_points;
use crate::error::{ApiError, FieldErrors, Msg};
use crate::routes::departments::parse_label;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::inspections::checklists::{
    self as service, Checklist, ChecklistInput, ItemInput,
};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_checklists)
        .service(get_checklist)
        .service(create_checklist)
        .service(update_checklist)
        .service(delete_checklist);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistItemJson {
    pub id: Uuid,
    pub title: String,
    pub max_points: f64,
    /// A deduction on this item files a case of this category at the site.
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistJson {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The sum of the items' maximum points.
    pub total_points: f64,
    pub items: Vec<ChecklistItemJson>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Checklist> for ChecklistJson {
    fn from((c, items): Checklist) -> Self {
        Self {
            id: c.id,
            name: c.name,
            description: c.description,
            total_points: items.iter().map(|i| i.max_points).sum(),
            items: items
                .into_iter()
                .map(|i| ChecklistItemJson {
                    id: i.id,
                    title: i.title,
                    max_points: i.max_points,
                    category: i.category_code,
                })
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemRequest {
    pub title: String,
    /// 0.5 to 100, in steps of 0.5.
    pub max_points: f64,
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistRequest {
    pub name: String,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub description: String,
    /// 1 to 200 items, in the order inspectors score them.
    pub items: Vec<ChecklistItemRequest>,
}

fn parse(body: ChecklistRequest) -> Result<ChecklistInput, ApiError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_label(&body.name, 100));
    if body.description.chars().count() > 2000 {
        errors.add(
            "description",
            Msg::fixed("at most 2000 characters", "最多 2000 个字符"),
        );
    }
    if !(1..=200).contains(&body.items.len()) {
        errors.add(
            "items",
            Msg::fixed("1 to 200 items", "须有 1 到 200 个条目"),
        );
    }
    let mut items = Vec::with_capacity(body.items.len());
    for (i, item) in body.items.into_iter().enumerate() {
        let title = errors.check(&format!("items[{i}].title"), parse_label(&item.title, 200));
        let max_points = errors.check(
            &format!("items[{i}].max_points"),
            parse_max_points(item.max_points),
        );
        if let (Some(title), Some(max_points)) = (title, max_points) {
            items.push(ItemInput {
                title,
                max_points,
                category: item.category,
            });
        }
    }
    errors.finish()?;
    Ok(ChecklistInput {
        name: name.unwrap_or_default(),
        description: body.description.trim().to_owned(),
        items,
    })
}

/// Checklists (supervisors, admins and inspectors, who score with them).
#[utoipa::path(tag = "inspections", responses((status = 200, body = pagination::Page<ChecklistJson>)), security(("bearer" = [])))]
#[get("/checklists")]
async fn list_checklists(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadChecklists>,
) -> Result<web::Json<pagination::Page<ChecklistJson>>, ApiError> {
    Ok(web::Json(
        service::list(&state)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One checklist.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = ChecklistJson), (status = 404)), security(("bearer" = [])))]
#[get("/checklists/{id}")]
async fn get_checklist(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReadChecklists>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ChecklistJson>, ApiError> {
    Ok(web::Json(service::get(&state.db, *id).await?.into()))
}

/// Add a checklist (supervisors and admins).
#[utoipa::path(tag = "inspections", request_body = ChecklistRequest, responses((status = 201, body = ChecklistJson), (status = 422)), security(("bearer" = [])))]
#[post("/checklists")]
async fn create_checklist(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageChecklists>,
    body: Json<ChecklistRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, parse(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(ChecklistJson::from(created)))
}

/// Replace a checklist no campaign uses (409 once one does).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), request_body = ChecklistRequest, responses((status = 200, body = ChecklistJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[put("/checklists/{id}")]
async fn update_checklist(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageChecklists>,
    id: web::Path<Uuid>,
    body: Json<ChecklistRequest>,
) -> Result<web::Json<ChecklistJson>, ApiError> {
    Ok(web::Json(
        service::update(&state, *id, parse(body.into_inner())?)
            .await?
            .into(),
    ))
}

/// Remove a checklist no campaign uses.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
#[delete("/checklists/{id}")]
async fn delete_checklist(
    state: web::Data<AppState>,
    _user: Allowed<needs::ManageChecklists>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
