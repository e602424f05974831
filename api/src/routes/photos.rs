//! `GET /api/v1/photos/{id}/{rendition}`: a photo's original, preview or thumbnail, streamed
//! from storage, under the same access rules as its case; `GET /api/v1/photos/{id}/matches`:
//! the other cases' and visits' photos it matches.

use actix_web::http::header::{self, CacheControl, CacheDirective, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use entity::ids::{CaseId, PhotoId, VisitId};

use crate::auth::{Allowed, Caller, needs};
use crate::error::ApiError;
use crate::services::photos as service;
use crate::state::AppState;
use crate::storage::Rendition;

pub fn routes(cfg: &mut ServiceConfig) {
    // Before `{rendition}`, which would take `matches` for a rendition and refuse it.
    cfg.service(photo_matches).service(get_photo);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoMatchJson {
    /// The other photo.
    pub photo_id: PhotoId,
    /// Its case, when it is a case's photo.
    pub case_id: Option<CaseId>,
    pub case_no: Option<String>,
    /// Its inspection visit, when it is a visit's photo.
    pub visit_id: Option<VisitId>,
    /// `same` (the same bytes) or `similar` (a near-identical picture).
    #[schema(example = "same")]
    pub kind: &'static str,
    /// Bits between the two perceptual hashes (0 to 3; 0 for the same bytes).
    pub distance: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoMatchesResponse {
    /// Newest first, at most 20.
    pub items: Vec<PhotoMatchJson>,
}

/// The photos of other cases and visits that a photo matches: the same bytes
/// (`same_photo_on_other_case`) or a similar picture (`similar_photo_on_other_case`),
/// whichever came first. Supervisors and admins; a photo the caller cannot see is 404.
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = PhotoMatchesResponse), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/photos/{id}/matches")]
async fn photo_matches(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewEvidence>,
    id: web::Path<PhotoId>,
) -> Result<web::Json<PhotoMatchesResponse>, ApiError> {
    let found = service::matches(&state, &user, *id).await?;
    Ok(web::Json(PhotoMatchesResponse {
        items: found
            .into_iter()
            .map(|m| PhotoMatchJson {
                photo_id: m.photo_id,
                case_id: m.case_id,
                case_no: m.case_no,
                visit_id: m.visit_id,
                kind: if m.same { "same" } else { "similar" },
                distance: m.distance,
            })
            .collect(),
    }))
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
