//! `/api/v1/webhooks`: outbound notices (admins).

use actix_web::{HttpResponse, delete, get, post, web};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Caller, policy};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::assignment::bump_version;
use crate::services::notify::{Notice, WebhookFormat};
use crate::services::now;
use crate::services::outbound::OutboundPolicy;
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
    pub department_id: Option<Uuid>,
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
    pub department_id: Option<Uuid>,
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
    user: Caller,
) -> Result<web::Json<pagination::Page<WebhookJson>>, ApiError> {
    policy::may_administer(&user)?;
    let rows = entity::webhooks::Entity::find()
        .order_by_asc(entity::webhooks::Column::Id)
        .all(&state.db)
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a webhook. Each notice is POSTed as JSON with `X-Xuncha-Event`,
/// `X-Xuncha-Delivery`, `X-Xuncha-Timestamp` and `X-Xuncha-Signature: sha256=<hex HMAC-SHA256
/// of "<timestamp>.<body>">`; failures are retried with backoff.
#[utoipa::path(tag = "webhooks", request_body = CreateWebhookRequest, responses((status = 201, body = WebhookJson), (status = 422)), security(("bearer" = [])))]
#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    user: Caller,
    body: Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    policy::may_administer(&user)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    errors.check(
        "url",
        OutboundPolicy::of(&state.settings)
            .check_url(&body.url)
            .await
            .map(drop),
    );
    if body.events.is_empty() || body.events.iter().any(|e| Notice::parse(e).is_none()) {
        errors.add(
            "events",
            Msg::fixed(
                "one or more of assigned, overdue, rectified, closed, reopened",
                "须为 assigned、overdue、rectified、closed、reopened 中的一个或多个",
            ),
        );
    }
    let format = match body.format.as_deref() {
        None => Some(WebhookFormat::Json),
        Some(raw) => WebhookFormat::parse(raw),
    };
    if format.is_none() {
        errors.add(
            "format",
            Msg::fixed("json, dingtalk or wecom", "须为 json、dingtalk 或 wecom"),
        );
    }
    let secret = body.secret.unwrap_or_else(crate::auth::refresh::generate);
    if secret.len() < 16 {
        errors.add(
            "secret",
            Msg::fixed("at least 16 characters", "至少 16 个字符"),
        );
    }
    errors.finish()?;
    if let Some(department) = body.department_id {
        crate::services::registry::get_department(&state.db, department)
            .await
            .map_err(|_| {
                Error::invalid_field(
                    "department_id",
                    Msg::fixed("no such department", "部门不存在"),
                )
            })?;
    }
    // Filings read webhooks from the registry snapshot, so a change bumps its version.
    let txn = crate::services::begin_write(&state.db).await?;
    let created = entity::webhooks::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(body.url),
        secret: Set(secret.clone()),
        department_id: Set(body.department_id),
        events: Set(serde_json::to_string(&body.events).map_err(Error::internal)?),
        format: Set(format.unwrap_or(WebhookFormat::Json).as_str().to_owned()),
        active: Set(true),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    bump_version(&txn).await?;
    txn.commit().await?;
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
    user: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    policy::may_administer(&user)?;
    let txn = crate::services::begin_write(&state.db).await?;
    let deleted = entity::webhooks::Entity::delete_by_id(*id)
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found().into());
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
