//! Filing cases (reading them is `reading`'s). Filing is idempotent on the phone's
//! `client_id`: a retry gets the case that was made, even when the retries race each other.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};

use sea_orm::sea_query::{
    CommonTableExpression, DynIden, Expr, ExprTrait, IntoIden, OnConflict, Order, Query,
    SelectStatement, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SqlErr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::ids::{CampaignId, CaseId, DepartmentId, ShopfrontId, SiteId, UserId, VisitId};

use entity::{case_events, cases, categories, push_notices, shopfronts, users, webhook_deliveries};

use crate::auth::policy::{self};
use crate::auth::{CurrentUser, SignedIn};
use crate::domain::case::case_no;
use crate::domain::{AssigneeKind, CaseSource, CaseStatus, GeoPoint, Severity};
use crate::error::{Error, ErrorCode, Msg};
use crate::services::assignment::{self, Registry, Target};
use crate::services::evidence::EvidenceKey;
use crate::services::{case_numbers, events, notify, now, push};
use crate::state::AppState;

mod reading;
pub use reading::*;

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

pub async fn file(state: &AppState, signed_in: &SignedIn, new: NewReport) -> Result<Filed, Error> {
    let request_hash = new.request_hash();
    let postgres = state.db.get_database_backend() == DatabaseBackend::Postgres;
    let mut registry = state.registry.latest();
    let mut reloaded = false;
    // A pass answers unless what it read went stale before it wrote: the registry moved
    // (the snapshot is rebuilt and the next pass reads again), or the assigned shop moved
    // department, or a concurrent retry took the client_id (the next pass finds its case).
    for _ in 0..FILING_PASSES {
        let placement = Placement::from_decision(registry.locate(new.point, &new.category));
        let at = now();
        let year = at.with_timezone(&state.settings.timezone).year();
        state.case_numbers.prepare_year(&state.db, year).await?;
        let read = read_before_filing(&state.db, signed_in, &new, &placement, &registry, year)
            .await?
            .ok_or_else(Error::unauthorized)?;
        let user = CurrentUser::of_account(Some(read.account), signed_in)?;
        policy::require(&user, policy::Permission::FileReports)?;
        if let Some(existing) = read.existing_case {
            let existing = cases::Entity::find_by_id(existing)
                .one(&state.db)
                .await?
                .ok_or_else(|| Error::internal("a case vanished"))?;
            return retry_outcome(existing, &request_hash);
        }
        // A stale snapshot is rebuilt once per filing; if the registry moves again while
        // it files, the filing goes on with the snapshot of the version it first read.
        if read.registry_version != registry.version() && !reloaded {
            registry = state
                .registry
                .at_version(&state.db, read.registry_version)
                .await?;
            reloaded = true;
            continue;
        }
        let category = active_category(&registry, &new.category)?;
        let draft = CaseDraft {
            client_id: Some(new.client_id),
            request_hash: Some(request_hash.clone()),
            description: new.description.clone(),
            point: new.point,
            accuracy_m: new.accuracy_m,
            address: new.address.clone(),
            observed_at: new.observed_at,
            severity: new.severity,
            source: CaseSource::Patrol,
            reporter: Some((user.id, user.role)),
            held_until: hold_for_evidence(state, &placement, at)?,
            placement,
            inspection: None,
        };
        let prepared = Prepared {
            at,
            year,
            deadline: registry.deadline(&category, new.severity, at, state.settings.timezone),
            recurrence_of: read.recurrence_of,
            registry: registry.clone(),
        };
        let written = if postgres {
            let sequence = match read.case_sequence {
                Some(sequence) => sequence,
                // Not taken by a read that found the registry moved.
                None => state.case_numbers.next(&state.db, year).await?,
            };
            let number = case_no(year, sequence);
            write_in_one_statement(
                state,
                &category,
                draft,
                prepared,
                number,
                read.shop_department,
            )
            .await?
        } else {
            let txn = crate::services::begin_write(&state.db).await?;
            let case = insert_case(&txn, state, &category, draft, prepared).await?;
            if case.is_some() {
                txn.commit().await?;
            } else {
                txn.rollback().await?;
            }
            case
        };
        if let Some(case) = written {
            tracing::info!(case_id = %case.id, case_no = %case.case_no, "case filed");
            return Ok(Filed::Created(case));
        }
    }
    Err(Error::new(ErrorCode::Conflict))
}

/// Passes a filing makes before it answers 409: one to rebuild a stale snapshot, one that a
/// concurrent retry or a shop move can undo, and one to find that retry's case. A phone's
/// retry of a 409 with the same `client_id` is safe.
const FILING_PASSES: usize = 3;

/// What a filing reads before it writes, in one statement.
struct FilingRead {
    /// The signed-in account, checked like every request's.
    account: users::Model,
    registry_version: i64,
    /// A case already filed with this `client_id`.
    existing_case: Option<CaseId>,
    recurrence_of: Option<CaseId>,
    /// PostgreSQL: the department of the shop the case goes to, and the case's number.
    shop_department: Option<DepartmentId>,
    case_sequence: Option<i32>,
}

/// One round trip for everything a filing reads: the account (none when it is gone),
/// the registry version, the `client_id` replay check, the recurrence search and, on
/// PostgreSQL, the shop's department and the next case number (taken only when no case
/// has this `client_id` and `registry` is current, so a filing that will read again does
/// not leave a gap). On SQLite the number and the shop are read inside the write
/// transaction instead (one writer at a time there).
async fn read_before_filing(
    db: &sea_orm::DatabaseConnection,
    signed_in: &SignedIn,
    new: &NewReport,
    placement: &Placement,
    registry: &Registry,
    year: i32,
) -> Result<Option<FilingRead>, Error> {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let existing = Query::select()
        .column(cases::Column::Id)
        .from(cases::Entity)
        .and_where(Expr::col(cases::Column::ClientId).eq(new.client_id))
        .to_owned();
    let mut query = users::Entity::find_by_id(signed_in.user_id).into_query();
    query
        .expr_as(scalar(assignment::version_query()), "registry_version")
        .expr_as(scalar(existing.clone()), "existing_case")
        .expr_as(
            scalar(recurrence_query(new.point, &new.category)),
            "recurrence_of",
        );
    if postgres {
        let shop_department = Query::select()
            .column(shopfronts::Column::DepartmentId)
            .from(shopfronts::Entity)
            .and_where(Expr::col(shopfronts::Column::Id).eq(placement.shopfront))
            .to_owned();
        let stale = scalar(assignment::version_query()).ne(registry.version());
        query
            .expr_as(scalar(shop_department), "shop_department")
            .expr_as(
                Expr::case(
                    Expr::exists(existing).or(stale),
                    Expr::val(Option::<i32>::None),
                )
                .finally(case_numbers::take(year)),
                "case_sequence",
            );
    }
    let Some(row) = db.query_one(&query).await? else {
        return Ok(None);
    };
    Ok(Some(FilingRead {
        account: users::Model::from_query_result(&row, "")?,
        registry_version: row
            .try_get::<Option<i64>>("", "registry_version")?
            .unwrap_or(0),
        existing_case: row.try_get("", "existing_case")?,
        recurrence_of: row.try_get("", "recurrence_of")?,
        shop_department: if postgres {
            row.try_get("", "shop_department")?
        } else {
            None
        },
        case_sequence: if postgres {
            row.try_get("", "case_sequence")?
        } else {
            None
        },
    }))
}

fn scalar(query: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(query.into()))
}

