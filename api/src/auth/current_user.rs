//! The signed-in user, as an extractor: a handler that takes `CurrentUser` cannot run for
//! an anonymous caller, a disabled account or a token older than the last password change.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub department_id: Option<Uuid>,
    pub shopfront_id: Option<Uuid>,
}

impl CurrentUser {
    /// 403 unless the user holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            let claims = token
                .and_then(|t| state.jwt.verify(&t))
                .ok_or_else(ApiError::unauthorized)?;
            let user = entity::users::Entity::find_by_id(claims.sub)
                .one(&state.db)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            if user.disabled || user.password_changed_at.timestamp_millis() != claims.pwd {
                return Err(ApiError::unauthorized());
            }
            let role = Role::parse(&user.role).ok_or_else(|| {
                ApiError::internal(format!("user {} has role {}", user.id, user.role))
            })?;
            Ok(CurrentUser {
                id: user.id,
                username: user.username,
                role,
                department_id: user.department_id,
                shopfront_id: user.shopfront_id,
            })
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}
