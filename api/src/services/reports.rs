//! Filing and reading cases. Filing is idempotent on the phone's `client_id`: a retry
//! gets the case that was made, even when the retries race each other.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{case_events, cases, categories, photos};

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope};
use crate::domain::case::case_no;
use crate::domain::{AssigneeKind, CaseSource, CaseStatus, GeoPoint, Severity};
use crate::error::{ApiError, ErrorCode, Msg};
use crate::services::assignment::{Registry, Target};
use crate::services::{events, now};
use crate::state::AppState;

/// A validated filing.
#[derive(Debug, Serialize)]
pub struct NewReport {
    pub client_id: Uuid,
    pub category: String,
    pub description: String,
    #[serde(skip)]
    pub point: GeoPoint,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub address: String,
    pub observed_at: DateTime<Utc>,
    pub severity: Severity,
}

impl NewReport {
    /// What makes two filings "the same report": every field the phone sent.
    fn request_hash(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }
}

pub enum Filed {
    Created(cases::Model),
    /// A retry of an earlier filing with the same `client_id` and payload.
    Existing(cases::Model),
}

pub async fn file(state: &AppState, user: &CurrentUser, new: NewReport) -> Result<Filed, ApiError> {
    let request_hash = new.request_hash();
    if let Some(existing) = find_by_client_id(&state.db, new.client_id).await? {
        return retry_outcome(existing, &request_hash);
    }
    let registry = state.registry.current(&state.db).await?;
    let category = active_category(&registry, &new.category)?;
    let placement = Placement::from_decision(registry.locate(new.point, &category.code));
    let draft = CaseDraft {
        client_id: Some(new.client_id),
        request_hash: Some(request_hash.clone()),
        description: new.description,
        point: new.point,
        accuracy_m: new.accuracy_m,
        address: new.address,
        observed_at: new.observed_at,
        severity: new.severity,
        source: CaseSource::Patrol,
        reporter: Some((user.id, user.role)),
        placement,
        inspection: None,
    };
    let prepared = prepare(state, registry.clone(), &category, &draft).await?;
    let txn = crate::services::begin_write(&state.db).await?;
    let Some(case) = insert_case(&txn, state, &category, draft, prepared).await? else {
        // A concurrent retry with the same client_id won the race.
        txn.rollback().await?;
        let existing = find_by_client_id(&state.db, new.client_id)
            .await?
            .ok_or_else(|| ApiError::internal("client_id conflict without a case"))?;
        return retry_outcome(existing, &request_hash);
    };
    txn.commit().await?;
    tracing::info!(case_id = %case.id, case_no = %case.case_no, "case filed");
    Ok(Filed::Created(case))
}

/// An active category, or 422 on `category`.
pub fn active_category(registry: &Registry, code: &str) -> Result<categories::Model, ApiError> {
    registry
        .category(code)
        .filter(|c| c.active)
        .cloned()
        .ok_or_else(|| {
            ApiError::invalid_field(
                "category",
                Msg::fixed("no such active category", "类别不存在或已停用"),
            )
        })
}

/// Who a new case goes to, and why. No assignee means the supervisors' triage queue.
#[derive(Clone, Debug)]
pub struct Placement {
    pub department: Option<Uuid>,
    pub shopfront: Option<Uuid>,
    pub reason: String,
    pub area_id: Option<Uuid>,
}

impl Placement {
    pub fn from_decision(decision: crate::services::assignment::Decision) -> Self {
        let (department, shopfront) = match decision.target {
            Target::Department(id) => (Some(id), None),
            Target::Shopfront(id) => (None, Some(id)),
            Target::Triage => (None, None),
        };
        Self {
            department,
            shopfront,
            reason: decision.reason,
            area_id: decision.area_id,
        }
    }

    fn assigned(&self) -> bool {
        self.department.is_some() || self.shopfront.is_some()
    }
}

/// The campaign, site and visit whose deduction files a case.
#[derive(Clone, Copy, Debug)]
pub struct InspectionLink {
    pub campaign_id: Uuid,
    pub site_id: Uuid,
    pub visit_id: Uuid,
}

/// Everything about a new case but its number, deadline and recurrence.
#[derive(Clone, Debug)]
pub struct CaseDraft {
    pub client_id: Option<Uuid>,
    pub request_hash: Option<String>,
    pub description: String,
    pub point: GeoPoint,
    pub accuracy_m: Option<f64>,
    pub address: String,
    pub observed_at: DateTime<Utc>,
    pub severity: Severity,
    pub source: CaseSource,
    /// Who filed it; `None` for the public (Open311).
    pub reporter: Option<(Uuid, crate::domain::Role)>,
    pub placement: Placement,
    pub inspection: Option<InspectionLink>,
}