/// PostgreSQL: the case, its events and its notices (webhook deliveries, the Web Push
/// notice) in one statement — one round trip and
/// no `BEGIN`/`COMMIT`, where a transaction makes six. The case number was taken by the
/// read. The shop's department is read again under a share lock in the same statement;
/// when the shop moved department since the read (its notices would go to the wrong
/// webhooks), or a concurrent retry took the `client_id`, nothing is written: `None`.
async fn write_in_one_statement(
    state: &AppState,
    category: &categories::Model,
    draft: CaseDraft,
    prepared: Prepared,
    number: String,
    shop_department: Option<DepartmentId>,
) -> Result<Option<cases::Model>, Error> {
    let shop = draft.placement.shopfront;
    let overseer = draft.placement.department.or(shop_department);
    let (case, history) = new_case(
        &state.evidence,
        category,
        draft,
        &prepared,
        number,
        overseer,
    )?;
    let deliveries = notice_of_filing(&case)
        .map(|notice| notify::deliveries(&prepared.registry, &case, notice))
        .unwrap_or_default();
    let push_notice =
        push::event_of_filing(&case).and_then(|event| push::notice(&case, event, case.reporter_id));
    let mut case_row = values_of(&case.clone().into_active_model());
    let mut with = WithClause::new();
    if let Some(shop) = shop {
        let locked = Query::select()
            .column(shopfronts::Column::DepartmentId)
            .from(shopfronts::Entity)
            .and_where(Expr::col(shopfronts::Column::Id).eq(shop))
            .lock_shared()
            .to_owned();
        with.cte(cte("shop", locked));
        case_row.1.from("shop").and_where(Expr::cust_with_values(
            "shop.department_id IS NOT DISTINCT FROM $1",
            [overseer],
        ));
    }
    let insert = Query::insert()
        .into_table(cases::Entity)
        .columns(case_row.0)
        .select_from(case_row.1)
        .map_err(Error::internal)?
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .returning_col(cases::Column::Id)
        .to_owned();
    with.cte(cte("filed", insert));
    let rows = history
        .into_iter()
        .map(|e| values_of(&e.into_active_model()))
        .map(|row| (case_events::Entity.into_iden(), row))
        .chain(
            deliveries
                .iter()
                .map(|d| (webhook_deliveries::Entity.into_iden(), values_of(d))),
        )
        .chain(
            push_notice
                .iter()
                .map(|n| (push_notices::Entity.into_iden(), values_of(n))),
        );
    for (n, (table, (columns, mut values))) in rows.enumerate() {
        // Written only with the case: each row is selected from `filed`.
        values.from("filed");
        let insert = Query::insert()
            .into_table(table)
            .columns(columns)
            .select_from(values)
            .map_err(Error::internal)?
            .to_owned();
        with.cte(cte(&format!("written_{n}"), insert));
    }
    let statement = with.query(Query::select().column("id").from("filed").to_owned());
    let filed = state.db.query_one(&statement).await?;
    Ok(filed.map(|_| case))
}

