//! The signed-in user's work: departments and shops see what they must handle (overdue
//! first, then by deadline); inspectors the rectified cases waiting for their
//! verification; supervisors triage and disputes.

use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::cases;

use crate::auth::CurrentUser;
use crate::auth::policy;
use crate::domain::{CaseStatus, Role};
use crate::error::ApiError;
use crate::services::now;
use crate::state::AppState;

/// At most this many cases in one queue answer; the counts are always complete.
pub const QUEUE_LIMIT: u64 = 200;

pub struct Queue {
    pub cases: Vec<cases::Model>,
    /// (name, count) per part of the queue, and `overdue`.
    pub counts: Vec<(&'static str, u64)>,
}

pub async fn for_user(state: &AppState, user: &CurrentUser) -> Result<Queue, ApiError> {
    let scope = policy::case_condition(policy::case_scope(user));
    let parts: Vec<(&'static str, Condition)> = match user.role {
        Role::Department | Role::Shopfront => vec![
            (
                "to_accept",
                Condition::all().add(cases::Column::Status.eq(CaseStatus::Assigned.as_str())),
            ),
            (
                "in_progress",
                Condition::all().add(cases::Column::Status.eq(CaseStatus::InProgress.as_str())),
            ),
        ],
        Role::Inspector => vec![(
            "to_verify",
            Condition::all()
                .add(cases::Column::Status.eq(CaseStatus::Rectified.as_str()))
                .add(cases::Column::ReporterId.eq(user.id)),
        )],
        Role::Supervisor | Role::Admin => vec![
            (
                "triage",
                Condition::all().add(cases::Column::Status.eq(CaseStatus::Reported.as_str())),
            ),
            (
                "disputed",
                Condition::all().add(cases::Column::Status.eq(CaseStatus::Disputed.as_str())),
            ),
            (
                "extension_requests",
                Condition::all().add(cases::Column::PendingRequest.eq("extension")),
            ),
            (
                "suspension_requests",
                Condition::all().add(cases::Column::PendingRequest.eq("suspension")),
            ),
        ],
    };
    let mut any = Condition::any();
    let mut counts = Vec::new();
    for (name, condition) in &parts {
        let count = cases::Entity::find()
            .filter(scope.clone())
            .filter(condition.clone())
            .count(&state.db)
            .await?;
        counts.push((*name, count));
        any = any.add(condition.clone());
    }
    let mine = Condition::all().add(scope).add(any);
    let overdue = cases::Entity::find()
        .filter(mine.clone())
        .filter(cases::Column::DeadlineAt.lt(now()))
        .filter(cases::Column::SuspendedAt.is_null())
        .count(&state.db)
        .await?;
    counts.push(("overdue", overdue));
    // Soonest deadline first puts the overdue first; cases without one come last.
    let mut rows = cases::Entity::find()
        .filter(mine.clone())
        .filter(cases::Column::DeadlineAt.is_not_null())
        .order_by_asc(cases::Column::DeadlineAt)
        .order_by_asc(cases::Column::Id)
        .limit(QUEUE_LIMIT)
        .all(&state.db)
        .await?;
    let room = QUEUE_LIMIT.saturating_sub(rows.len() as u64);
    if room > 0 {
        rows.extend(
            cases::Entity::find()
                .filter(mine)
                .filter(cases::Column::DeadlineAt.is_null())
                .order_by_asc(cases::Column::Id)
                .limit(room)
                .all(&state.db)
                .await?,
        );
    }
    Ok(Queue {
        cases: rows,
        counts,
    })
}