/// What is read before the write transaction: the deadline and a recurred case.
pub struct Prepared {
    at: DateTime<Utc>,
    year: i32,
    deadline: DateTime<Utc>,
    recurrence_of: Option<Uuid>,
    registry: Arc<Registry>,
}

pub async fn prepare(
    state: &AppState,
    registry: Arc<Registry>,
    category: &categories::Model,
    draft: &CaseDraft,
) -> Result<Prepared, ApiError> {
    let recurrence_of = recent_closed_case_near(state, draft.point, &category.code).await?;
    let at = now();
    let year = at.with_timezone(&state.settings.timezone).year();
    state.case_numbers.prepare_year(&state.db, year).await?;
    Ok(Prepared {
        at,
        year,
        deadline: registry.deadline(category, draft.severity, at, state.settings.timezone),
        recurrence_of,
        registry,
    })
}

/// Inserts a case with its `file` event (and `assign` event and notice when it has an
/// assignee) inside the caller's write transaction. `None` when the `client_id` is taken
/// (a concurrent retry won): the caller rolls back and answers with that case.
pub async fn insert_case(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    category: &categories::Model,
    draft: CaseDraft,
    prepared: Prepared,
) -> Result<Option<cases::Model>, ApiError> {
    let Prepared {
        at,
        year,
        deadline,
        recurrence_of,
        registry,
    } = prepared;
    let placement = draft.placement;
    let assigned = placement.assigned();
    let sequence = state.case_numbers.next(txn, year).await?;
    let overseer = match (placement.department, placement.shopfront) {
        (Some(department), _) => Some(department),
        (None, Some(shop)) => shop_department_locked(txn, shop).await?,
        (None, None) => None,
    };
    let inserted = cases::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_no: Set(case_no(year, sequence)),
        client_id: Set(draft.client_id),
        request_hash: Set(draft.request_hash),
        category_code: Set(category.code.clone()),
        description: Set(draft.description),
        lat: Set(draft.point.lat()),
        lon: Set(draft.point.lon()),
        accuracy_m: Set(draft.accuracy_m),
        address: Set(draft.address),
        observed_at: Set(draft.observed_at),
        severity: Set(draft.severity.as_str().to_owned()),
        source: Set(draft.source.as_str().to_owned()),
        status: Set(if assigned {
            CaseStatus::Assigned
        } else {
            CaseStatus::Reported
        }
        .as_str()
        .to_owned()),
        reporter_id: Set(draft.reporter.map(|(id, _)| id)),
        assignee_kind: Set(assignee_kind(placement.department, placement.shopfront)),
        assignee_department_id: Set(placement.department),
        assignee_shopfront_id: Set(placement.shopfront),
        overseer_department_id: Set(overseer),
        assignment_reason: Set(Some(placement.reason.clone())),
        area_id: Set(placement.area_id),
        deadline_at: Set(Some(deadline)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        closed_at: Set(None),
        rework_count: Set(0),
        recurrence_count: Set(0),
        rectified_by: Set(None),
        duplicate_of: Set(None),
        recurrence_of: Set(recurrence_of),
        pending_request: Set(None),
        requested_until: Set(None),
        suspended_at: Set(None),
        overdue_notified_at: Set(None),
        campaign_id: Set(draft.inspection.map(|i| i.campaign_id)),
        site_id: Set(draft.inspection.map(|i| i.site_id)),
        visit_id: Set(draft.inspection.map(|i| i.visit_id)),
    }
    .insert(txn)
    .await;
    let case = match inserted {
        Ok(case) => case,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    let mut history = vec![events::NewEvent {
        case_id: case.id,
        action: "file",
        from_status: None,
        to_status: CaseStatus::Reported,
        actor: draft.reporter,
        note: None,
        photo_ids: Vec::new(),
        at,
    }];
    if assigned {
        // Automatic assignment is its own step in the history, by no person.
        history.push(events::NewEvent {
            case_id: case.id,
            action: "assign",
            from_status: Some(CaseStatus::Reported),
            to_status: CaseStatus::Assigned,
            actor: None,
            note: Some(placement.reason),
            photo_ids: Vec::new(),
            at,
        });
    }
    events::insert_all(txn, &events::chain(None, history)?).await?;
    if assigned {
        crate::services::notify::enqueue(
            txn,
            &registry,
            &case,
            crate::services::notify::Notice::Assigned,
        )
        .await?;
    }
    Ok(Some(case))
}

/// The department overseeing `shop`, read with a share lock inside the caller's write
/// transaction: a shop moving department at the same moment either waits for this case
/// (and then moves it along) or is seen moved; hand assignment reads the shop the same way.
async fn shop_department_locked(
    txn: &impl ConnectionTrait,
    shop: Uuid,
) -> Result<Option<Uuid>, ApiError> {
    Ok(entity::shopfronts::Entity::find_by_id(shop)
        .lock_shared()
        .one(txn)
        .await?
        .and_then(|s| s.department_id))
}

/// A new case recurs (反弹) a case of the same category closed within this many days ...
pub const RECURRENCE_DAYS: i64 = 90;
/// ... and this many metres.
pub const RECURRENCE_RADIUS_M: f64 = 30.0;

/// The nearest case of `category` closed (not as a duplicate) in the last 90 days within
/// 30 m of `point`.
async fn recent_closed_case_near(
    state: &AppState,
    point: GeoPoint,
    category: &str,
) -> Result<Option<Uuid>, ApiError> {
    let (min_lat, min_lon, max_lat, max_lon) = point.bounding_box(RECURRENCE_RADIUS_M);
    let candidates = cases::Entity::find()
        .filter(cases::Column::CategoryCode.eq(category))
        .filter(cases::Column::Status.eq(CaseStatus::Closed.as_str()))
        .filter(cases::Column::DuplicateOf.is_null())
        .filter(cases::Column::ClosedAt.gte(now() - Duration::days(RECURRENCE_DAYS)))
        .filter(cases::Column::Lat.between(min_lat, max_lat))
        .filter(cases::Column::Lon.between(min_lon, max_lon))
        .limit(100)
        .all(&state.db)
        .await?;
    Ok(candidates
        .into_iter()
        .filter_map(|c| {
            GeoPoint::new(c.lat, c.lon)
                .ok()
                .map(|at| (c.id, at.distance_m(point)))
        })
        .filter(|(_, distance)| *distance <= RECURRENCE_RADIUS_M)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id))
}

