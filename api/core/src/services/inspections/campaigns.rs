//! Campaigns: the plan, the committed draw made at creation, who may see what, closing
//! (which reveals the seed) and replaying a draw.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::ids::{CampaignId, SiteId, UserId};

use entity::{campaign_sites, campaigns, inspection_sites, users};

use crate::auth::CurrentUser;
use crate::auth::policy::{self, Reach};
use crate::domain::Role;
use crate::domain::inspection::{self, CampaignMode, CampaignStatus, Seed, SiteType, Stratum};
use crate::error::{Error, ErrorCode, FieldErrors, Msg};
use crate::services::{now, scope};
use crate::state::AppState;

/// How many sites of a type to draw in each scope area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quota {
    pub site_type: SiteType,
    pub count: u32,
}

/// The sampling plan, as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Plan {
    pub area_ids: Vec<Uuid>,
    pub quotas: Vec<Quota>,
}

pub struct CampaignInput {
    pub name: String,
    pub mode: CampaignMode,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub checklist_id: Uuid,
    pub plan: Plan,
    pub inspector_ids: Vec<UserId>,
}

/// A campaign its reader may see, plan and drawn sites included: supervisors and admins
/// always, its inspectors, and everyone once it is announced or closed.
pub struct CampaignView {
    pub campaign: campaigns::Model,
    pub plan: Plan,
    pub inspector_ids: Vec<UserId>,
}

impl CampaignView {
    fn of(campaign: campaigns::Model, user: &CurrentUser, reach: &Reach) -> Option<Self> {
        let plan: Plan = serde_json::from_str(&campaign.plan).ok()?;
        let inspector_ids: Vec<UserId> = serde_json::from_str(&campaign.inspectors).ok()?;
        let facts = policy::CampaignFacts {
            area_ids: &plan.area_ids,
            inspector_ids: &inspector_ids,
            closed: campaign.status == CampaignStatus::Closed,
            announced: campaign.mode == CampaignMode::Announced,
        };
        policy::sees_campaign_plan(user, reach, &facts).then_some(Self {
            campaign,
            plan,
            inspector_ids,
        })
    }

    pub fn is_open(&self) -> bool {
        self.campaign.status == CampaignStatus::Open
    }

    pub fn strata(&self) -> Vec<Stratum> {
        serde_json::from_str(&self.campaign.frame).unwrap_or_default()
    }
}

/// Creates a campaign and makes its draw at once, from a fresh seed, over the active
/// sites of each stratum. The seed stays secret until the campaign closes.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    input: CampaignInput,
) -> Result<(CampaignView, Vec<campaign_sites::Model>), Error> {
    let tree = super::AreaTree::load(&state.db).await?;
    let reach = scope::reach(state, user).await?;
    check_plan(state, &tree, &reach, &input).await?;
    let strata = sampling_frame(state, &tree, &input.plan).await?;
    let seed = Seed::generate();
    let drawn = inspection::draw(&seed, &strata);
    let campaign = store(state, user, input, &strata, &seed, &drawn).await?;
    let id = campaign.id;
    let view = CampaignView::of(campaign, user, &reach)
        .ok_or_else(|| Error::internal("unreadable campaign"))?;
    Ok((view, drawn_sites(state, id).await?))
}

/// The plan's areas exist and do not overlap, the checklist exists, and every inspector is
/// an active inspector account (422 naming each field at fault).
async fn check_plan(
    state: &AppState,
    tree: &super::AreaTree,
    reach: &Reach,
    input: &CampaignInput,
) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    for (i, area) in input.plan.area_ids.iter().enumerate() {
        if tree.get(*area).is_none() {
            errors.add(
                &format!("plan.area_ids[{i}]"),
                Msg::fixed("no such area", "区域不存在"),
            );
        } else if !policy::covers(&reach.bound, &[*area]) {
            errors.add(
                &format!("plan.area_ids[{i}]"),
                Msg::fixed("outside the areas you are bound to", "不在您负责的区域内"),
            );
        }
        for other in &input.plan.area_ids[..i] {
            if tree.within(*area, *other) || tree.within(*other, *area) {
                errors.add(
                    &format!("plan.area_ids[{i}]"),
                    Msg::fixed(
                        "scope areas must not overlap (one lies inside another, or is named twice)",
                        "抽查区域不能重叠（互相包含或重复）",
                    ),
                );
            }
        }
    }
    if super::checklists::get(&state.db, input.checklist_id)
        .await
        .is_err()
    {
        errors.add(
            "checklist_id",
            Msg::fixed("no such checklist", "考核表不存在"),
        );
    }
    let inspectors: HashSet<UserId> = users::Entity::find()
        .filter(users::Column::Id.is_in(input.inspector_ids.clone()))
        .filter(users::Column::Role.eq(Role::Inspector))
        .filter(users::Column::Disabled.eq(false))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    if input
        .inspector_ids
        .iter()
        .any(|id| !inspectors.contains(id))
    {
        errors.add(
            "inspector_ids",
            Msg::fixed(
                "every id must be an active inspector",
                "须均为在用的巡查员账号",
            ),
        );
    }
    errors.finish()
}

