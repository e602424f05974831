//! `/api/v1/me`: the signed-in user, and changing one's own password.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::NewPassword;
use crate::error::{ApiError, Error};
use crate::routes::auth::json::TokenResponse;
use crate::routes::extract::Json;
use crate::routes::users::json::UserJson;
use crate::services::{sessions, users};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(me).service(change_password);
}

/// The signed-in user.
#[utoipa::path(tag = "auth", responses((status = 200, body = UserJson), (status = 401)),
    security(("bearer" = [])))]
#[get("/me")]
async fn me(state: web::Data<AppState>, user: Caller) -> Result<web::Json<UserJson>, ApiError> {
    let account = users::get(&state, user.id).await?;
    Ok(web::Json(
        crate::routes::users::user_json(&state, account).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password. Every other session ends; the response starts a new one.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 200, body = TokenResponse), (status = 422), (status = 429)),
    security(("bearer" = []))
)]
#[post("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    user: Caller,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewPassword::parse(&body.new_password)
        .map_err(|problem| Error::invalid_field("new_password", problem))?;
    let session =
        sessions::change_own_password(&state, user.id, body.current_password, new).await?;
    Ok(crate::routes::auth::tokens(session))
}
