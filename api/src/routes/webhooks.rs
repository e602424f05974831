//! `/api/v1/webhooks`: outbound notices (admins).

use actix_web::{HttpResponse, delete, get, post, web};
use entity::ids::DepartmentId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, needs};
use crate::error::ApiError;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::webhooks::{self as service, WebhookRequest};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(delete_webhook);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookJson {
    pub id: Uuid,
    pub url: String,
    /// `null`: every case; otherwise the cases of one department (and its shops).
    pub department_id: Option<DepartmentId>,
    pub events: Vec<String>,
    pub format: String,
    pub active: bool,
    /// Only in the answer to creation: the HMAC key for `X-Xuncha-Signature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<entity::webhooks::Model> for WebhookJson {
    fn from(w: entity::webhooks::Model) -> Self {
        Self {
            id: w.id,
            url: w.url,
            department_id: w.department_id,
            events: serde_json::from_str(&w.events).unwrap_or_default(),
            format: w.format,
            active: w.active,
            secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    pub url: String,
    pub department_id: Option<DepartmentId>,
    /// Any of assigned, overdue, rectified, closed, reopened.
    pub events: Vec<String>,
    /// json (default), dingtalk or wecom.
    pub format: Option<String>,
    /// The signing key; generated when left out.
    pub secret: Option<String>,
}

/// Outbound webhooks.
#[utoipa::path(tag = "webhooks", responses((status = 200, body = pagination::Page<WebhookJson>)), security(("bearer" = [])))]
#[get("/webhooks")]
async fn list_webhooks(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
) -> Result<web::Json<pagination::Page<WebhookJson>>, ApiError> {
    let rows = service::list(&state).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a webhook. Each notice is POSTed as JSON with `X-Xuncha-Event`,
/// `X-Xuncha-Delivery`, `X-Xuncha-Timestamp` and `X-Xuncha-Signature: sha256=<hex HMAC-SHA256
/// of "<timestamp>.<body>">`; failures are retried with backoff.
#[utoipa::path(tag = "webhooks", request_body = CreateWebhookRequest, responses((status = 201, body = WebhookJson), (status = 422)), security(("bearer" = [])))]
#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (created, secret) = service::create(
        &state,
        WebhookRequest {
            url: body.url,
            department_id: body.department_id,
            events: body.events,
            format: body.format,
            secret: body.secret,
        },
    )
    .await?;
    let mut json = WebhookJson::from(created);
    json.secret = Some(secret);
    Ok(HttpResponse::Created()
        .insert_header(crate::routes::no_store())
        .json(json))
}

/// Remove a webhook and its undelivered notices.
#[utoipa::path(tag = "webhooks", params(("id" = Uuid, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/webhooks/{id}")]
async fn delete_webhook(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
