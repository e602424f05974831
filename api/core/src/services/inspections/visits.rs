//! Visits: an inspector scores a drawn site against the campaign's checklist; every
//! deduction on an item with a category files a case at the site, in the same
//! transaction, assigned like any other case. Retries are idempotent on `client_id`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::ids::{CampaignId, SiteId, UserId, VisitId};

use entity::{
    campaign_sites, categories, checklist_items, inspection_sites, photos, visit_scores, visits,
};

use crate::auth::CurrentUser;
use crate::auth::policy;
use crate::domain::{CaseSource, GeoPoint, Role, Severity};
use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::Decision;
use crate::services::inspections::campaigns::{self, CampaignView};
use crate::services::reports::{self, CaseDraft, InspectionLink, Placement};
use crate::services::{now, photos as photo_service};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct ItemScore {
    pub item_id: Uuid,
    pub score: f64,
    pub note: String,
}

/// A visit as the phone sends it (scores already checked to be numbers in halves).
#[derive(Debug, Serialize)]
pub struct VisitInput {
    pub client_id: Uuid,
    pub site_id: SiteId,
    pub visited_at: Option<DateTime<Utc>>,
    pub notes: String,
    pub scores: Vec<ItemScore>,
}

impl VisitInput {
    fn request_hash(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }
}

pub enum Recorded {
    Created(visits::Model),
    Existing(visits::Model),
}

fn already_visited() -> Error {
    Error::new(ErrorCode::Conflict).with_message(Msg::fixed(
        "This site already has a visit in this campaign.",
        "该点位在本次检查中已有检查记录。",
    ))
}

pub async fn record(
    state: &AppState,
    user: &CurrentUser,
    campaign_id: CampaignId,
    input: VisitInput,
) -> Result<Recorded, Error> {
    let view = campaigns::visible(state, user, campaign_id).await?;
    policy::may_record_visit(user, &view.inspector_ids)?;
    let request_hash = input.request_hash();
    if let Some(existing) = find_by_client_id(state, input.client_id).await? {
        return retry_outcome(existing, &request_hash, campaign_id);
    }
    if !view.is_open() {
        return Err(campaigns::closed_error());
    }
    let site = unvisited_drawn_site(state, campaign_id, input.site_id).await?;
    let (_, items) = super::checklists::get(&state.db, view.campaign.checklist_id).await?;
    let scores = match_scores(&items, &input.scores)?;
    let visited_at = input.visited_at.unwrap_or_else(now);
    check_visited_at(state, &view, visited_at)?;
    let visit = Visit {
        id: VisitId::now_v7(),
        client_id: input.client_id,
        request_hash: request_hash.clone(),
        campaign_id,
        site,
        inspector_id: user.id,
        visited_at,
        notes: input.notes.clone(),
    };
    let filings = deduction_filings(state, user, &view, &visit, &scores).await?;
    let written = write(state, &visit, &items, &scores, filings).await?;
    match written {
        Some(recorded) => Ok(recorded),
        // A concurrent retry (same client_id) or another visit to the site won.
        None => match find_by_client_id(state, input.client_id).await? {
            Some(existing) => retry_outcome(existing, &request_hash, campaign_id),
            None => Err(already_visited()),
        },
    }
}

/// The visit being recorded.
struct Visit {
    id: VisitId,
    client_id: Uuid,
    request_hash: String,
    campaign_id: CampaignId,
    site: inspection_sites::Model,
    inspector_id: UserId,
    visited_at: DateTime<Utc>,
    notes: String,
}

/// A case a deduction files: the item it is for, and what the filing writes.
struct DeductionFiling {
    item_id: Uuid,
    category: categories::Model,
    draft: CaseDraft,
    prepared: reports::Prepared,
}

