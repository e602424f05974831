//! Acting on a case: the life cycle's actions, the case's history and its photo uploads.

use crate::auth::Caller;
use crate::domain::{Crs, PhotoKind};
use crate::error::{ApiError, Error, Msg};
use crate::routes::extract::{Json, Query};
use crate::routes::uploads::PhotoForm;
use crate::services::photos as photo_service;
use crate::services::reports::{self as service};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use json::{CaseJson, EventJson, PhotoJson, PhotoUploadQuery, PhotoUploadResponse};

use entity::ids::{CaseId, DepartmentId, ShopfrontId};

use super::*;

/// An action on a case. `version` is the case version the caller saw (or send it as
/// `If-Match`); a stale one is refused with 409 `version_conflict`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub version: Option<i32>,
    /// Required for dispute, reject, cancel, reopen and duplicate.
    pub note: Option<String>,
    /// After photos for `rectify`, verification photos for `verify`.
    #[serde(default)]
    pub photo_ids: Vec<entity::ids::PhotoId>,
    /// For `assign`: exactly one of these.
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    /// For `duplicate`: the original case.
    pub duplicate_of: Option<CaseId>,
    /// For `request-extension`: the deadline asked for (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// For `decide-extension` and `decide-suspension`.
    pub grant: Option<bool>,
}

fn version_from(body: Option<i32>, req: &actix_web::HttpRequest) -> Result<i32, ApiError> {
    let header = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        });
    let from_header = match header {
        Some(raw) => Some(raw.parse::<i32>().map_err(|_| {
            Error::invalid_field(
                "If-Match",
                Msg::fixed("the case version, a number", "须为案件版本号"),
            )
        })?),
        None => None,
    };
    match (body, from_header) {
        (Some(a), Some(b)) if a != b => Err(Error::invalid_field(
            "version",
            Msg::fixed("body and If-Match disagree", "请求体与 If-Match 不一致"),
        )
        .into()),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(Error::invalid_field(
            "version",
            Msg::fixed("required (or send If-Match)", "必填（或使用 If-Match）"),
        )
        .into()),
    }
}

/// Take an action on a case: assign, accept, dispute, rectify, verify, reject, cancel,
/// reopen or duplicate. Who may do which, from which status, follows the life cycle; any
/// other is 409 `invalid_transition` (403 for a role that may not, 404 for a case one
/// cannot see).
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), ("action" = crate::domain::Action, Path)), request_body = ActionRequest,
    responses((status = 200, body = CaseJson), (status = 403), (status = 404), (status = 409, description = "version_conflict, invalid_transition"), (status = 422)),
    security(("bearer" = [])))]
#[post("/reports/{id}/{action}")]
pub(super) async fn act_on_report(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(CaseId, String)>,
    req: actix_web::HttpRequest,
    body: Json<ActionRequest>,
) -> Result<web::Json<CaseJson>, ApiError> {
    let (id, action) = path.into_inner();
    let action = crate::domain::Action::parse(&action).ok_or_else(Error::not_found)?;
    let body = body.into_inner();
    let version = version_from(body.version, &req)?;
    let note =
        parse_text(body.note.as_deref(), 1000).map_err(|p| Error::invalid_field("note", p))?;
    let input = crate::services::workflow::ActionInput {
        version,
        note: Some(note).filter(|n| !n.is_empty()),
        photo_ids: body.photo_ids,
        department_id: body.department_id,
        shopfront_id: body.shopfront_id,
        duplicate_of: body.duplicate_of,
        until: body.until,
        grant: body.grant,
    };
    let case = crate::services::workflow::act(&state, &user, id, action, input).await?;
    Ok(web::Json(case_json(&state, case, Crs::Wgs84).await?))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventsResponse {
    pub items: Vec<EventJson>,
    /// Whether every event's hash matches its content and the previous event's hash, every
    /// event carries a valid signature of the evidence key, and every published digest
    /// that lists the case agrees.
    pub chain_intact: bool,
    /// The first event where one of those does not hold.
    pub broken_at_seq: Option<i32>,
    /// The last event a signed daily digest vouches for (`null`: none yet).
    pub sealed_through_seq: Option<i32>,
}

/// A case's history, oldest first, with a check of its hash chain, its signatures and the
/// daily digests that list it.
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path)), responses((status = 200, body = EventsResponse), (status = 404)), security(("bearer" = [])))]
#[get("/reports/{id}/events")]
pub(super) async fn report_events(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CaseId>,
) -> Result<web::Json<EventsResponse>, ApiError> {
    let case = service::visible_case(&state, &user, *id).await?;
    let history = service::history(&state, case.id).await?;
    let check = crate::services::evidence::check(&state, case.id, &history).await?;
    Ok(web::Json(EventsResponse {
        chain_intact: check.broken_at_seq.is_none(),
        broken_at_seq: check.broken_at_seq,
        sealed_through_seq: check.sealed_through_seq,
        items: history.into_iter().map(EventJson::from).collect(),
    }))
}

/// Add photos to a case (multipart/form-data: one or more files, and `kind`).
///
/// JPEG, PNG and WebP, told from the bytes; 20 MiB and 40 megapixels at most a file; 9
/// photos of a kind per case. The kind goes in the query or in a form field before the
/// files: who may add which photo is checked before any file is read. The same bytes
/// posted again are the photo already stored (200 instead of 201).
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), PhotoUploadQuery),
    request_body(content_type = "multipart/form-data", description = "kind = before | after | verification, taken_at (RFC 3339, optional: when the photos were taken, for those whose EXIF does not say), then the files"),
    responses(
        (status = 201, body = PhotoUploadResponse),
        (status = 200, body = PhotoUploadResponse),
        (status = 408, description = "request_timeout"),
        (status = 413, description = "payload_too_large"),
        (status = 415, description = "unsupported_media_type"),
        (status = 422, description = "invalid_image, image_too_large, photo_limit_reached"),
        (status = 503, description = "storage_unavailable, server_busy"),
    ),
    security(("bearer" = [])))]
#[post("/reports/{id}/photos")]
pub(super) async fn upload_photos(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CaseId>,
    query: Query<PhotoUploadQuery>,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = PhotoForm::open(form).await?;
    let kind_raw = match (query.kind.as_deref(), form.kind.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid_field(
                "kind",
                Msg::fixed("query and form disagree", "查询参数与表单不一致"),
            )
            .into());
        }
        (Some(k), _) | (None, Some(k)) => k.to_owned(),
        (None, None) => {
            return Err(Error::invalid_field(
                "kind",
                Msg::fixed(
                    "required, in the query or before the files",
                    "必填，放在查询参数中或文件之前",
                ),
            )
            .into());
        }
    };
    let kind = PhotoKind::parse(&kind_raw).ok_or_else(|| {
        Error::invalid_field(
            "kind",
            Msg::fixed(
                "one of before, after, verification",
                "须为 before、after 或 verification",
            ),
        )
    })?;
    let owner = photo_service::case_owner(&state, &user, *id, kind).await?;
    let taken_at = form.taken_at;
    let uploads = form.files(&state, user.id, &req).await?;
    let (photos, created) =
        photo_service::add_to(&state, &user, owner, kind, &uploads.files, taken_at).await?;
    let body = PhotoUploadResponse {
        items: photos.into_iter().map(PhotoJson::from).collect(),
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
