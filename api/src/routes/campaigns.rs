//! `/api/v1/campaigns`: unannounced inspection rounds (明察暗访) — the committed draw,
//! visits with scores and photos, the review and the bulletin exports — and
//! `/api/v1/draws/replay`, which re-runs any draw from a seed and a frame.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Allowed, Caller, needs};
use crate::domain::inspection::{CampaignMode, Seed, SiteType, Stratum};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::departments::parse_label;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::routes::reports::json::{PhotoJson, PhotoUploadResponse};
use crate::services::inspections::campaigns::{self as service, CampaignInput, CampaignView, Plan};
use crate::services::inspections::summary::{self, Summary};
use crate::services::inspections::visits::{self, ItemScore, Recorded, VisitInput};
use crate::services::inspections::{export, stats};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_campaigns)
        .service(create_campaign)
        .service(get_campaign)
        .service(close_campaign)
        .service(get_draw)
        .service(replay_draw)
        .service(list_visits)
        .service(record_visit)
        .service(get_visit)
        .service(upload_visit_photos)
        .service(campaign_summary)
        .service(export_xlsx)
        .service(export_csv)
        .service(get_stats);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignJson {
    pub id: Uuid,
    pub name: String,
    pub mode: CampaignMode,
    /// `open` or `closed`.
    pub status: crate::domain::inspection::CampaignStatus,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub checklist_id: Uuid,
    pub plan: Plan,
    pub inspector_ids: Vec<Uuid>,
    /// Published at creation: SHA-256 of the draw's seed.
    pub seed_sha256: String,
    /// Published at creation: the digest of the sampling frame.
    pub frame_sha256: String,
    /// Revealed when the campaign closes; `null` until then.
    pub seed: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<CampaignView> for CampaignJson {
    fn from(view: CampaignView) -> Self {
        let open = view.is_open();
        let c = view.campaign;
        Self {
            id: c.id,
            name: c.name,
            mode: c.mode,
            status: c.status,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            checklist_id: c.checklist_id,
            plan: view.plan,
            inspector_ids: view.inspector_ids,
            seed_sha256: c.seed_sha256,
            frame_sha256: c.frame_sha256,
            seed: (!open).then_some(c.seed),
            created_by: c.created_by,
            created_at: c.created_at,
            closed_at: c.closed_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaRequest {
    pub site_type: String,
    /// Sites of this type to draw in each scope area (1–1000).
    pub count: u32,
}

/// The sampling plan as a request gives it (the answer's `plan`, with site types as text).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The scope areas (none inside another); sites are drawn in each.
    pub area_ids: Vec<Uuid>,
    pub quotas: Vec<QuotaRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    /// `unannounced` (default) or `announced`.
    #[serde(default)]
    pub mode: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub checklist_id: Uuid,
    /// What to draw: the same shape the campaign answers with.
    pub plan: PlanRequest,
    /// The inspectors who will visit.
    #[serde(default)]
    pub inspector_ids: Vec<Uuid>,
}

/// Days this system can mean (and every database can store).
fn plausible_day(day: NaiveDate) -> bool {
    (2000..=2100).contains(&chrono::Datelike::year(&day))
}

fn parse(body: CampaignRequest) -> Result<CampaignInput, ApiError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_label(&body.name, 100));
    let mode = match body.mode.as_deref() {
        None => Some(CampaignMode::Unannounced),
        Some(raw) => errors.check(
            "mode",
            CampaignMode::parse(raw).ok_or_else(|| {
                Msg::fixed("unannounced or announced", "须为 unannounced 或 announced")
            }),
        ),
    };
    for (field, day) in [("starts_on", body.starts_on), ("ends_on", body.ends_on)] {
        if !plausible_day(day) {
            errors.add(
                field,
                Msg::fixed("a day from 2000 to 2100", "须为 2000 至 2100 年间的日期"),
            );
        }
    }
    if body.ends_on < body.starts_on {
        errors.add("ends_on", Msg::fixed("before starts_on", "早于开始日期"));
    }
    if !(1..=200).contains(&body.plan.area_ids.len()) {
        errors.add(
            "plan.area_ids",
            Msg::fixed("1 to 200 areas", "须有 1 到 200 个区域"),
        );
    }
    if !(1..=SiteType::ALL.len()).contains(&body.plan.quotas.len()) {
        errors.add(
            "plan.quotas",
            Msg::fixed("one quota per site type at most", "每种点位类型至多一条"),
        );
    }
    let mut quotas = Vec::new();
    for (i, quota) in body.plan.quotas.iter().enumerate() {
        let site_type = errors.check(
            &format!("plan.quotas[{i}].site_type"),
            SiteType::parse(&quota.site_type)
                .ok_or_else(|| Msg::fixed("not a site type", "不是有效的点位类型")),
        );
        if !(1..=1000).contains(&quota.count) {
            errors.add(
                &format!("plan.quotas[{i}].count"),
                Msg::fixed("from 1 to 1000", "须在 1 到 1000 之间"),
            );
        }
        if let Some(site_type) = site_type {
            if quotas
                .iter()
                .any(|q: &service::Quota| q.site_type == site_type)
            {
                errors.add(
                    &format!("plan.quotas[{i}].site_type"),
                    Msg::fixed("named twice", "重复"),
                );
            }
            quotas.push(service::Quota {
                site_type,
                count: quota.count,
            });
        }
    }
    if body.inspector_ids.len() > 200 {
        errors.add("inspector_ids", Msg::fixed("at most 200", "最多 200 人"));
    }
    errors.finish()?;
    Ok(CampaignInput {
        name: name.unwrap_or_default(),
        mode: mode.unwrap_or(CampaignMode::Unannounced),
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        checklist_id: body.checklist_id,
        plan: Plan {
            area_ids: body.plan.area_ids,
            quotas,
        },
        inspector_ids: body.inspector_ids,
    })
}

/// The campaigns the user may see, newest first. Those inspected see an unannounced
/// campaign only once it is closed.
#[utoipa::path(tag = "inspections", responses((status = 200, body = pagination::Page<CampaignJson>)), security(("bearer" = [])))]
#[get("/campaigns")]
async fn list_campaigns(
    state: web::Data<AppState>,
    user: Caller,
) -> Result<web::Json<pagination::Page<CampaignJson>>, ApiError> {
    Ok(web::Json(
        service::list(&state, &user)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawnSiteJson {
    pub site_id: Uuid,
    pub code: String,
    pub name: String,
    pub site_type: SiteType,
    pub address: String,
    pub location: crate::routes::location::PointJson,
    /// The scope area it was drawn for, and its place in that stratum's draw.
    pub scope_area_id: Uuid,
    pub draw_order: i32,
    pub visited: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCampaignJson {
    #[serde(flatten)]
    pub campaign: CampaignJson,
    pub sites: Vec<DrawnSiteJson>,
}

/// Create a campaign (supervisors). The server draws the sites at once from a fresh
/// random seed and publishes the seed's SHA-256 and the frame's digest; the seed itself
/// is revealed when the campaign closes.
#[utoipa::path(tag = "inspections", request_body = CampaignRequest, responses((status = 201, body = CreatedCampaignJson), (status = 422)), security(("bearer" = [])))]
#[post("/campaigns")]
async fn create_campaign(
    state: web::Data<AppState>,
    user: Allowed<needs::RunCampaigns>,
    body: Json<CampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    let (view, _) = service::create(&state, &user, parse(body.into_inner())?).await?;
    let sites = drawn_json(&state, view.campaign.id).await?;
    Ok(HttpResponse::Created().json(CreatedCampaignJson {
        campaign: view.into(),
        sites,
    }))
}

async fn drawn_json(state: &AppState, campaign_id: Uuid) -> Result<Vec<DrawnSiteJson>, ApiError> {
    Ok(service::drawn(state, campaign_id)
        .await?
        .into_iter()
        .map(
            |service::DrawnSite {
                 draw,
                 site,
                 visited,
             }| DrawnSiteJson {
                site_id: site.id,
                code: site.code,
                name: site.name,
                site_type: site.site_type,
                address: site.address,
                location: crate::routes::location::PointJson::wgs84(site.lat, site.lon),
                scope_area_id: draw.scope_area_id,
                draw_order: draw.draw_order,
                visited,
            },
        )
        .collect())
}

/// One campaign.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = CampaignJson), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}")]
async fn get_campaign(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<CampaignJson>, ApiError> {
    Ok(web::Json(
        service::visible(&state, &user, *id).await?.into(),
    ))
}

/// Close a campaign (supervisors): no more visits, and the seed is revealed so that
/// anyone can check the draw.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = CampaignJson), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/campaigns/{id}/close")]
async fn close_campaign(
    state: web::Data<AppState>,
    user: Allowed<needs::RunCampaigns>,
    id: web::Path<Uuid>,
) -> Result<web::Json<CampaignJson>, ApiError> {
    Ok(web::Json(service::close(&state, &user, *id).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StratumJson {
    pub area_id: Uuid,
    pub site_type: SiteType,
    pub count: u32,
    /// Every active site of the type in the area (and below) when the draw was made.
    pub candidates: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawnStratumJson {
    #[serde(flatten)]
    pub stratum: StratumJson,
    /// The sites drawn, in draw order.
    pub drawn: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawJson {
    pub seed_sha256: String,
    pub frame_sha256: String,
    /// `null` until the campaign closes.
    pub seed: Option<String>,
    /// The frame the draw ran on, stratum by stratum, with what each drew.
    pub strata: Vec<DrawnStratumJson>,
    pub sites: Vec<DrawnSiteJson>,
}

fn stratum_json(s: Stratum) -> StratumJson {
    StratumJson {
        area_id: s.area_id,
        site_type: s.site_type,
        count: s.count,
        candidates: s.candidates,
    }
}

/// The draw: the published commitments, the frame, the drawn sites and, once the
/// campaign is closed, the seed. Those inspected see nothing of an unannounced campaign
/// until it closes (404).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = DrawJson), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/draw")]
async fn get_draw(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<DrawJson>, ApiError> {
    let view = service::visible(&state, &user, *id).await?;
    let drawn = service::drawn_sites(&state, *id).await?;
    let strata = view
        .strata()
        .into_iter()
        .map(|s| {
            let candidates: std::collections::HashSet<&Uuid> = s.candidates.iter().collect();
            let mut mine: Vec<&entity::campaign_sites::Model> = drawn
                .iter()
                .filter(|d| d.scope_area_id == s.area_id && candidates.contains(&d.site_id))
                .collect();
            mine.sort_by_key(|d| d.draw_order);
            DrawnStratumJson {
                drawn: mine.iter().map(|d| d.site_id).collect(),
                stratum: stratum_json(s),
            }
        })
        .collect();
    let open = view.is_open();
    Ok(web::Json(DrawJson {
        seed_sha256: view.campaign.seed_sha256.clone(),
        frame_sha256: view.campaign.frame_sha256.clone(),
        seed: (!open).then(|| view.campaign.seed.clone()),
        strata,
        sites: drawn_json(&state, *id).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The revealed seed, 64 hex digits.
    pub seed: String,
    pub strata: Vec<StratumJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayJson {
    /// Compare with the campaign's published `seed_sha256` ...
    pub seed_sha256: String,
    /// ... and `frame_sha256`.
    pub frame_sha256: String,
    pub strata: Vec<DrawnStratumJson>,
}

/// Re-run a draw from a seed and a frame (any signed-in user). Nothing is read from the
/// database: the answer follows from the request alone, as `docs/inspections.md` shows.
#[utoipa::path(tag = "inspections", request_body = ReplayRequest, responses((status = 200, body = ReplayJson), (status = 422)), security(("bearer" = [])))]
#[post("/draws/replay")]
async fn replay_draw(
    _user: Caller,
    body: Json<ReplayRequest>,
) -> Result<web::Json<ReplayJson>, ApiError> {
    let body = body.into_inner();
    let seed = Seed::parse(&body.seed).map_err(|m| Error::invalid_field("seed", m))?;
    let candidates: usize = body.strata.iter().map(|s| s.candidates.len()).sum();
    if body.strata.len() > 10_000 || candidates > 1_000_000 {
        return Err(Error::invalid_field(
            "strata",
            Msg::fixed(
                "at most 10000 strata and 1000000 candidates",
                "最多 10000 层、1000000 个候选点位",
            ),
        )
        .into());
    }
    let strata: Vec<Stratum> = body
        .strata
        .into_iter()
        .map(|s| Stratum {
            area_id: s.area_id,
            site_type: s.site_type,
            count: s.count,
            candidates: s.candidates,
        })
        .collect();
    let replay = service::replay(&seed, &strata);
    Ok(web::Json(ReplayJson {
        seed_sha256: replay.seed_sha256,
        frame_sha256: replay.frame_sha256,
        strata: strata
            .into_iter()
            .zip(replay.drawn)
            .map(|(s, drawn)| DrawnStratumJson {
                stratum: stratum_json(s),
                drawn,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreJson {
    pub item_id: Uuid,
    pub score: f64,
    pub max_points: f64,
    pub note: String,
    /// The case the deduction filed.
    pub case_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitJson {
    pub id: Uuid,
    pub client_id: Uuid,
    pub campaign_id: Uuid,
    pub site_id: Uuid,
    pub inspector_id: Uuid,
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
    pub site_id: Uuid,
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
async fn list_visits(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
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
async fn record_visit(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
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
async fn get_visit(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
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
async fn upload_visit_photos(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
    req: actix_web::HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let (campaign_id, visit_id) = path.into_inner();
    let form = crate::routes::uploads::PhotoForm::open(form).await?;
    let owner = visits::photo_owner(&state, &user, campaign_id, visit_id).await?;
    let uploads = form.files(&state, user.id, &req).await?;
    let (photos, created) = crate::services::photos::add_to(
        &state,
        &user,
        owner,
        crate::domain::PhotoKind::Before,
        &uploads.files,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// An earlier campaign to compare with.
    pub compare_to: Option<Uuid>,
}

/// The campaign review (supervisors and admins): score per site, mean and ranking per
/// area and department, problems per category, progress of the cases it filed, and a
/// comparison with an earlier campaign.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), SummaryQuery), responses((status = 200, body = Summary), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/summary")]
async fn campaign_summary(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<Uuid>,
    query: web::Query<SummaryQuery>,
) -> Result<web::Json<Summary>, ApiError> {
    if query.compare_to == Some(*id) {
        return Err(Error::invalid_field(
            "compare_to",
            Msg::fixed(
                "compare with another campaign",
                "请选择另一次检查活动进行对比",
            ),
        )
        .into());
    }
    Ok(web::Json(
        summary::summary(&state, &user, *id, query.compare_to).await?,
    ))
}

fn attachment(content_type: &str, filename: String, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            header::ContentDisposition {
                disposition: header::DispositionType::Attachment,
                parameters: vec![header::DispositionParam::FilenameExt(
                    header::ExtendedValue {
                        charset: header::Charset::Ext("UTF-8".to_owned()),
                        language_tag: None,
                        value: filename.into_bytes(),
                    },
                )],
            },
        ))
        .body(bytes)
}

/// The bulletin workbook (supervisors and admins): 排名通报 (rankings and problems by
/// category), 点位得分 (every site) and 案件清单 (every case and its status).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "XLSX"), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/export.xlsx")]
async fn export_xlsx(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let summary = summary::summary(&state, &user, *id, None).await?;
    let cases = export::cases_table(&state, *id).await?;
    let bytes = export::to_xlsx(&summary, &cases)?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{}.xlsx", summary.name),
        bytes,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// `sites` (default), `areas`, `departments`, `categories` or `cases`.
    pub table: Option<String>,
}

/// One table of the bulletin as CSV (UTF-8 with BOM, Chinese headers).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), CsvQuery),
    responses((status = 200, content_type = "text/csv", description = "CSV"), (status = 404), (status = 422)), security(("bearer" = [])))]
#[get("/campaigns/{id}/export.csv")]
async fn export_csv(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<Uuid>,
    query: web::Query<CsvQuery>,
) -> Result<HttpResponse, ApiError> {
    let summary = summary::summary(&state, &user, *id, None).await?;
    let name = query.table.as_deref().unwrap_or("sites");
    let table = match name {
        "sites" => export::sites_table(&summary),
        "areas" => export::ranking_table(&summary.areas, "区域"),
        "departments" => export::ranking_table(&summary.departments, "责任单位"),
        "categories" => export::categories_table(&summary),
        "cases" => export::cases_table(&state, *id).await?,
        _ => {
            return Err(Error::invalid_field(
                "table",
                Msg::fixed(
                    "sites, areas, departments, categories or cases",
                    "须为 sites、areas、departments、categories 或 cases",
                ),
            )
            .into());
        }
    };
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("{}-{name}.csv", summary.name),
        export::to_csv(&table)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First day (city time), `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// Cases in this area and below.
    pub area_id: Option<Uuid>,
    /// Cases this department answers for (its own and its shopfronts').
    pub department_id: Option<Uuid>,
    pub category: Option<String>,
    /// `area` (default), `department` or `category`.
    pub group_by: Option<String>,
    /// With `group_by=area`: `district` (default), `subdistrict`, `community` or `grid`.
    pub area_level: Option<String>,
}

/// Statistics for any period and scope (supervisors and admins): filed, closed, on-time
/// closure rate (按期结案率), rework rate (返工率) and mean time to close, in total and by
/// area, department or category.
#[utoipa::path(tag = "inspections", params(StatsParams), responses((status = 200, body = stats::Stats), (status = 422)), security(("bearer" = [])))]
#[get("/stats")]
async fn get_stats(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReviewResults>,
    query: web::Query<StatsParams>,
) -> Result<web::Json<stats::Stats>, ApiError> {
    let q = query.into_inner();
    let mut errors = FieldErrors::default();
    for (field, day) in [("from", q.from), ("to", q.to)] {
        if !plausible_day(day) {
            errors.add(
                field,
                Msg::fixed("a day from 2000 to 2100", "须为 2000 至 2100 年间的日期"),
            );
        }
    }
    if q.to < q.from {
        errors.add("to", Msg::fixed("before from", "早于开始日期"));
    } else if (q.to - q.from).num_days() > 3 * 366 {
        errors.add(
            "to",
            Msg::fixed("at most three years at a time", "一次最多统计三年"),
        );
    }
    let group_by = match q.group_by.as_deref().unwrap_or("area") {
        "area" => stats::GroupBy::Area,
        "department" => stats::GroupBy::Department,
        "category" => stats::GroupBy::Category,
        _ => {
            errors.add(
                "group_by",
                Msg::fixed(
                    "area, department or category",
                    "须为 area、department 或 category",
                ),
            );
            stats::GroupBy::Area
        }
    };
    let area_level = match q.area_level.as_deref() {
        None => Some(crate::domain::AreaLevel::District),
        Some(raw) => crate::domain::AreaLevel::parse(raw),
    };
    if area_level.is_none() {
        errors.add(
            "area_level",
            Msg::fixed(
                "district, subdistrict, community or grid",
                "须为 district、subdistrict、community 或 grid",
            ),
        );
    }
    errors.finish()?;
    Ok(web::Json(
        stats::compute(
            &state,
            stats::StatsQuery {
                from: q.from,
                to: q.to,
                area_id: q.area_id,
                department_id: q.department_id,
                category: q.category,
                group_by,
                area_level: area_level.unwrap_or(crate::domain::AreaLevel::District),
            },
        )
        .await?,
    ))
}