/// The site, when the campaign drew it and it has no visit yet.
async fn unvisited_drawn_site(
    state: &AppState,
    campaign_id: CampaignId,
    site_id: SiteId,
) -> Result<inspection_sites::Model, Error> {
    let drawn = campaign_sites::Entity::find_by_id((campaign_id, site_id))
        .one(&state.db)
        .await?;
    if drawn.is_none() {
        return Err(Error::invalid_field(
            "site_id",
            Msg::fixed(
                "this site was not drawn for the campaign",
                "该点位不在本次抽查名单中",
            ),
        ));
    }
    let site = super::sites::get(&state.db, site_id).await?;
    if visits::Entity::find()
        .filter(visits::Column::CampaignId.eq(campaign_id))
        .filter(visits::Column::SiteId.eq(site.id))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(already_visited());
    }
    Ok(site)
}

/// A visit lies between the campaign's first day (in the city's time) and now.
fn check_visited_at(
    state: &AppState,
    view: &CampaignView,
    visited_at: DateTime<Utc>,
) -> Result<(), Error> {
    let campaign_start = view
        .campaign
        .starts_on
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(state.settings.timezone).earliest())
        .map(|t| t.with_timezone(&Utc));
    if visited_at > now() + chrono::Duration::minutes(5)
        || campaign_start.is_some_and(|start| visited_at < start)
    {
        return Err(Error::invalid_field(
            "visited_at",
            Msg::fixed(
                "must lie between the campaign's first day and now",
                "须在检查活动开始日与当前时间之间",
            ),
        ));
    }
    Ok(())
}

/// What each deduction of an item with a category files, prepared before the write lock
/// is taken.
async fn deduction_filings(
    state: &AppState,
    user: &CurrentUser,
    view: &CampaignView,
    visit: &Visit,
    scores: &[(&checklist_items::Model, &ItemScore)],
) -> Result<Vec<DeductionFiling>, Error> {
    let site = &visit.site;
    let site_point = GeoPoint::new(site.lat, site.lon).map_err(|m| Error::internal(m.en))?;
    let registry = state.registry.current(&state.db).await?;
    let mut filings = Vec::new();
    for (item, score) in scores {
        let deducted = item.max_points - score.score;
        let Some(code) = item.category_code.as_deref().filter(|_| deducted > 0.0) else {
            continue;
        };
        let category = registry
            .category(code)
            .cloned()
            .ok_or_else(|| Error::internal("checklist item names a missing category"))?;
        let placement = placement_for(site, &category, registry.locate(site_point, code));
        let description = format!(
            "【{}】{}（{}）：{} 扣 {} 分。{}",
            view.campaign.name, site.name, site.address, item.title, deducted, score.note
        )
        .trim_end()
        .to_owned();
        let draft = CaseDraft {
            held_until: None,
            client_id: None,
            request_hash: None,
            description,
            point: site_point,
            accuracy_m: None,
            address: site.address.clone(),
            observed_at: visit.visited_at,
            severity: Severity::Normal,
            source: CaseSource::Inspection,
            reporter: Some((user.id, user.role)),
            placement,
            inspection: Some(InspectionLink {
                campaign_id: visit.campaign_id,
                site_id: site.id,
                visit_id: visit.id,
            }),
        };
        let prepared = reports::prepare(state, registry.clone(), &category, &draft).await?;
        filings.push(DeductionFiling {
            item_id: item.id,
            category,
            draft,
            prepared,
        });
    }
    Ok(filings)
}

