//! `POST /api/v1/auth/login`, `/refresh`, `/logout`.

pub mod json;

use actix_web::{HttpRequest, HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::client;
use crate::error::{ApiError, Error, Msg};
use crate::routes::extract::Json;
use crate::services::sessions;
use crate::state::AppState;
use json::{LoginRequest, RefreshRequest, TokenResponse};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login).service(refresh).service(logout);
}

/// Sign in with username and password.
///
/// Five wrong passwords for one account, or twenty from one address, within 15 minutes
/// lock further attempts for 15 minutes (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid_credentials"),
        (status = 403, description = "account_disabled"),
        (status = 429, description = "too_many_login_attempts"),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        username,
        password,
        device_id,
    } = body.into_inner();
    let device = device_id
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if device.is_some_and(|d| d.chars().count() > 100 || d.chars().any(char::is_control)) {
        return Err(Error::invalid_field(
            "device_id",
            Msg::fixed("at most 100 printable characters", "至多 100 个可打印字符"),
        )
        .into());
    }
    let address = client::address_text(&req, &state.settings.trusted_proxies);
    let from = sessions::SignInFrom {
        address: &address,
        device,
    };
    let session = sessions::login(&state, &username, password, from).await?;
    Ok(tokens(session))
}

/// An answer carrying tokens.
pub fn tokens(session: sessions::Session) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(crate::routes::no_store())
        .json(TokenResponse::from(session))
}

/// Exchange a refresh token for a new access and refresh token.
///
/// Each refresh token works once. Presenting a spent one revokes every token of that
/// sign-in: it means the token was copied.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "unauthorized"))
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let session = sessions::refresh(&state, &body.refresh_token).await?;
    Ok(tokens(session))
}

/// End a sign-in: its refresh tokens stop working. Works with an expired access token.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204)))]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    sessions::logout(&state, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