fn cte(
    name: &str,
    query: impl Into<sea_orm::sea_query::SubQueryStatement>,
) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(name.to_owned())
        .to_owned()
}

/// The columns an active model sets, and a `SELECT` of their values.
fn values_of<A: ActiveModelTrait>(model: &A) -> (Vec<DynIden>, SelectStatement) {
    let mut select = Query::select();
    let mut columns = Vec::new();
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if let Some(value) = model.get(column).into_value() {
            columns.push(column.into_iden());
            select.expr(Expr::val(value));
        }
    }
    (columns, select)
}

/// An active category, or 422 on `category`.
pub fn active_category(registry: &Registry, code: &str) -> Result<categories::Model, Error> {
    registry
        .category(code)
        .filter(|c| c.active)
        .cloned()
        .ok_or_else(|| {
            Error::invalid_field(
                "category",
                Msg::fixed("no such active category", "类别不存在或已停用"),
            )
        })
}

/// Who a new case goes to, and why. No assignee means the supervisors' triage queue.
#[derive(Clone, Debug)]
pub struct Placement {
    pub department: Option<DepartmentId>,
    pub shopfront: Option<ShopfrontId>,
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
    pub campaign_id: CampaignId,
    pub site_id: SiteId,
    pub visit_id: VisitId,
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
    pub reporter: Option<(UserId, crate::domain::Role)>,
    pub placement: Placement,
    pub inspection: Option<InspectionLink>,
    /// Until when the case waits for its first "before" photo before reaching its assignee.
    pub held_until: Option<DateTime<Utc>>,
}

/// Dispatches a case held for its evidence: its first "before" photo has arrived. Its
/// assignee sees it from now, and its notices go now.
pub async fn dispatch_held(
    txn: &impl ConnectionTrait,
    case: CaseId,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let released = cases::Entity::update_many()
        .col_expr(
            cases::Column::HeldUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(cases::Column::Id.eq(case))
        .filter(cases::Column::HeldUntil.is_not_null())
        .exec(txn)
        .await?;
    if released.rows_affected > 0 {
        webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::NextAttemptAt, Expr::value(at))
            .filter(webhook_deliveries::Column::CaseId.eq(case))
            .filter(webhook_deliveries::Column::DeliveredAt.is_null())
            .filter(webhook_deliveries::Column::NextAttemptAt.gt(at))
            .filter(webhook_deliveries::Column::Attempts.eq(0))
            .exec(txn)
            .await?;
        push::dispatch_now(txn, case, at).await?;
    }
    Ok(())
}