/// The sampling frame: for each scope area and quota, the active sites of that type inside
/// the area, in id order, so that the same seed draws the same sites on replay.
async fn sampling_frame(
    state: &AppState,
    tree: &super::AreaTree,
    plan: &Plan,
) -> Result<Vec<Stratum>, Error> {
    let sites = inspection_sites::Entity::find()
        .filter(inspection_sites::Column::Active.eq(true))
        .all(&state.db)
        .await?;
    Ok(plan
        .area_ids
        .iter()
        .flat_map(|&area| plan.quotas.iter().map(move |quota| (area, quota)))
        .map(|(area, quota)| {
            let mut candidates: Vec<Uuid> = sites
                .iter()
                .filter(|s| s.site_type == quota.site_type && tree.within(s.area_id, area))
                .map(|s| s.id.0)
                .collect();
            candidates.sort();
            Stratum {
                area_id: area,
                site_type: quota.site_type,
                count: quota.count,
                candidates,
            }
        })
        .collect())
}

/// The campaign with its frame, seed and commitments, and its drawn sites, in one
/// transaction.
async fn store(
    state: &AppState,
    user: &CurrentUser,
    input: CampaignInput,
    strata: &[Stratum],
    seed: &Seed,
    drawn: &[Vec<Uuid>],
) -> Result<campaigns::Model, Error> {
    let id = CampaignId::now_v7();
    let txn = crate::services::begin_write(&state.db).await?;
    let campaign = campaigns::ActiveModel {
        id: Set(id),
        name: Set(input.name),
        mode: Set(input.mode),
        status: Set(CampaignStatus::Open),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        checklist_id: Set(input.checklist_id),
        plan: Set(serde_json::to_string(&input.plan).map_err(Error::internal)?),
        inspectors: Set(serde_json::to_string(&input.inspector_ids).map_err(Error::internal)?),
        frame: Set(serde_json::to_string(strata).map_err(Error::internal)?),
        frame_sha256: Set(inspection::frame_digest(strata)),
        seed: Set(seed.to_hex()),
        seed_sha256: Set(seed.commitment()),
        created_by: Set(user.id),
        created_at: Set(now()),
        closed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let rows: Vec<campaign_sites::ActiveModel> = strata
        .iter()
        .zip(drawn)
        .flat_map(|(stratum, sites)| {
            sites
                .iter()
                .enumerate()
                .map(move |(order, site)| campaign_sites::ActiveModel {
                    campaign_id: Set(id),
                    site_id: Set(SiteId(*site)),
                    scope_area_id: Set(stratum.area_id),
                    draw_order: Set(order as i32),
                })
        })
        .collect();
    for chunk in rows.chunks(500) {
        campaign_sites::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(campaign_id = %id, sites = rows.len(), "campaign drawn");
    Ok(campaign)
}

/// A campaign the user may see, or 404 (an unannounced round does not exist for those it
/// inspects until it closes).
pub async fn visible(
    state: &AppState,
    user: &CurrentUser,
    id: CampaignId,
) -> Result<CampaignView, Error> {
    let reach = scope::reach(state, user).await?;
    campaigns::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .and_then(|c| CampaignView::of(c, user, &reach))
        .ok_or_else(Error::not_found)
}

/// The campaigns the user may see, newest first.
pub async fn list(state: &AppState, user: &CurrentUser) -> Result<Vec<CampaignView>, Error> {
    let reach = scope::reach(state, user).await?;
    Ok(campaigns::Entity::find()
        .order_by_desc(campaigns::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|c| CampaignView::of(c, user, &reach))
        .collect())
}

/// The drawn sites in stratum and draw order.
pub async fn drawn_sites(
    state: &AppState,
    campaign_id: CampaignId,
) -> Result<Vec<campaign_sites::Model>, Error> {
    Ok(campaign_sites::Entity::find()
        .filter(campaign_sites::Column::CampaignId.eq(campaign_id))
        .order_by_asc(campaign_sites::Column::ScopeAreaId)
        .order_by_asc(campaign_sites::Column::DrawOrder)
        .all(&state.db)
        .await?)
}

/// A drawn site: its place in the draw, the site, and whether it has a visit yet.
pub struct DrawnSite {
    pub draw: campaign_sites::Model,
    pub site: inspection_sites::Model,
    pub visited: bool,
}

/// The campaign's drawn sites in draw order, each with its site and whether it was visited.
pub async fn drawn(state: &AppState, campaign_id: CampaignId) -> Result<Vec<DrawnSite>, Error> {
    let draws = drawn_sites(state, campaign_id).await?;
    let mut sites = sites_by_id(state, draws.iter().map(|d| d.site_id)).await?;
    use sea_orm::QuerySelect;
    let visited: std::collections::HashSet<SiteId> = entity::visits::Entity::find()
        .select_only()
        .column(entity::visits::Column::SiteId)
        .filter(entity::visits::Column::CampaignId.eq(campaign_id))
        .into_tuple::<SiteId>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    Ok(draws
        .into_iter()
        .filter_map(|draw| {
            let site = sites.remove(&draw.site_id)?;
            Some(DrawnSite {
                visited: visited.contains(&site.id),
                draw,
                site,
            })
        })
        .collect())
}

/// Closes the campaign (the route needs `run_campaigns`): no more visits, and the seed is
/// revealed.
pub async fn close(
    state: &AppState,
    user: &CurrentUser,
    id: CampaignId,
) -> Result<CampaignView, Error> {
    visible(state, user, id).await?;
    // Conditional, so that of two closes one wins, and a visit holding the row (see
    // `hold_open`) commits before the close does.
    let changed = campaigns::Entity::update_many()
        .col_expr(
            campaigns::Column::Status,
            Expr::value(CampaignStatus::Closed.as_str()),
        )
        .col_expr(campaigns::Column::ClosedAt, Expr::value(Some(now())))
        .filter(campaigns::Column::Id.eq(id))
        .filter(campaigns::Column::Status.eq(CampaignStatus::Open))
        .exec(&state.db)
        .await?;
    if changed.rows_affected == 0 {
        return Err(closed_error());
    }
    tracing::info!(campaign_id = %id, "campaign closed, seed revealed");
    visible(state, user, id).await
}

/// Inside a write transaction: confirms the campaign is still open and holds its row
/// until commit (a row lock on PostgreSQL; SQLite's write lock covers it), so nothing is
/// recorded in a campaign after it closes.
pub async fn hold_open(txn: &sea_orm::DatabaseTransaction, id: CampaignId) -> Result<(), Error> {
    let held = campaigns::Entity::update_many()
        .col_expr(
            campaigns::Column::Status,
            Expr::col(campaigns::Column::Status),
        )
        .filter(campaigns::Column::Id.eq(id))
        .filter(campaigns::Column::Status.eq(CampaignStatus::Open))
        .exec(txn)
        .await?;
    if held.rows_affected == 0 {
        return Err(closed_error());
    }
    Ok(())
}

pub fn closed_error() -> Error {
    Error::new(ErrorCode::Conflict)
        .with_message(Msg::fixed("The campaign is closed.", "该检查活动已结束。"))
}

/// A draw replayed from a seed and a frame: what anyone can compute.
pub struct Replay {
    pub seed_sha256: String,
    pub frame_sha256: String,
    pub drawn: Vec<Vec<Uuid>>,
}

pub fn replay(seed: &Seed, strata: &[Stratum]) -> Replay {
    Replay {
        seed_sha256: seed.commitment(),
        frame_sha256: inspection::frame_digest(strata),
        drawn: inspection::draw(seed, strata),
    }
}

/// Site rows by id.
pub async fn sites_by_id(
    state: &AppState,
    ids: impl IntoIterator<Item = SiteId>,
) -> Result<HashMap<SiteId, inspection_sites::Model>, Error> {
    let ids: Vec<SiteId> = ids.into_iter().collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        for site in inspection_sites::Entity::find()
            .filter(inspection_sites::Column::Id.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?
        {
            found.insert(site.id, site);
        }
    }
    Ok(found)
}

/// The inspectors a campaign can name: every enabled inspector account, oldest first.
/// Supervisors, who create campaigns, cannot list users (that is the admins' screen).
pub async fn inspectors(state: &AppState) -> Result<Vec<users::Model>, Error> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.eq(Role::Inspector))
        .filter(users::Column::Disabled.eq(false))
        .order_by_asc(users::Column::Id)
        .all(&state.db)
        .await?)
}
