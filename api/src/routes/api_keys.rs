//! `/api/v1/api-keys`: keys that admins issue to client apps for Open311 filing, and revoke.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, needs};
use crate::error::{ApiError, Error};
use crate::routes::departments::parse_label;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::open311 as service;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_keys)
        .service(issue_key)
        .service(revoke_key);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyJson {
    pub id: Uuid,
    /// The client app it was issued to.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<entity::api_keys::Model> for ApiKeyJson {
    fn from(k: entity::api_keys::Model) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyJson {
    #[serde(flatten)]
    pub key: ApiKeyJson,
    /// The key itself: shown this once, stored only as a hash.
    pub api_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// The client app, e.g. "市民随手拍".
    pub name: String,
}

/// The keys issued (admins); the keys themselves are never shown again.
#[utoipa::path(tag = "open311", responses((status = 200, body = pagination::Page<ApiKeyJson>)), security(("bearer" = [])))]
#[get("/api-keys")]
async fn list_keys(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
) -> Result<web::Json<pagination::Page<ApiKeyJson>>, ApiError> {
    Ok(web::Json(
        service::list_keys(&state)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Issue a key to a client app (admins). The answer carries the key once.
#[utoipa::path(tag = "open311", request_body = ApiKeyRequest, responses((status = 201, body = IssuedKeyJson), (status = 422)), security(("bearer" = [])))]
#[post("/api-keys")]
async fn issue_key(
    state: web::Data<AppState>,
    user: Allowed<needs::Administer>,
    body: Json<ApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let name = parse_label(&body.name, 100).map_err(|m| Error::invalid_field("name", m))?;
    let (key, api_key) = service::issue_key(&state, &user, name).await?;
    Ok(HttpResponse::Created()
        .insert_header(crate::routes::no_store())
        .json(IssuedKeyJson {
            key: key.into(),
            api_key,
        }))
}

/// Revoke a key (admins): filing with it is refused from now on.
#[utoipa::path(tag = "open311", params(("id" = Uuid, Path)), responses((status = 200, body = ApiKeyJson), (status = 404)), security(("bearer" = [])))]
#[delete("/api-keys/{id}")]
async fn revoke_key(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApiKeyJson>, ApiError> {
    Ok(web::Json(service::revoke_key(&state, *id).await?.into()))
}