/// Cases filed as recurrences of `case_id`.
pub async fn recurrences_of(
    state: &AppState,
    case_id: Uuid,
) -> Result<Vec<cases::Model>, ApiError> {
    Ok(cases::Entity::find()
        .filter(cases::Column::RecurrenceOf.eq(case_id))
        .order_by_asc(cases::Column::Id)
        .all(&state.db)
        .await?)
}

fn assignee_kind(department: Option<Uuid>, shopfront: Option<Uuid>) -> Option<String> {
    match (department, shopfront) {
        (_, Some(_)) => Some(AssigneeKind::Shopfront.as_str().to_owned()),
        (Some(_), None) => Some(AssigneeKind::Department.as_str().to_owned()),
        (None, None) => None,
    }
}

fn retry_outcome(existing: cases::Model, request_hash: &str) -> Result<Filed, ApiError> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Filed::Existing(existing))
    } else {
        Err(ApiError::new(ErrorCode::ClientIdConflict))
    }
}

async fn find_by_client_id(
    db: &impl ConnectionTrait,
    client_id: Uuid,
) -> Result<Option<cases::Model>, ApiError> {
    Ok(cases::Entity::find()
        .filter(cases::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

/// Loads a case the user may see, or 404.
pub async fn visible_case(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<cases::Model, ApiError> {
    visible_case_in(&state.db, policy::case_scope(user), id).await
}

pub async fn visible_case_in(
    db: &impl ConnectionTrait,
    scope: CaseScope,
    id: Uuid,
) -> Result<cases::Model, ApiError> {
    cases::Entity::find_by_id(id)
        .filter(policy::case_condition(scope))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Open cases of `category` within `radius_m` of `point`, nearest first (at most 20).
pub async fn nearby(
    state: &AppState,
    user: &CurrentUser,
    point: GeoPoint,
    category: &str,
    radius_m: f64,
) -> Result<Vec<(cases::Model, f64)>, ApiError> {
    let (min_lat, min_lon, max_lat, max_lon) = point.bounding_box(radius_m);
    let candidates = cases::Entity::find()
        .filter(policy::case_condition(policy::case_scope(user)))
        .filter(cases::Column::CategoryCode.eq(category))
        .filter(cases::Column::Status.is_in(CaseStatus::OPEN.map(CaseStatus::as_str)))
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
    pub id: Uuid,
}

#[derive(Debug, Default)]
pub struct CaseFilter {
    pub statuses: Vec<CaseStatus>,
    pub category: Option<String>,
    pub area_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub reporter_id: Option<Uuid>,
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
) -> Result<(Vec<cases::Model>, Option<CaseCursor>), ApiError> {
    let at = now();
    let mut condition = Condition::all().add(policy::case_condition(policy::case_scope(user)));
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
        .add(cases::Column::Status.is_in(CaseStatus::OPEN.map(CaseStatus::as_str)));
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
            part = part.add(cases::Column::Status.eq(status.as_str()));
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
) -> Result<Vec<CaseDetails>, ApiError> {
    let registry = state.registry.current(&state.db).await?;
    let ids: Vec<Uuid> = page.iter().map(|c| c.id).collect();
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

pub async fn history(state: &AppState, case_id: Uuid) -> Result<Vec<case_events::Model>, ApiError> {
    events::history(&state.db, case_id).await
}