/// The visit, the cases its deductions file and its scores, in one transaction that holds
/// the campaign open. `None` when a concurrent retry or another visit to the site won.
async fn write(
    state: &AppState,
    visit: &Visit,
    items: &[checklist_items::Model],
    scores: &[(&checklist_items::Model, &ItemScore)],
    filings: Vec<DeductionFiling>,
) -> Result<Option<Recorded>, Error> {
    let at = now();
    let total: f64 = scores.iter().map(|(_, s)| s.score).sum();
    let max: f64 = items.iter().map(|i| i.max_points).sum();
    let txn = crate::services::begin_write(&state.db).await?;
    campaigns::hold_open(&txn, visit.campaign_id).await?;
    let inserted = visits::ActiveModel {
        id: Set(visit.id),
        client_id: Set(visit.client_id),
        request_hash: Set(visit.request_hash.clone()),
        campaign_id: Set(visit.campaign_id),
        site_id: Set(visit.site.id),
        inspector_id: Set(visit.inspector_id),
        visited_at: Set(visit.visited_at),
        notes: Set(visit.notes.clone()),
        score: Set(total),
        max_score: Set(max),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await;
    let written = match inserted {
        Ok(written) => written,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    let mut case_of_item: HashMap<Uuid, entity::ids::CaseId> = HashMap::new();
    for filing in filings {
        let case =
            reports::insert_case(&txn, state, &filing.category, filing.draft, filing.prepared)
                .await?
                .ok_or_else(|| Error::internal("an inspection case without client_id collided"))?;
        case_of_item.insert(filing.item_id, case.id);
    }
    let rows: Vec<visit_scores::ActiveModel> = scores
        .iter()
        .map(|(item, score)| visit_scores::ActiveModel {
            visit_id: Set(visit.id),
            item_id: Set(item.id),
            score: Set(score.score),
            max_points: Set(item.max_points),
            note: Set(score.note.clone()),
            case_id: Set(case_of_item.get(&item.id).copied()),
        })
        .collect();
    if !rows.is_empty() {
        visit_scores::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    tracing::info!(visit_id = %written.id, cases = case_of_item.len(), "visit recorded");
    Ok(Some(Recorded::Created(written)))
}

/// Each checklist item scored exactly once, in checklist order.
fn match_scores<'a>(
    items: &'a [checklist_items::Model],
    scores: &'a [ItemScore],
) -> Result<Vec<(&'a checklist_items::Model, &'a ItemScore)>, Error> {
    let mut by_item: HashMap<Uuid, &ItemScore> = HashMap::new();
    let mut errors = crate::error::FieldErrors::default();
    for (i, score) in scores.iter().enumerate() {
        if by_item.insert(score.item_id, score).is_some() {
            errors.add(
                &format!("scores[{i}].item_id"),
                Msg::fixed("scored twice", "重复评分"),
            );
        }
        match items.iter().find(|item| item.id == score.item_id) {
            None => errors.add(
                &format!("scores[{i}].item_id"),
                Msg::fixed(
                    "not an item of the campaign's checklist",
                    "不是本次考核表的条目",
                ),
            ),
            Some(item) => {
                if let Err(m) = crate::domain::inspection::parse_score(score.score, item.max_points)
                {
                    errors.add(&format!("scores[{i}].score"), m);
                }
            }
        }
        if score.note.chars().count() > 500 {
            errors.add(
                &format!("scores[{i}].note"),
                Msg::fixed("at most 500 characters", "最多 500 个字符"),
            );
        }
    }
    let missing: Vec<&str> = items
        .iter()
        .filter(|item| !by_item.contains_key(&item.id))
        .map(|item| item.title.as_str())
        .collect();
    if !missing.is_empty() {
        errors.add(
            "scores",
            Msg::new(
                format!("every item needs a score; missing: {}", missing.join(", ")),
                format!("每个条目都须评分，缺少：{}", missing.join("、")),
            ),
        );
    }
    errors.finish()?;
    Ok(items
        .iter()
        .filter_map(|item| by_item.get(&item.id).map(|s| (item, *s)))
        .collect())
}

/// A site that is a shopfront answers for its own frontage problems; everything else is
/// placed by the registry, as a patrol report at the same spot would be.
fn placement_for(
    site: &inspection_sites::Model,
    category: &categories::Model,
    located: Decision,
) -> Placement {
    match site.shopfront_id {
        Some(shop) if category.frontage => Placement {
            department: None,
            shopfront: Some(shop),
            reason: format!("inspection site {} is this shopfront's frontage", site.code),
            area_id: located.area_id,
        },
        _ => Placement::from_decision(located),
    }
}

fn retry_outcome(
    existing: visits::Model,
    request_hash: &str,
    campaign_id: CampaignId,
) -> Result<Recorded, Error> {
    if existing.request_hash == request_hash && existing.campaign_id == campaign_id {
        Ok(Recorded::Existing(existing))
    } else {
        Err(Error::new(ErrorCode::ClientIdConflict))
    }
}

async fn find_by_client_id(
    state: &AppState,
    client_id: Uuid,
) -> Result<Option<visits::Model>, Error> {
    Ok(visits::Entity::find()
        .filter(visits::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?)
}

/// Whether the user may see a visit: whoever may see its campaign, and the department or
/// shopfront that answers for the site once the visit is recorded.
async fn may_see(
    state: &AppState,
    user: &CurrentUser,
    visit: &visits::Model,
) -> Result<bool, Error> {
    if campaigns::visible(state, user, visit.campaign_id)
        .await
        .is_ok()
    {
        return Ok(true);
    }
    let site = super::sites::get(&state.db, visit.site_id).await?;
    let responsible = if user.role == Role::Department {
        let tree = super::AreaTree::load(&state.db).await?;
        let shops = super::shopfronts_by_id(&state.db, site.shopfront_id).await?;
        super::responsible_department(&tree, &shops, &site)
    } else {
        None
    };
    Ok(policy::sees_visit_as_inspected(
        user,
        site.shopfront_id,
        responsible,
    ))
}

pub async fn visible_visit(
    state: &AppState,
    user: &CurrentUser,
    id: VisitId,
) -> Result<visits::Model, Error> {
    let visit = visits::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)?;
    if may_see(state, user, &visit).await? {
        Ok(visit)
    } else {
        Err(Error::not_found())
    }
}

/// A visit with its scores and photos.
pub struct VisitDetails {
    pub visit: visits::Model,
    pub scores: Vec<visit_scores::Model>,
    pub photos: Vec<photos::Model>,
}

pub async fn details(state: &AppState, visit: visits::Model) -> Result<VisitDetails, Error> {
    let mut scores = visit_scores::Entity::find()
        .filter(visit_scores::Column::VisitId.eq(visit.id))
        .all(&state.db)
        .await?;
    // In the checklist's order, as the inspector scored them.
    let positions: HashMap<Uuid, i32> = checklist_items::Entity::find()
        .filter(checklist_items::Column::Id.is_in(scores.iter().map(|s| s.item_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.position))
        .collect();
    scores.sort_by_key(|s| positions.get(&s.item_id).copied().unwrap_or(i32::MAX));
    let photos = photos::Entity::find()
        .filter(photos::Column::VisitId.eq(visit.id))
        .order_by_asc(photos::Column::Id)
        .all(&state.db)
        .await?;
    Ok(VisitDetails {
        visit,
        scores,
        photos,
    })
}

/// The visits of a campaign the user may see.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    campaign_id: CampaignId,
) -> Result<Vec<visits::Model>, Error> {
    let all = visits::Entity::find()
        .filter(visits::Column::CampaignId.eq(campaign_id))
        .order_by_asc(visits::Column::Id)
        .all(&state.db)
        .await?;
    if campaigns::visible(state, user, campaign_id).await.is_ok() {
        return Ok(all);
    }
    let mut mine = Vec::new();
    for visit in all {
        if may_see(state, user, &visit).await? {
            mine.push(visit);
        }
    }
    if mine.is_empty() {
        // Nothing here the user may know of: the campaign does not exist for them.
        return Err(Error::not_found());
    }
    Ok(mine)
}

/// Where photos of a visit go, once the user is known to be allowed: whoever recorded it
/// or a supervisor, while the campaign is open.
pub async fn photo_owner(
    state: &AppState,
    user: &CurrentUser,
    campaign_id: CampaignId,
    visit_id: VisitId,
) -> Result<photo_service::Owner, Error> {
    let view = campaigns::visible(state, user, campaign_id).await?;
    let visit = visible_visit(state, user, visit_id).await?;
    if visit.campaign_id != campaign_id {
        return Err(Error::not_found());
    }
    policy::may_add_visit_photo(user, &visit)?;
    if !view.is_open() {
        return Err(campaigns::closed_error());
    }
    let site = super::sites::get(&state.db, visit.site_id).await?;
    let point = GeoPoint::new(site.lat, site.lon).map_err(|m| Error::internal(m.en))?;
    Ok(photo_service::Owner::Visit { visit, site: point })
}
