//! Reading the caller from a request. Who the caller is and what they may do live in
//! `xuncha_core::auth`; this module only turns a bearer token into them.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use xuncha_core::auth::policy::Permission;
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

/// An operation that needs a permission (see `needs`).
pub trait Needs {
    const PERMISSION: Permission;
}

/// The signed-in user, holding the permission `P` as the policy says: a handler that takes
/// `Allowed<needs::Administer>` declares what it needs, and the policy decides, before
/// the body is read (403 otherwise).
pub struct Allowed<P: Needs>(pub CurrentUser, PhantomData<P>);

impl<P: Needs> Deref for Allowed<P> {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl<P: Needs + 'static> FromRequest for Allowed<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let (decided, gate) = tokio::sync::watch::channel(false);
        req.extensions_mut().insert(PermissionGate(gate));
        Box::pin(async move {
            // Told on every way out, errors included.
            let _decided = Decided(decided);
            let Caller(user) = caller.await?;
            policy::require(&user, P::PERMISSION)?;
            Ok(Allowed(user, PhantomData))
        })
    }
}

/// Held by the body extractors of a request whose handler takes an [`Allowed`]: actix
/// extracts a handler's arguments at once, so the body waits here until the permission is
/// decided, and a caller without it gets 403 before any of its body is read or judged.
#[derive(Clone)]
pub struct PermissionGate(tokio::sync::watch::Receiver<bool>);

impl PermissionGate {
    /// Waits until the request's permission is decided, if its handler needs one. Called
    /// from a body extractor's future: actix creates every argument's future before it
    /// polls any, so the gate is in place whatever the order of the handler's arguments.
    pub async fn wait(req: &HttpRequest) {
        let gate = req.extensions().get::<Self>().cloned();
        if let Some(PermissionGate(mut decided)) = gate {
            // A dropped sender (the extraction was abandoned) ends the wait too.
            let _ = decided.wait_for(|decided| *decided).await;
        }
    }
}

struct Decided(tokio::sync::watch::Sender<bool>);

impl Drop for Decided {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// One marker per permission, for [`Allowed`].
pub mod needs {
    use super::{Needs, Permission};

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {
            $(
                pub struct $name;
                impl Needs for $name {
                    const PERMISSION: Permission = Permission::$name;
                }
            )*
        };
    }

    markers!(
        Administer,
        ReadRegistry,
        FileReports,
        ManageSites,
        ManageChecklists,
        ReadChecklists,
        RunCampaigns,
        ReviewResults,
        ReviewEvidence,
    );
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

pub(crate) fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}
