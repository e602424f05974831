//! HTTP routes: thin handlers that extract, parse into domain types, call one service and
//! map the result. Request and response shapes live in a `json.rs` beside them.

pub mod auth;
pub mod categories;
pub mod docs;
pub mod health;
pub mod me;
pub mod pagination;
pub mod photos;
pub mod reports;
pub mod users;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`, including the OpenAPI document itself.
pub fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api/v1")
            .configure(auth::routes)
            .configure(me::routes)
            .configure(users::routes)
            .configure(categories::routes)
            .configure(reports::routes)
            .configure(photos::routes)
            .map(|scope| {
                scope.route(
                    "/openapi.json",
                    actix_web::web::get().to(docs::openapi_json),
                )
            }),
    );
}
