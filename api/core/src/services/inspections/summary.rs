//! The campaign review: score per site, mean and ranking per scope area and per
//! responsible department, problems per category, how the cases it filed are going, and
//! how it compares with an earlier round. Rates are percentages of the checklist's full
//! marks, rounded to two decimals only when shown; ties share a rank (1, 2, 2, 4).

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::ids::{CampaignId, DepartmentId, ShopfrontId, SiteId, VisitId};

use crate::domain::inspection::CampaignStatus;

use entity::{cases, categories, checklist_items, visit_scores, visits};

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope};
use crate::domain::CaseStatus;
use crate::domain::inspection::SiteType;
use crate::error::Error;
use crate::services::inspections::campaigns::{self, CampaignView};
use crate::services::now;
use crate::state::AppState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SiteResult {
    pub site_id: SiteId,
    pub code: String,
    pub name: String,
    pub site_type: SiteType,
    pub scope_area_id: Uuid,
    pub scope_area_name: String,
    pub area_name: String,
    pub department_id: Option<DepartmentId>,
    pub department_name: Option<String>,
    pub visited: bool,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    /// score ÷ max_score × 100.
    pub score_rate: Option<f64>,
    /// Items with points deducted.
    pub problems: u32,
    pub cases_filed: u32,
    /// Among visited sites, by score rate.
    pub rank: Option<u32>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GroupResult {
    /// The area or department; `null` for sites no department answers for.
    pub id: Option<Uuid>,
    pub name: String,
    pub sites_drawn: u32,
    pub sites_visited: u32,
    /// Mean of the visited sites' score rates.
    pub mean_score_rate: Option<f64>,
    pub problems: u32,
    pub rank: Option<u32>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryProblems {
    /// `null` for items without a category.
    pub category: Option<String>,
    pub name_zh: String,
    pub problems: u32,
    pub points_deducted: f64,
    pub cases_filed: u32,
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Progress {
    pub cases_filed: u32,
    /// Not yet closed or cancelled.
    pub open: u32,
    pub closed: u32,
    pub cancelled: u32,
    pub closed_on_time: u32,
    /// Open, past the deadline and not suspended.
    pub overdue: u32,
    /// closed ÷ (filed − cancelled) × 100.
    pub closure_rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AreaChange {
    pub area_id: Uuid,
    pub name: String,
    pub then: Option<f64>,
    pub now: Option<f64>,
    pub change: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub campaign_id: CampaignId,
    pub name: String,
    pub mean_score_rate_then: Option<f64>,
    pub mean_score_rate_now: Option<f64>,
    pub change: Option<f64>,
    pub problems_then: u32,
    pub problems_now: u32,
    pub areas: Vec<AreaChange>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Summary {
    pub campaign_id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub sites_drawn: u32,
    pub sites_visited: u32,
    pub mean_score_rate: Option<f64>,
    pub problems: u32,
    /// Every drawn site, best first; unvisited sites last.
    pub sites: Vec<SiteResult>,
    pub areas: Vec<GroupResult>,
    pub departments: Vec<GroupResult>,
    pub categories: Vec<CategoryProblems>,
    pub progress: Progress,
    pub comparison: Option<Comparison>,
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Competition ranking of `values` (higher is better), on the rounded figure the
/// bulletin prints, so two sites shown with the same rate share a rank.
fn ranks(values: &[Option<f64>]) -> Vec<Option<u32>> {
    let mut shown: Vec<f64> = values.iter().flatten().map(|v| round2(*v)).collect();
    shown.sort_by(|a, b| b.total_cmp(a));
    values
        .iter()
        .map(|v| {
            v.map(|mine| {
                let mine = round2(mine);
                // Those shown higher, found by binary search in the descending list.
                1 + shown.partition_point(|other| *other > mine) as u32
            })
        })
        .collect()
}

pub async fn summary(
    state: &AppState,
    user: &CurrentUser,
    campaign_id: CampaignId,
    compare_to: Option<CampaignId>,
) -> Result<Summary, Error> {
    let view = campaigns::visible(state, user, campaign_id).await?;
    let scope = crate::services::scope::case_scope(state, user).await?;
    let mut result = compute(state, &view, &scope).await?;
    if let Some(earlier) = compare_to {
        let earlier_view = campaigns::visible(state, user, earlier).await?;
        let then = compute(state, &earlier_view, &scope).await?;
        result.comparison = Some(compare(&result, &then));
    }
    Ok(result)
}

/// The summary of a campaign, counting the cases it filed that `scope` holds.
pub async fn compute(
    state: &AppState,
    view: &CampaignView,
    scope: &CaseScope,
) -> Result<Summary, Error> {
    let campaign = &view.campaign;
    let read = Rows::read(state, campaign, scope).await?;
    let problems = Problems::of(&read);
    let sites = site_results(&read, &problems);
    let areas = group(&sites, |s| {
        (Some(s.scope_area_id), s.scope_area_name.clone())
    });
    let departments = group(&sites, |s| {
        (
            s.department_id.map(|id| id.0),
            s.department_name
                .clone()
                .unwrap_or_else(|| "未明确责任单位".to_owned()),
        )
    });
    let visited_rates: Vec<f64> = sites.iter().filter_map(|s| s.score_rate).collect();
    let mut result = Summary {
        campaign_id: campaign.id,
        name: campaign.name.clone(),
        status: campaign.status,
        sites_drawn: sites.len() as u32,
        sites_visited: visited_rates.len() as u32,
        mean_score_rate: mean(&visited_rates).map(round2),
        problems: sites.iter().map(|s| s.problems).sum(),
        sites,
        areas,
        departments,
        categories: problems.by_category.into_values().collect(),
        progress: progress(&read.filed, now()),
        comparison: None,
    };
    for site in &mut result.sites {
        site.score_rate = site.score_rate.map(round2);
    }
    Ok(result)
}

/// Everything a summary is computed from, read once.
struct Rows {
    drawn: Vec<entity::campaign_sites::Model>,
    sites: HashMap<SiteId, entity::inspection_sites::Model>,
    tree: super::AreaTree,
    shops: HashMap<ShopfrontId, entity::shopfronts::Model>,
    department_names: HashMap<DepartmentId, String>,
    /// By site.
    visits: HashMap<SiteId, visits::Model>,
    scores: Vec<visit_scores::Model>,
    items: HashMap<Uuid, checklist_items::Model>,
    category_names: HashMap<String, String>,
    /// The cases the campaign filed.
    filed: Vec<cases::Model>,
}

impl Rows {
    async fn read(
        state: &AppState,
        campaign: &entity::campaigns::Model,
        scope: &CaseScope,
    ) -> Result<Self, Error> {
        let drawn = campaigns::drawn_sites(state, campaign.id).await?;
        let sites = campaigns::sites_by_id(state, drawn.iter().map(|d| d.site_id)).await?;
        let tree = super::AreaTree::load(&state.db).await?;
        let shops =
            super::shopfronts_by_id(&state.db, sites.values().filter_map(|s| s.shopfront_id))
                .await?;
        let department_names = super::department_names(&state.db).await?;
        let visits: HashMap<SiteId, visits::Model> = visits::Entity::find()
            .filter(visits::Column::CampaignId.eq(campaign.id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|v| (v.site_id, v))
            .collect();
        let visit_ids: Vec<VisitId> = visits.values().map(|v| v.id).collect();
        let mut scores: Vec<visit_scores::Model> = Vec::new();
        for chunk in visit_ids.chunks(500) {
            scores.extend(
                visit_scores::Entity::find()
                    .filter(visit_scores::Column::VisitId.is_in(chunk.to_vec()))
                    .all(&state.db)
                    .await?,
            );
        }
        let items = checklist_items::Entity::find()
            .filter(checklist_items::Column::ChecklistId.eq(campaign.checklist_id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        let category_names = categories::Entity::find()
            .all(&state.db)
            .await?
            .into_iter()
            .map(|c| (c.code, c.name_zh))
            .collect();
        let filed = cases::Entity::find()
            .filter(cases::Column::CampaignId.eq(campaign.id))
            .filter(policy::case_condition(scope))
            .all(&state.db)
            .await?;
        Ok(Self {
            drawn,
            sites,
            tree,
            shops,
            department_names,
            visits,
            scores,
            items,
            category_names,
            filed,
        })
    }
}

/// The problems the visits found: every item that lost points is one.
struct Problems {
    by_visit: HashMap<VisitId, u32>,
    cases_by_visit: HashMap<VisitId, u32>,
    by_category: BTreeMap<Option<String>, CategoryProblems>,
}

impl Problems {
    fn of(read: &Rows) -> Self {
        let mut problems = Problems {
            by_visit: HashMap::new(),
            cases_by_visit: HashMap::new(),
            by_category: BTreeMap::new(),
        };
        for score in &read.scores {
            let deducted = score.max_points - score.score;
            if deducted <= 0.0 {
                continue;
            }
            *problems.by_visit.entry(score.visit_id).or_default() += 1;
            let category = read
                .items
                .get(&score.item_id)
                .and_then(|i| i.category_code.clone());
            let entry = problems
                .by_category
                .entry(category.clone())
                .or_insert_with(|| CategoryProblems {
                    name_zh: category
                        .as_ref()
                        .and_then(|c| read.category_names.get(c).cloned())
                        .unwrap_or_else(|| "其他".to_owned()),
                    category,
                    problems: 0,
                    points_deducted: 0.0,
                    cases_filed: 0,
                });
            entry.problems += 1;
            entry.points_deducted += deducted;
            if score.case_id.is_some() {
                entry.cases_filed += 1;
                *problems.cases_by_visit.entry(score.visit_id).or_default() += 1;
            }
        }
        problems
    }
}

/// Each drawn site with its visit's result, ranked by score rate (unvisited last).
fn site_results(read: &Rows, problems: &Problems) -> Vec<SiteResult> {
    let mut sites: Vec<SiteResult> = read
        .drawn
        .iter()
        .filter_map(|d| {
            let site = read.sites.get(&d.site_id)?;
            let visit = read.visits.get(&site.id);
            let department_id = super::responsible_department(&read.tree, &read.shops, site);
            Some(SiteResult {
                site_id: site.id,
                code: site.code.clone(),
                name: site.name.clone(),
                site_type: site.site_type,
                scope_area_id: d.scope_area_id,
                scope_area_name: read.tree.name(d.scope_area_id),
                area_name: read.tree.name(site.area_id),
                department_id,
                department_name: department_id
                    .and_then(|id| read.department_names.get(&id).cloned()),
                visited: visit.is_some(),
                score: visit.map(|v| v.score),
                max_score: visit.map(|v| v.max_score),
                score_rate: visit
                    .filter(|v| v.max_score > 0.0)
                    .map(|v| v.score / v.max_score * 100.0),
                problems: visit
                    .and_then(|v| problems.by_visit.get(&v.id).copied())
                    .unwrap_or(0),
                cases_filed: visit
                    .and_then(|v| problems.cases_by_visit.get(&v.id).copied())
                    .unwrap_or(0),
                rank: None,
            })
        })
        .collect();
    let site_ranks = ranks(&sites.iter().map(|s| s.score_rate).collect::<Vec<_>>());
    for (site, rank) in sites.iter_mut().zip(site_ranks) {
        site.rank = rank;
    }
    sites.sort_by(|a, b| {
        (a.rank.unwrap_or(u32::MAX), &a.code).cmp(&(b.rank.unwrap_or(u32::MAX), &b.code))
    });
    sites
}

/// Where the cases the campaign filed stand now.
fn progress(filed: &[cases::Model], now: chrono::DateTime<chrono::Utc>) -> Progress {
    let mut progress = Progress {
        cases_filed: filed.len() as u32,
        ..Progress::default()
    };
    for case in filed {
        match case.status {
            CaseStatus::Closed => {
                progress.closed += 1;
                if case
                    .closed_at
                    .zip(case.deadline_at)
                    .is_some_and(|(c, d)| c <= d)
                {
                    progress.closed_on_time += 1;
                }
            }
            CaseStatus::Cancelled => progress.cancelled += 1,
            _ => {
                progress.open += 1;
                if case.suspended_at.is_none() && case.deadline_at.is_some_and(|d| d < now) {
                    progress.overdue += 1;
                }
            }
        }
    }
    let countable = progress.cases_filed - progress.cancelled;
    progress.closure_rate =
        (countable > 0).then(|| round2(f64::from(progress.closed) / f64::from(countable) * 100.0));
    progress
}

/// Groups sites, ranks the groups by mean score rate (unvisited groups last).
fn group(
    sites: &[SiteResult],
    key: impl Fn(&SiteResult) -> (Option<Uuid>, String),
) -> Vec<GroupResult> {
    let mut groups: Vec<(GroupResult, Vec<f64>)> = Vec::new();
    for site in sites {
        let (id, name) = key(site);
        let index = match groups.iter().position(|(g, _)| g.id == id) {
            Some(index) => index,
            None => {
                groups.push((
                    GroupResult {
                        id,
                        name,
                        sites_drawn: 0,
                        sites_visited: 0,
                        mean_score_rate: None,
                        problems: 0,
                        rank: None,
                    },
                    Vec::new(),
                ));
                groups.len() - 1
            }
        };
        let (result, rates) = &mut groups[index];
        result.sites_drawn += 1;
        result.problems += site.problems;
        if let Some(rate) = site.score_rate {
            result.sites_visited += 1;
            rates.push(rate);
        }
    }
    let means: Vec<Option<f64>> = groups.iter().map(|(_, rates)| mean(rates)).collect();
    let group_ranks = ranks(&means);
    let mut results: Vec<GroupResult> = groups
        .into_iter()
        .zip(means.into_iter().zip(group_ranks))
        .map(|((mut g, _), (m, rank))| {
            g.mean_score_rate = m.map(round2);
            g.rank = rank;
            g
        })
        .collect();
    results.sort_by(|a, b| {
        (a.rank.unwrap_or(u32::MAX), &a.name).cmp(&(b.rank.unwrap_or(u32::MAX), &b.name))
    });
    results
}

fn compare(now: &Summary, then: &Summary) -> Comparison {
    let change = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(n, t)| round2(n - t));
    let mut areas: Vec<AreaChange> = now
        .areas
        .iter()
        .filter_map(|g| g.id.map(|id| (id, g)))
        .map(|(id, g)| {
            let earlier = then
                .areas
                .iter()
                .find(|t| t.id == Some(id))
                .and_then(|t| t.mean_score_rate);
            AreaChange {
                area_id: id,
                name: g.name.clone(),
                then: earlier,
                now: g.mean_score_rate,
                change: change(g.mean_score_rate, earlier),
            }
        })
        .collect();
    for earlier in &then.areas {
        if let Some(id) = earlier.id
            && !areas.iter().any(|a| a.area_id == id)
        {
            areas.push(AreaChange {
                area_id: id,
                name: earlier.name.clone(),
                then: earlier.mean_score_rate,
                now: None,
                change: None,
            });
        }
    }
    Comparison {
        campaign_id: then.campaign_id,
        name: then.name.clone(),
        mean_score_rate_then: then.mean_score_rate,
        mean_score_rate_now: now.mean_score_rate,
        change: change(now.mean_score_rate, then.mean_score_rate),
        problems_then: then.problems,
        problems_now: now.problems,
        areas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_the_next_rank_skips() {
        let r = ranks(&[Some(90.0), Some(95.0), Some(90.001), None, Some(80.0)]);
        assert_eq!(r, vec![Some(2), Some(1), Some(2), None, Some(4)]);
    }

    #[test]
    fn means_round_only_when_shown() {
        assert_eq!(mean(&[]), None);
        assert_eq!(round2(mean(&[90.0, 85.0, 80.0]).unwrap()), 85.0);
        assert_eq!(round2(200.0 / 3.0), 66.67);
    }
}
