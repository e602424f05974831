//! Reading cases: one case as its reader may see it, pages of cases, nearby open cases, a
//! case's details and history.

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope};
use crate::domain::{CaseStatus, GeoPoint};
use crate::error::Error;
use crate::services::{events, now, scope};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{case_events, cases, photos};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use entity::ids::{CaseId, UserId};

/// Loads a case the user may see, or 404.
pub async fn visible_case(
    state: &AppState,
    user: &CurrentUser,
    id: CaseId,
) -> Result<cases::Model, Error> {
    visible_case_in(&state.db, &scope::case_scope(state, user).await?, id).await
}

pub async fn visible_case_in(
    db: &impl ConnectionTrait,
    scope: &CaseScope,
    id: CaseId,
) -> Result<cases::Model, Error> {
    cases::Entity::find_by_id(id)
        .filter(policy::case_condition(scope))
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

/// Open cases of `category` within `radius_m` of `point`, nearest first (at most 20).
pub async fn nearby(
    state: &AppState,
    user: &CurrentUser,
    point: GeoPoint,
    category: &str,
    radius_m: f64,
) -> Result<Vec<(cases::Model, f64)>, Error> {
    let (min_lat, min_lon, max_lat, max_lon) = point.bounding_box(radius_m);
    let candidates = cases::Entity::find()
        .filter(policy::not_secret_to(user))
        .filter(cases::Column::CategoryCode.eq(category))
        .filter(cases::Column::Status.is_in(CaseStatus::OPEN))
        .filter(cases::Column::Lat.between(min_lat, max_lat))
        .filter(cases::Column::Lon.between(min_lon, max_lon))
        .limit(500)
        .all(&state.db)
        .await?;
    let mut near: Vec<(cases::Model, f64)> = candidates
        .into_iter()
        .filter_map(|case| {
            let at = GeoPoint::new(case.lat, case.lon).ok()?;
            let distance = point.distance_m(at);
            (distance <= radius_m).then_some((case, distance))
        })
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1));
    near.truncate(20);
    Ok(near)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest first.
    #[default]
    Created,
    /// Soonest deadline first.
    Deadline,
    /// Least recently updated first: for a phone's delta sync with `updated_since`.
    Updated,
}

/// Where the previous page ended, in the sort's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseCursor {
    pub key: Option<DateTime<Utc>>,
    pub id: CaseId,
}

#[derive(Debug, Default)]
pub struct CaseFilter {
    pub statuses: Vec<CaseStatus>,
    pub category: Option<String>,
    pub area_id: Option<Uuid>,
    /// A department's or a shop's id: the cases assigned to either.
    pub assignee_id: Option<Uuid>,
    pub reporter_id: Option<UserId>,
    pub overdue: Option<bool>,
    /// (min_lon, min_lat, max_lon, max_lat), WGS-84.
    pub bbox: Option<(f64, f64, f64, f64)>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: CaseSort,
    pub after: Option<CaseCursor>,
    pub limit: u64,
}

