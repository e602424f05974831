//! A campaign's visits: recording them with their scores, reading them, adding their photos.

use crate::auth::Caller;
use crate::error::{ApiError, Error, Msg};
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::routes::reports::json::{PhotoJson, PhotoUploadResponse};
use crate::services::inspections::visits::{self, ItemScore, Recorded, VisitInput};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::ids::{CampaignId, SiteId, UserId};

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreJson {
    pub item_id: Uuid,
    pub score: f64,
    pub max_points: f64,
    pub note: String,
    /// The case the deduction filed.
    pub case_id: Option<entity::ids::CaseId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitJson {
    pub id: entity::ids::VisitId,
    pub client_id: Uuid,
    pub campaign_id: CampaignId,
    pub site_id: SiteId,
    pub inspector_id: UserId,
    pub visited_at: DateTime<Utc>,
    pub notes: String,
    pub score: f64,
    pub max_score: f64,
    pub scores: Vec<ScoreJson>,
    pub photos: Vec<PhotoJson>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<visits::VisitDetails> for VisitJson {
    fn from(d: visits::VisitDetails) -> Self {
        let v = d.visit;
        Self {
            id: v.id,
            client_id: v.client_id,
            campaign_id: v.campaign_id,
            site_id: v.site_id,
            inspector_id: v.inspector_id,
            visited_at: v.visited_at,
            notes: v.notes,
            score: v.score,
            max_score: v.max_score,
            scores: d
                .scores
                .into_iter()
                .map(|s| ScoreJson {
                    item_id: s.item_id,
                    score: s.score,
                    max_points: s.max_points,
                    note: s.note,
                    case_id: s.case_id,
                })
                .collect(),
            photos: d.photos.into_iter().map(PhotoJson::from).collect(),
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    pub item_id: Uuid,
    /// 0 to the item's maximum, in steps of 0.5.
    pub score: f64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRequest {
    /// The phone's id for this visit: posting it again returns the same visit.
    pub client_id: Uuid,
    pub site_id: SiteId,
    /// When the inspector was there (default: now).
    pub visited_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::routes::extract::text_or_null")]
    pub notes: String,
    /// One score per checklist item.
    pub scores: Vec<ScoreRequest>,
}

/// The visits of a campaign: all of them for those who see the campaign; for a
/// department or shopfront, the visits recorded at the sites it answers for.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = pagination::Page<VisitJson>), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/visits")]
pub(super) async fn list_visits(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CampaignId>,
) -> Result<web::Json<pagination::Page<VisitJson>>, ApiError> {
    let mut items = Vec::new();
    for visit in visits::list(&state, &user, *id).await? {
        items.push(visits::details(&state, visit).await?.into());
    }
    Ok(web::Json(pagination::Page::whole(items)))
}

/// Record a visit (the campaign's inspectors and supervisors): a score for every
/// checklist item. Each deduction on an item with a category files a case at the site
/// (source `inspection`), assigned like any other. Idempotent on `client_id` (201 then
/// 200); a second visit to the same site is 409.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), request_body = VisitRequest,
    responses((status = 201, body = VisitJson), (status = 200, body = VisitJson), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/campaigns/{id}/visits")]
pub(super) async fn record_visit(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CampaignId>,
    body: Json<VisitRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.notes.chars().count() > 2000 {
        return Err(Error::invalid_field(
            "notes",
            Msg::fixed("at most 2000 characters", "最多 2000 个字符"),
        )
        .into());
    }
    let input = VisitInput {
        client_id: body.client_id,
        site_id: body.site_id,
        visited_at: body.visited_at,
        notes: body.notes.trim().to_owned(),
        scores: body
            .scores
            .into_iter()
            .map(|s| ItemScore {
                item_id: s.item_id,
                score: s.score,
                note: s.note.trim().to_owned(),
            })
            .collect(),
    };
    let (visit, created) = match visits::record(&state, &user, *id, input).await? {
        Recorded::Created(v) => (v, true),
        Recorded::Existing(v) => (v, false),
    };
    let body = VisitJson::from(visits::details(&state, visit).await?);
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// One visit with its scores and photos.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), ("visit_id" = Uuid, Path)), responses((status = 200, body = VisitJson), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/visits/{visit_id}")]
pub(super) async fn get_visit(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(CampaignId, entity::ids::VisitId)>,
) -> Result<web::Json<VisitJson>, ApiError> {
    let (campaign_id, visit_id) = path.into_inner();
    let visit = visits::visible_visit(&state, &user, visit_id).await?;
    if visit.campaign_id != campaign_id {
        return Err(Error::not_found().into());
    }
    Ok(web::Json(visits::details(&state, visit).await?.into()))
}

/// Add photos to a visit (multipart/form-data, files only): the same evidence rules as
/// case photos — stored whole with SHA-256, thumbnails, EXIF checks against the site,
/// reuse flagged; 9 per visit.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), ("visit_id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "files"),
    responses((status = 201, body = PhotoUploadResponse), (status = 200, body = PhotoUploadResponse), (status = 404), (status = 409), (status = 413), (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[post("/campaigns/{id}/visits/{visit_id}/photos")]
pub(super) async fn upload_visit_photos(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(CampaignId, entity::ids::VisitId)>,
    req: actix_web::HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let (campaign_id, visit_id) = path.into_inner();
    let form = crate::routes::uploads::PhotoForm::open(form).await?;
    let owner = visits::photo_owner(&state, &user, campaign_id, visit_id).await?;
    let taken_at = form.taken_at;
    let uploads = form.files(&state, user.id, &req).await?;
    let (photos, created) = crate::services::photos::add_to(
        &state,
        &user,
        owner,
        crate::domain::PhotoKind::Before,
        &uploads.files,
        taken_at,
    )
    .await?;
    let body = PhotoUploadResponse {
        items: photos.into_iter().map(PhotoJson::from).collect(),
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
