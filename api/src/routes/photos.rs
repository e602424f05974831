//! `GET /api/v1/photos/{id}/{rendition}`: a photo's original, preview or thumbnail, streamed
//! from storage, under the same access rules as its case.

use actix_web::http::header::{self, CacheControl, CacheDirective, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::services::photos as service;
use crate::state::AppState;
use crate::storage::Rendition;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_photo);
}

/// A photo object. Photos never change, so the `ETag` (the original's SHA-256 and the
/// rendition) can be cached for good; `If-None-Match` gets 304 without touching storage.
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), ("rendition" = Rendition, Path)),
    responses(
        (status = 200, content_type = "image/jpeg", description = "the image"),
        (status = 304), (status = 404), (status = 503)),
    security(("bearer" = [])))]
#[get("/photos/{id}/{rendition}")]
async fn get_photo(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(entity::ids::PhotoId, Rendition)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, rendition) = path.into_inner();
    let photo = service::visible_photo(&state, &user, id).await?;
    let etag = EntityTag::new_strong(format!("{}-{}", photo.sha256, rendition.as_str()));
    let cache = CacheControl(vec![
        CacheDirective::Private,
        CacheDirective::MaxAge(31_536_000),
        CacheDirective::Extension("immutable".into(), None),
    ]);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == etag.to_string() || t.trim() == "*")
        });
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(etag))
            .insert_header(cache)
            .finish());
    }
    let (content_type, stream, length) = service::rendition(&state, &photo, rendition).await?;
    let mut response = HttpResponse::Ok();
    response
        .content_type(content_type)
        .insert_header(ETag(etag))
        .insert_header(cache)
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if let Some(length) = length.and_then(|l| u64::try_from(l).ok()) {
        response.no_chunking(length);
    }
    Ok(response.streaming(stream))
}
