//! Outbound webhooks: who is told of which case events, and how. Sending is `notify`'s.

use entity::ids::DepartmentId;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use uuid::Uuid;

use crate::error::{Error, FieldErrors, Msg};
use crate::services::assignment::bump_version;
use crate::services::notify::{Notice, WebhookFormat};
use crate::services::now;
use crate::services::outbound::OutboundPolicy;
use crate::state::AppState;

/// A webhook as asked for, unchecked.
pub struct WebhookRequest {
    pub url: String,
    pub department_id: Option<DepartmentId>,
    pub events: Vec<String>,
    pub format: Option<String>,
    pub secret: Option<String>,
}

pub async fn list(state: &AppState) -> Result<Vec<entity::webhooks::Model>, Error> {
    Ok(entity::webhooks::Entity::find()
        .order_by_asc(entity::webhooks::Column::Id)
        .all(&state.db)
        .await?)
}

/// Checks and adds a webhook; answers it with its signing key, shown this once.
pub async fn create(
    state: &AppState,
    request: WebhookRequest,
) -> Result<(entity::webhooks::Model, String), Error> {
    let mut errors = FieldErrors::default();
    errors.check(
        "url",
        OutboundPolicy::of(&state.settings)
            .check_url(&request.url)
            .await
            .map(drop),
    );
    if request.events.is_empty() || request.events.iter().any(|e| Notice::parse(e).is_none()) {
        errors.add(
            "events",
            Msg::fixed(
                "one or more of assigned, overdue, rectified, closed, reopened",
                "须为 assigned、overdue、rectified、closed、reopened 中的一个或多个",
            ),
        );
    }
    let format = match request.format.as_deref() {
        None => Some(WebhookFormat::Json),
        Some(raw) => WebhookFormat::parse(raw),
    };
    if format.is_none() {
        errors.add(
            "format",
            Msg::fixed("json, dingtalk or wecom", "须为 json、dingtalk 或 wecom"),
        );
    }
    let secret = request
        .secret
        .unwrap_or_else(crate::auth::refresh::generate);
    if secret.len() < 16 {
        errors.add(
            "secret",
            Msg::fixed("at least 16 characters", "至少 16 个字符"),
        );
    }
    errors.finish()?;
    if let Some(department) = request.department_id {
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
        url: Set(request.url),
        secret: Set(secret.clone()),
        department_id: Set(request.department_id),
        events: Set(serde_json::to_string(&request.events).map_err(Error::internal)?),
        format: Set(format.unwrap_or(WebhookFormat::Json).as_str().to_owned()),
        active: Set(true),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok((created, secret))
}

/// Removes a webhook and its undelivered notices.
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let deleted = entity::webhooks::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found());
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}