/// A phone files a report first and sends its photos after: an assigned case waits for
/// them (`XUNCHA_DISPATCH_WAIT_SECONDS`), so that its assignee never receives a case
/// without evidence.
fn hold_for_evidence(
    state: &AppState,
    placement: &Placement,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    let wait = Duration::from_std(state.settings.dispatch_wait).map_err(Error::internal)?;
    Ok((placement.assigned() && wait > Duration::zero()).then(|| at + wait))
}

/// What is read before the write transaction: the deadline and a recurred case.
pub struct Prepared {
    at: DateTime<Utc>,
    year: i32,
    deadline: DateTime<Utc>,
    recurrence_of: Option<CaseId>,
    registry: Arc<Registry>,
}

pub async fn prepare(
    state: &AppState,
    registry: Arc<Registry>,
    category: &categories::Model,
    draft: &CaseDraft,
) -> Result<Prepared, Error> {
    let recurrence_of = state
        .db
        .query_one(&recurrence_query(draft.point, &category.code))
        .await?
        .map(|row| row.try_get::<CaseId>("", "id"))
        .transpose()?;
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

/// Inserts a case with its `file` event (and `assign` event and notices when it has an
/// assignee) inside the caller's write transaction. `None` when the `client_id` is taken
/// (a concurrent retry won): the caller rolls back and answers with that case.
pub async fn insert_case(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    category: &categories::Model,
    draft: CaseDraft,
    prepared: Prepared,
) -> Result<Option<cases::Model>, Error> {
    let sequence = state.case_numbers.next(txn, prepared.year).await?;
    let overseer = match (draft.placement.department, draft.placement.shopfront) {
        (Some(department), _) => Some(department),
        (None, Some(shop)) => shop_department_locked(txn, shop).await?,
        (None, None) => None,
    };
    let number = case_no(prepared.year, sequence);
    let (case, history) = new_case(
        &state.evidence,
        category,
        draft,
        &prepared,
        number,
        overseer,
    )?;
    let inserted = cases::Entity::insert(case.clone().into_active_model())
        .exec_without_returning(txn)
        .await;
    match inserted {
        Ok(_) => {}
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    }
    events::insert_all(txn, &history).await?;
    if let Some(notice) = notice_of_filing(&case) {
        notify::enqueue(txn, &prepared.registry, &case, notice).await?;
    }
    if let Some(event) = push::event_of_filing(&case) {
        push::enqueue(txn, &case, event, case.reporter_id).await?;
    }
    Ok(Some(case))
}

/// What a new case announces to webhooks: its assignment, when it has an assignee (a
/// triage case is announced when a supervisor assigns it).
fn notice_of_filing(case: &cases::Model) -> Option<notify::Notice> {
    case.assignee_kind
        .is_some()
        .then_some(notify::Notice::Assigned)
}

/// A new case and its history: `file`, then `assign` when it has an assignee
/// (automatic assignment is its own step, by no person).
fn new_case(
    key: &EvidenceKey,
    category: &categories::Model,
    draft: CaseDraft,
    prepared: &Prepared,
    number: String,
    overseer: Option<DepartmentId>,
) -> Result<(cases::Model, Vec<case_events::Model>), Error> {
    let at = prepared.at;
    let placement = draft.placement;
    let assigned = placement.assigned();
    let case = cases::Model {
        id: CaseId::now_v7(),
        case_no: number,
        client_id: draft.client_id,
        request_hash: draft.request_hash,
        category_code: category.code.clone(),
        description: draft.description,
        lat: draft.point.lat(),
        lon: draft.point.lon(),
        accuracy_m: draft.accuracy_m,
        address: draft.address,
        observed_at: draft.observed_at,
        severity: draft.severity,
        source: draft.source,
        status: if assigned {
            CaseStatus::Assigned
        } else {
            CaseStatus::Reported
        },
        reporter_id: draft.reporter.map(|(id, _)| id),
        assignee_kind: assignee_kind(placement.department, placement.shopfront),
        assignee_department_id: placement.department,
        assignee_shopfront_id: placement.shopfront,
        overseer_department_id: overseer,
        assignment_reason: Some(placement.reason.clone()),
        area_id: placement.area_id,
        deadline_at: Some(prepared.deadline),
        version: 1,
        created_at: at,
        updated_at: at,
        closed_at: None,
        rework_count: 0,
        recurrence_count: 0,
        rectified_by: None,
        duplicate_of: None,
        recurrence_of: prepared.recurrence_of,
        pending_request: None,
        requested_until: None,
        suspended_at: None,
        overdue_notified_at: None,
        campaign_id: draft.inspection.map(|i| i.campaign_id),
        site_id: draft.inspection.map(|i| i.site_id),
        visit_id: draft.inspection.map(|i| i.visit_id),
        held_until: draft.held_until,
        verifier_id: None,
        verify_due_at: None,
        verify_escalated_at: None,
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
    Ok((case, events::chain(key, None, history)?))
}

/// The department overseeing `shop`, read with a share lock inside the caller's write
/// transaction: a shop moving department at the same moment either waits for this case
/// (and then moves it along) or is seen moved; hand assignment reads the shop the same way.
async fn shop_department_locked(
    txn: &impl ConnectionTrait,
    shop: ShopfrontId,
) -> Result<Option<DepartmentId>, Error> {
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
/// 30 m of `point`, as a query of its `id`. At 30 m the earth is flat: the distance is
/// taken on a local plane (metres per degree of the haversine's sphere), which differs
/// from the great circle by micrometres.
fn recurrence_query(point: GeoPoint, category: &str) -> SelectStatement {
    const METRES_PER_DEGREE: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;
    let (min_lat, min_lon, max_lat, max_lon) = point.bounding_box(RECURRENCE_RADIUS_M);
    let north = Expr::col(cases::Column::Lat)
        .sub(point.lat())
        .mul(METRES_PER_DEGREE);
    let east = Expr::col(cases::Column::Lon)
        .sub(point.lon())
        .mul(METRES_PER_DEGREE * point.lat().to_radians().cos());
    let distance_sq = north.clone().mul(north).add(east.clone().mul(east));
    Query::select()
        .column(cases::Column::Id)
        .from(cases::Entity)
        .and_where(Expr::col(cases::Column::CategoryCode).eq(category))
        .and_where(Expr::col(cases::Column::Status).eq(CaseStatus::Closed))
        .and_where(Expr::col(cases::Column::DuplicateOf).is_null())
        .and_where(Expr::col(cases::Column::ClosedAt).gte(now() - Duration::days(RECURRENCE_DAYS)))
        .and_where(Expr::col(cases::Column::Lat).between(min_lat, max_lat))
        .and_where(Expr::col(cases::Column::Lon).between(min_lon, max_lon))
        .and_where(
            distance_sq
                .clone()
                .lte(RECURRENCE_RADIUS_M * RECURRENCE_RADIUS_M),
        )
        .order_by_expr(distance_sq, Order::Asc)
        .limit(1)
        .to_owned()
}

/// Cases filed as recurrences of `case_id` that `user` may see.
pub async fn recurrences_of(
    state: &AppState,
    user: &CurrentUser,
    case_id: CaseId,
) -> Result<Vec<cases::Model>, Error> {
    let scope = crate::services::scope::case_scope(state, user).await?;
    Ok(cases::Entity::find()
        .filter(cases::Column::RecurrenceOf.eq(case_id))
        .filter(policy::case_condition(&scope))
        .order_by_asc(cases::Column::Id)
        .all(&state.db)
        .await?)
}

fn assignee_kind(
    department: Option<DepartmentId>,
    shopfront: Option<ShopfrontId>,
) -> Option<AssigneeKind> {
    match (department, shopfront) {
        (_, Some(_)) => Some(AssigneeKind::Shopfront),
        (Some(_), None) => Some(AssigneeKind::Department),
        (None, None) => None,
    }
}

fn retry_outcome(existing: cases::Model, request_hash: &str) -> Result<Filed, Error> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Filed::Existing(existing))
    } else {
        Err(Error::new(ErrorCode::ClientIdConflict))
    }
}
