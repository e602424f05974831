//! `/api/v1/push/…`: Web Push for the signed-in user's devices — the server's VAPID key
//! that a browser subscribes with, and the subscriptions it gives back
//! (`xuncha_core::services::push`, `docs/mobile.md`).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use entity::ids::PushSubscriptionId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::push::subscriptions::{self as service, NewSubscription};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(push_key)
        .service(list_subscriptions)
        .service(subscribe)
        .service(delete_subscription);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushKeyJson {
    /// The server's VAPID public key (base64url, an uncompressed P-256 point): the
    /// `applicationServerKey` of `pushManager.subscribe`.
    pub public_key: String,
}

/// The key a browser subscribes with. It is public, and changes only with
/// `XUNCHA_VAPID_PRIVATE_KEY` (or, unset, the token signing secret).
#[utoipa::path(tag = "push", responses((status = 200, body = PushKeyJson)))]
#[get("/push/key")]
async fn push_key(state: web::Data<AppState>) -> web::Json<PushKeyJson> {
    web::Json(PushKeyJson {
        public_key: state.vapid.public_key().to_owned(),
    })
}

/// The keys of a subscription, as the browser gives them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushKeysJson {
    /// The device's P-256 public key, base64url of its 65-byte uncompressed point.
    pub p256dh: String,
    /// The device's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// What `PushSubscription.toJSON()` gives, as it gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// The push service's URL for this device: https, on a public address.
    pub endpoint: String,
    /// When the subscription ends, in milliseconds since 1970, or `null`.
    #[serde(rename = "expirationTime", default)]
    pub expiration_time: Option<f64>,
    pub keys: PushKeysJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionJson {
    pub id: PushSubscriptionId,
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When a message last reached the push service for it.
    pub last_success_at: Option<DateTime<Utc>>,
}

impl From<entity::push_subscriptions::Model> for SubscriptionJson {
    fn from(s: entity::push_subscriptions::Model) -> Self {
        Self {
            id: s.id,
            endpoint: s.endpoint,
            created_at: s.created_at,
            expires_at: s.expires_at,
            last_success_at: s.last_success_at,
        }
    }
}

/// Your devices' subscriptions, oldest first.
#[utoipa::path(tag = "push", responses((status = 200, body = pagination::Page<SubscriptionJson>)), security(("bearer" = [])))]
#[get("/push/subscriptions")]
async fn list_subscriptions(
    state: web::Data<AppState>,
    user: Caller,
) -> Result<web::Json<pagination::Page<SubscriptionJson>>, ApiError> {
    let rows = service::list(&state, user.id).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Subscribe this device: post the browser's `PushSubscription.toJSON()`. 201 for a new
/// endpoint; 200 when the endpoint is known (its keys are replaced and it becomes yours:
/// an endpoint is one browser on one device). A user keeps at most 10; an 11th replaces
/// the oldest.
#[utoipa::path(tag = "push", request_body = SubscribeRequest, responses((status = 201, body = SubscriptionJson), (status = 200, body = SubscriptionJson), (status = 422)), security(("bearer" = [])))]
#[post("/push/subscriptions")]
async fn subscribe(
    state: web::Data<AppState>,
    user: Caller,
    body: Json<SubscribeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (kept, created) = service::subscribe(
        &state,
        &user,
        NewSubscription {
            endpoint: body.endpoint,
            expiration_ms: body.expiration_time,
            p256dh: body.keys.p256dh,
            auth: body.keys.auth,
        },
    )
    .await?;
    let mut answer = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(answer.json(SubscriptionJson::from(kept)))
}

/// Unsubscribe one of your devices (on sign-out, or when the browser unsubscribes).
#[utoipa::path(tag = "push", params(("id" = PushSubscriptionId, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/push/subscriptions/{id}")]
async fn delete_subscription(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<PushSubscriptionId>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, user.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
