//! `/api/v1/campaigns`: unannounced inspection rounds (明察暗访) — the committed draw,
//! visits with scores and photos, the review and the bulletin exports — and
//! `/api/v1/draws/replay`, which re-runs any draw from a seed and a frame.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use entity::ids::{CampaignId, SiteId, UserId};

use crate::auth::{Allowed, Caller, needs};
use crate::domain::inspection::{CampaignMode, Seed, SiteType, Stratum};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::departments::parse_label;
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::services::inspections::campaigns::{self as service, CampaignInput, CampaignView, Plan};
use crate::state::AppState;

mod results;
pub use results::*;

mod visit_routes;
pub use visit_routes::*;

pub fn routes(cfg: &mut ServiceConfig) {
    // `/campaigns/inspectors` before `/campaigns/{id}`, which would take the word for an id.
    cfg.service(list_inspectors)
        .service(list_campaigns)
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
    pub id: CampaignId,
    pub name: String,
    pub mode: CampaignMode,
    /// `open` or `closed`.
    pub status: crate::domain::inspection::CampaignStatus,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub checklist_id: Uuid,
    pub plan: Plan,
    pub inspector_ids: Vec<UserId>,
    /// Published at creation: SHA-256 of the draw's seed.
    pub seed_sha256: String,
    /// Published at creation: the digest of the sampling frame.
    pub frame_sha256: String,
    /// Revealed when the campaign closes; `null` until then.
    pub seed: Option<String>,
    pub created_by: UserId,
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
    pub inspector_ids: Vec<UserId>,
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
pub struct InspectorJson {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

/// The inspectors a campaign can name (supervisors and admins): every enabled inspector,
/// oldest first, whole. Supervisors cannot list users, yet they choose who inspects.
#[utoipa::path(tag = "inspections", responses((status = 200, body = pagination::Page<InspectorJson>)), security(("bearer" = [])))]
#[get("/campaigns/inspectors")]
async fn list_inspectors(
    state: web::Data<AppState>,
    _user: Allowed<needs::ReviewResults>,
) -> Result<web::Json<pagination::Page<InspectorJson>>, ApiError> {
    Ok(web::Json(
        service::inspectors(&state)
            .await?
            .into_iter()
            .map(|u| InspectorJson {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawnSiteJson {
    pub site_id: SiteId,
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

/// One campaign as its creation answers it and as `GET /campaigns/{id}` reads it: the
/// campaign and its drawn sites.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetailJson {
    #[serde(flatten)]
    pub campaign: CampaignJson,
    pub sites: Vec<DrawnSiteJson>,
}

/// Create a campaign (supervisors). The server draws the sites at once from a fresh
/// random seed and publishes the seed's SHA-256 and the frame's digest; the seed itself
/// is revealed when the campaign closes.
#[utoipa::path(tag = "inspections", request_body = CampaignRequest, responses((status = 201, body = CampaignDetailJson), (status = 422)), security(("bearer" = [])))]
#[post("/campaigns")]
async fn create_campaign(
    state: web::Data<AppState>,
    user: Allowed<needs::RunCampaigns>,
    body: Json<CampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    let (view, _) = service::create(&state, &user, parse(body.into_inner())?).await?;
    let sites = drawn_json(&state, view.campaign.id).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/campaigns/{}", view.campaign.id),
        ))
        .json(CampaignDetailJson {
            campaign: view.into(),
            sites,
        }))
}

async fn drawn_json(
    state: &AppState,
    campaign_id: CampaignId,
) -> Result<Vec<DrawnSiteJson>, ApiError> {
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

/// One campaign with its drawn sites: the shape its creation answered.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = CampaignDetailJson), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}")]
async fn get_campaign(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CampaignId>,
) -> Result<web::Json<CampaignDetailJson>, ApiError> {
    let view = service::visible(&state, &user, *id).await?;
    let sites = drawn_json(&state, view.campaign.id).await?;
    Ok(web::Json(CampaignDetailJson {
        campaign: view.into(),
        sites,
    }))
}

/// Close a campaign (supervisors): no more visits, and the seed is revealed so that
/// anyone can check the draw.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)), responses((status = 200, body = CampaignJson), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/campaigns/{id}/close")]
async fn close_campaign(
    state: web::Data<AppState>,
    user: Allowed<needs::RunCampaigns>,
    id: web::Path<CampaignId>,
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
    id: web::Path<CampaignId>,
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
                .filter(|d| d.scope_area_id == s.area_id && candidates.contains(&d.site_id.0))
                .collect();
            mine.sort_by_key(|d| d.draw_order);
            DrawnStratumJson {
                drawn: mine.iter().map(|d| d.site_id.0).collect(),
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
