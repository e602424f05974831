//! The signed-in user's work: departments and shops see what they must handle (overdue
//! first, then by deadline); inspectors the rectified cases waiting for their
//! verification; supervisors triage and disputes.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use entity::cases;

use crate::auth::CurrentUser;
use crate::auth::policy;
use crate::domain::{CaseStatus, Role};
use crate::error::Error;
use crate::services::{now, scope};
use crate::state::AppState;

/// At most this many cases in one queue answer; the counts are always complete.
pub const QUEUE_LIMIT: u64 = 200;

/// `COUNT(CASE WHEN condition THEN 1 END)`: a count of the rows meeting `condition`.
fn count_where(condition: Condition) -> Expr {
    let then_one: Expr = Expr::case(condition, 1).into();
    then_one.count()
}

pub struct Queue {
    pub cases: Vec<cases::Model>,
    /// (name, count) per part of the queue, and `overdue`.
    pub counts: Vec<(&'static str, u64)>,
}

/// The user's queue: at most `limit` cases (1 to `QUEUE_LIMIT`), the counts complete.
pub async fn for_user(state: &AppState, user: &CurrentUser, limit: u64) -> Result<Queue, Error> {
    let by_status = |status: CaseStatus| Condition::all().add(cases::Column::Status.eq(status));
    // The parts, and their union: `status IN (…)` where the parts are statuses, so that
    // the (overseer, status, …) index serves it alone.
    let (parts, union): (Vec<(&'static str, Condition)>, Condition) = match user.role {
        Role::Department | Role::Shopfront => {
            let statuses = [CaseStatus::Assigned, CaseStatus::InProgress];
            (
                vec![
                    ("to_accept", by_status(CaseStatus::Assigned)),
                    ("in_progress", by_status(CaseStatus::InProgress)),
                ],
                Condition::all().add(cases::Column::Status.is_in(statuses)),
            )
        }
        Role::Inspector => {
            let mine = Condition::any()
                .add(cases::Column::VerifierId.eq(user.id))
                .add(
                    Condition::all()
                        .add(cases::Column::VerifierId.is_null())
                        .add(cases::Column::ReporterId.eq(user.id)),
                );
            let to_verify = by_status(CaseStatus::Rectified).add(mine);
            (vec![("to_verify", to_verify.clone())], to_verify)
        }
        Role::Supervisor | Role::Admin => {
            let parts = vec![
                ("triage", by_status(CaseStatus::Reported)),
                ("disputed", by_status(CaseStatus::Disputed)),
                (
                    "extension_requests",
                    Condition::all().add(cases::Column::PendingRequest.eq("extension")),
                ),
                (
                    "suspension_requests",
                    Condition::all().add(cases::Column::PendingRequest.eq("suspension")),
                ),
                // Rectifications their verifier let pass the time limit (escalated).
                (
                    "verify_overdue",
                    by_status(CaseStatus::Rectified)
                        .add(cases::Column::VerifyEscalatedAt.is_not_null()),
                ),
            ];
            let union = parts
                .iter()
                .fold(Condition::any(), |any, (_, c)| any.add(c.clone()));
            (parts, union)
        }
    };
    // One aggregate gives every count and the overdue count at once, then each part lists
    // its soonest cases.
    let mine = Condition::all()
        .add(policy::case_condition(
            &scope::case_scope(state, user).await?.own_hands(),
        ))
        .add(union);
    let at = now();
    let mut aggregate = cases::Entity::find().select_only().filter(mine.clone());
    for (i, (_, condition)) in parts.iter().enumerate() {
        aggregate = aggregate.expr_as(count_where(condition.clone()), format!("part{i}"));
    }
    let is_overdue = Condition::all()
        .add(cases::Column::DeadlineAt.lt(at))
        .add(cases::Column::SuspendedAt.is_null());
    aggregate = aggregate.expr_as(count_where(is_overdue), "overdue");
    let statement = aggregate.build(state.db.get_database_backend());
    let found = state
        .db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::internal("queue counts: no row"))?;
    let count_of = |name: &str| -> Result<u64, Error> {
        Ok(u64::try_from(found.try_get::<i64>("", name)?).unwrap_or(0))
    };
    let overdue = count_of("overdue")?;
    let mut counts: Vec<(&'static str, u64)> = Vec::with_capacity(parts.len() + 1);
    let mut rows: Vec<cases::Model> = Vec::new();
    for (i, (name, condition)) in parts.iter().enumerate() {
        let in_part = count_of(&format!("part{i}"))?;
        counts.push((name, in_part));
        if in_part == 0 {
            continue;
        }
        let part = Condition::all().add(mine.clone()).add(condition.clone());
        if in_part <= limit {
            // All of them: without ORDER BY … LIMIT the planner cannot pick a walk down
            // the deadline index that filters a million rows to find a handful.
            rows.extend(cases::Entity::find().filter(part).all(&state.db).await?);
            continue;
        }
        let dated = cases::Entity::find()
            .filter(part.clone())
            .filter(cases::Column::DeadlineAt.is_not_null())
            .order_by_asc(cases::Column::DeadlineAt)
            .order_by_asc(cases::Column::Id)
            .limit(limit)
            .all(&state.db)
            .await?;
        let room = limit - dated.len() as u64;
        rows.extend(dated);
        if room > 0 {
            rows.extend(
                cases::Entity::find()
                    .filter(part)
                    .filter(cases::Column::DeadlineAt.is_null())
                    .order_by_asc(cases::Column::Id)
                    .limit(room)
                    .all(&state.db)
                    .await?,
            );
        }
    }
    counts.push(("overdue", overdue));
    // Soonest deadline first puts the overdue first; cases without one come last. Parts
    // may overlap (a disputed case with an extension request), so each case once.
    rows.sort_by_key(|c| (c.deadline_at.is_none(), c.deadline_at, c.id));
    rows.dedup_by_key(|c| c.id);
    rows.truncate(limit as usize);
    Ok(Queue {
        cases: rows,
        counts,
    })
}
