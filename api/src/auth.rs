//! Reading the caller from a request. Who the caller is and what they may do live in
//! `xuncha_core::auth`; this module only turns a bearer token into them.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

pub use xuncha_core::auth::{CurrentUser, SignedIn, jwt, password, policy, refresh, throttle};
use xuncha_core::error::Error;
use xuncha_core::state::AppState;

use crate::error::ApiError;

/// The signed-in user, as an extractor: a handler that takes `Caller` cannot run for an
/// anonymous caller, a disabled account or a token older than the last password change.
#[derive(Clone, Debug)]
pub struct Caller(pub CurrentUser);

impl Deref for Caller {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = Token::from_request(req, payload).into_inner();
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("AppState missing"))?;
            let Token(signed_in) = token?;
            Ok(Caller(CurrentUser::load(&state.db, &signed_in).await?))
        })
    }
}

/// A valid access token whose account is not read yet (see [`SignedIn`]).
#[derive(Clone, Copy, Debug)]
pub struct Token(pub SignedIn);

impl FromRequest for Token {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let claims = req
            .app_data::<web::Data<AppState>>()
            .zip(bearer_token(req))
            .and_then(|(state, token)| state.jwt.verify(&token));
        std::future::ready(
            claims
                .map(|c| {
                    Token(SignedIn {
                        user_id: c.sub,
                        password_epoch_ms: c.pwd,
                    })
                })
                .ok_or_else(|| Error::unauthorized().into()),
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