/// One page of the cases the user may see, and the cursor of the next page.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    filter: &CaseFilter,
) -> Result<(Vec<cases::Model>, Option<CaseCursor>), Error> {
    let at = now();
    let mut condition = Condition::all().add(policy::case_condition(
        &scope::case_scope(state, user).await?,
    ));
    if let Some(category) = &filter.category {
        condition = condition.add(cases::Column::CategoryCode.eq(category));
    }
    if let Some(area) = filter.area_id {
        condition = condition.add(cases::Column::AreaId.eq(area));
    }
    if let Some(assignee) = filter.assignee_id {
        condition = condition.add(
            Condition::any()
                .add(cases::Column::AssigneeDepartmentId.eq(assignee))
                .add(cases::Column::AssigneeShopfrontId.eq(assignee)),
        );
    }
    if let Some(reporter) = filter.reporter_id {
        condition = condition.add(cases::Column::ReporterId.eq(reporter));
    }
    let overdue = Condition::all()
        .add(cases::Column::DeadlineAt.lt(at))
        .add(cases::Column::SuspendedAt.is_null())
        .add(cases::Column::Status.is_in(CaseStatus::OPEN));
    match filter.overdue {
        Some(true) => condition = condition.add(overdue),
        Some(false) => condition = condition.add(overdue.not()),
        None => {}
    }
    if let Some((min_lon, min_lat, max_lon, max_lat)) = filter.bbox {
        condition = condition
            .add(cases::Column::Lat.between(min_lat, max_lat))
            .add(cases::Column::Lon.between(min_lon, max_lon));
    }
    if let Some(from) = filter.created_from {
        condition = condition.add(cases::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.created_to {
        condition = condition.add(cases::Column::CreatedAt.lt(to));
    }
    if let Some(since) = filter.updated_since {
        condition = condition.add(cases::Column::UpdatedAt.gt(since));
    }

    let mut query = cases::Entity::find();
    match filter.sort {
        CaseSort::Created => {
            if let Some(after) = filter.after {
                condition = condition.add(cases::Column::Id.lt(after.id));
            }
            query = query.order_by_desc(cases::Column::Id);
        }
        CaseSort::Deadline | CaseSort::Updated => {
            let column = if filter.sort == CaseSort::Deadline {
                cases::Column::DeadlineAt
            } else {
                cases::Column::UpdatedAt
            };
            if filter.sort == CaseSort::Deadline {
                condition = condition.add(cases::Column::DeadlineAt.is_not_null());
            }
            if let Some(CaseCursor { key: Some(key), id }) = filter.after {
                condition = condition.add(
                    Condition::any().add(column.gt(key)).add(
                        Condition::all()
                            .add(column.eq(key))
                            .add(cases::Column::Id.gt(id)),
                    ),
                );
            }
            query = query.order_by_asc(column).order_by_asc(cases::Column::Id);
        }
    }
    // Several statuses are asked one by one and the pages merged: each then walks its own
    // (status, deadline) index in order, where one `status IN (…)` query would make
    // PostgreSQL walk the deadline index through every closed case to find open ones.
    let mut statuses: Vec<Option<CaseStatus>> = Vec::new();
    for status in &filter.statuses {
        if !statuses.contains(&Some(*status)) {
            statuses.push(Some(*status));
        }
    }
    if statuses.is_empty() {
        statuses.push(None);
    }
    // The page's ids first, then its rows: where the filters allow, the ids come from an
    // index alone (a bounding box: (lat, lon, id)), where asking for whole rows in id
    // order let PostgreSQL walk the primary key through a hundred thousand rows.
    let mut ids: Vec<Uuid> = Vec::new();
    for status in statuses {
        let mut part = condition.clone();
        if let Some(status) = status {
            part = part.add(cases::Column::Status.eq(status));
        }
        ids.extend(
            query
                .clone()
                .filter(part)
                .select_only()
                .column(cases::Column::Id)
                .limit(filter.limit + 1)
                .into_tuple::<Uuid>()
                .all(&state.db)
                .await?,
        );
    }
    let mut rows = if ids.is_empty() {
        Vec::new()
    } else {
        cases::Entity::find()
            .filter(cases::Column::Id.is_in(ids))
            .all(&state.db)
            .await?
    };
    match filter.sort {
        CaseSort::Created => rows.sort_by_key(|c| std::cmp::Reverse(c.id)),
        CaseSort::Deadline => rows.sort_by_key(|c| (c.deadline_at, c.id)),
        CaseSort::Updated => rows.sort_by_key(|c| (c.updated_at, c.id)),
    }
    rows.truncate(usize::try_from(filter.limit + 1).unwrap_or(usize::MAX));
    let more = rows.len() as u64 > filter.limit;
    rows.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
    let next = rows.last().filter(|_| more).map(|last| CaseCursor {
        key: match filter.sort {
            CaseSort::Created => None,
            CaseSort::Deadline => last.deadline_at,
            CaseSort::Updated => Some(last.updated_at),
        },
        id: last.id,
    });
    Ok((rows, next))
}

/// What a case shows beside its own row: photos, assignee name, history.
pub struct CaseDetails {
    pub photos: Vec<photos::Model>,
    pub assignee_name: Option<String>,
}

/// Photos (one query) and assignee names (from the registry snapshot) for a page of cases.
pub async fn details_for(
    state: &AppState,
    page: &[cases::Model],
) -> Result<Vec<CaseDetails>, Error> {
    let registry = state.registry.current(&state.db).await?;
    let ids: Vec<CaseId> = page.iter().map(|c| c.id).collect();
    let mut all_photos = if ids.is_empty() {
        Vec::new()
    } else {
        photos::Entity::find()
            .filter(photos::Column::CaseId.is_in(ids))
            .order_by_asc(photos::Column::Id)
            .all(&state.db)
            .await?
    };
    Ok(page
        .iter()
        .map(|case| {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut all_photos)
                .into_iter()
                .partition(|p| p.case_id == Some(case.id));
            all_photos = rest;
            let assignee_name = registry.assignee_name(case);
            CaseDetails {
                photos: mine,
                assignee_name,
            }
        })
        .collect())
}

pub async fn history(state: &AppState, case_id: CaseId) -> Result<Vec<case_events::Model>, Error> {
    events::history(&state.db, case_id).await
}
