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

    /// The account behind a verified token: 401 when it is gone, disabled, or its password
    /// changed after the token was issued.
    pub fn of_account(
        account: Option<entity::users::Model>,
        signed_in: &SignedIn,
    ) -> Result<Self, ApiError> {
        let user = account.ok_or_else(ApiError::unauthorized)?;
        if user.disabled
            || user.password_changed_at.timestamp_millis() != signed_in.password_epoch_ms
        {
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
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let signed_in = SignedIn::from_request(req, payload).into_inner();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            let signed_in = signed_in?;
            let account = entity::users::Entity::find_by_id(signed_in.user_id)
                .one(&state.db)
                .await?;
            CurrentUser::of_account(account, &signed_in)
        })
    }
}

/// A valid access token whose account is not read yet. Filing, the busiest write, reads
/// the account in the statement that reads everything else it needs and then checks it
/// with [`CurrentUser::of_account`]; every other handler takes `CurrentUser`.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    pub user_id: Uuid,
    /// The account's `password_changed_at` (ms) when the token was issued.
    pub password_epoch_ms: i64,
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let claims = req
            .app_data::<web::Data<AppState>>()
            .zip(bearer_token(req))
            .and_then(|(state, token)| state.jwt.verify(&token));
        std::future::ready(
            claims
                .map(|c| SignedIn {
                    user_id: c.sub,
                    password_epoch_ms: c.pwd,
                })
                .ok_or_else(ApiError::unauthorized),
        )
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
