//! HTTP routes: thin handlers that extract, parse into domain types, call one service and
//! map the result. Request and response shapes live in a `json.rs` beside them.

pub mod api_keys;
pub mod areas;
pub mod assignment_rules;
pub mod auth;
pub mod calendar;
pub mod campaigns;
pub mod categories;
pub mod checklists;
pub mod departments;
pub mod direct_uploads;
pub mod docs;
pub mod evidence;
pub mod extract;
pub mod fields;
pub mod health;
pub mod limits;
pub mod location;
pub mod map;
pub mod me;
pub mod offline;
pub mod open311;
pub mod pagination;
pub mod photos;
pub mod push;
pub mod queue;
pub mod reports;
pub mod shopfronts;
pub mod sites;
pub mod sync;
pub mod uploads;
pub mod users;
pub mod web_app;
pub mod webhooks;

use actix_web::web;
use futures_util::StreamExt;
use utoipa_actix_web::scope;

use crate::error::{ApiError, Error, ErrorCode};

/// For answers that carry a secret (tokens, an API key, a webhook's signing key): no
/// cache, shared or private, may keep them.
pub fn no_store() -> actix_web::http::header::CacheControl {
    use actix_web::http::header::{CacheControl, CacheDirective};
    CacheControl(vec![CacheDirective::NoStore])
}

/// Registry imports (GeoJSON areas, CSV/XLSX shopfronts) may be this large.
pub const IMPORT_LIMIT_BYTES: usize = 64 * 1024 * 1024;

/// Reads a whole request body up to `limit` bytes (413 beyond).
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<bytes::Bytes, ApiError> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| crate::error::extractors::payload_error(&e))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(ErrorCode::PayloadTooLarge).into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
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
            .configure(departments::routes)
            .configure(areas::routes)
            .configure(assignment_rules::routes)
            .configure(offline::routes)
            .configure(limits::routes)
            .configure(map::routes)
            .configure(sync::routes)
            .configure(push::routes)
            .configure(direct_uploads::routes)
            .configure(shopfronts::routes)
            .configure(queue::routes)
            .configure(calendar::routes)
            .configure(webhooks::routes)
            .configure(sites::routes)
            .configure(checklists::routes)
            .configure(campaigns::routes)
            .configure(api_keys::routes)
            .configure(evidence::routes)
            .map(|scope| {
                scope.route(
                    "/openapi.json",
                    actix_web::web::get().to(docs::openapi_json),
                )
            }),
    );
}
