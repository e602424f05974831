//! Driving a case through its life cycle. Every action checks who may do it and from
//! which status, refuses a stale `version`, and writes the state change and its hash-chained
//! event in one transaction.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use entity::{cases, departments, photos, shopfronts};

use crate::auth::CurrentUser;
use crate::auth::policy;
use crate::domain::{Action, AssigneeKind, CaseStatus, PhotoKind};
use crate::error::{Error, ErrorCode, Msg};
use crate::services::notify::{self, Notice};
use crate::services::{events, now, reports};
use crate::state::AppState;

/// What an action may carry besides the version.
#[derive(Debug, Default)]
pub struct ActionInput {
    pub version: i32,
    pub note: Option<String>,
    pub photo_ids: Vec<Uuid>,
    pub department_id: Option<Uuid>,
    pub shopfront_id: Option<Uuid>,
    pub duplicate_of: Option<Uuid>,
    /// For `request-extension`: the deadline asked for.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// For `decide-extension` and `decide-suspension`.
    pub grant: Option<bool>,
}

/// The deadline of a case dispatched now, by its category's limit and the calendar.
async fn fresh_deadline(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    case: &cases::Model,
) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    use crate::domain::Severity;
    let registry = state.registry.current(db).await?;
    let category = registry
        .category(&case.category_code)
        .ok_or_else(|| Error::internal("case without its category"))?;
    let severity = Severity::parse(&case.severity).unwrap_or(Severity::Normal);
    Ok(registry.deadline(category, severity, now(), state.settings.timezone))
}

fn not_now(en: &'static str, zh: &'static str) -> Error {
    Error::new(ErrorCode::InvalidTransition).with_message(Msg::fixed(en, zh))
}

pub async fn act(
    state: &AppState,
    user: &CurrentUser,
    case_id: Uuid,
    action: Action,
    input: ActionInput,
) -> Result<cases::Model, Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let case = reports::visible_case_in(&txn, policy::case_scope(user), case_id).await?;
    policy::may_act(user, &case, action)?;
    let from = CaseStatus::parse(&case.status).ok_or_else(|| Error::internal("unknown status"))?;
    let to = action
        .next(from)
        .ok_or_else(|| Error::new(ErrorCode::InvalidTransition))?;
    if case.version != input.version {
        return Err(Error::new(ErrorCode::VersionConflict));
    }
    if matches!(
        action,
        Action::Dispute
            | Action::Reject
            | Action::Cancel
            | Action::Reopen
            | Action::Duplicate
            | Action::RequestExtension
            | Action::RequestSuspension
    ) && input.note.as_deref().is_none_or(str::is_empty)
    {
        return Err(Error::invalid_field(
            "note",
            Msg::fixed("say why", "请说明原因"),
        ));
    }

    // Photos named by the action must be this case's, of the kind the action takes.
    let wanted_kind = match action {
        Action::Rectify => Some(PhotoKind::After),
        Action::Verify => Some(PhotoKind::Verification),
        _ => None,
    };
    if !input.photo_ids.is_empty() {
        let kind = wanted_kind.ok_or_else(|| {
            Error::invalid_field(
                "photo_ids",
                Msg::fixed("this action takes no photos", "此操作不接受照片"),
            )
        })?;
        let found = photos::Entity::find()
            .filter(photos::Column::Id.is_in(input.photo_ids.clone()))
            .filter(photos::Column::CaseId.eq(case.id))
            .filter(photos::Column::Kind.eq(kind.as_str()))
            .all(&txn)
            .await?;
        if found.len() != input.photo_ids.len() {
            return Err(Error::invalid_field(
                "photo_ids",
                Msg::new(
                    format!("must be {kind} photos of this case"),
                    format!("须为本案件的 {kind} 照片"),
                ),
            ));
        }
    }
    let mut update = cases::Entity::update_many()
        .col_expr(cases::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            cases::Column::Version,
            Expr::col(cases::Column::Version).add(1),
        )
        .col_expr(cases::Column::UpdatedAt, Expr::value(now()));
    let at = now();
    let mut note = input.note.clone();
    match action {
        Action::Rectify => {
            let after_photos = photos::Entity::find()
                .filter(photos::Column::CaseId.eq(case.id))
                .filter(photos::Column::Kind.eq(PhotoKind::After.as_str()))
                .one(&txn)
                .await?;
            if after_photos.is_none() {
                return Err(Error::invalid_field(
                    "photo_ids",
                    Msg::fixed(
                        "upload at least one after photo first",
                        "请先上传至少一张整改后照片",
                    ),
                ));
            }
            update = update.col_expr(cases::Column::RectifiedBy, Expr::value(user.id));
        }
        Action::Verify | Action::Duplicate => {
            update = update.col_expr(cases::Column::ClosedAt, Expr::value(at));
            if action == Action::Duplicate {
                let original = input
                    .duplicate_of
                    .filter(|o| *o != case.id)
                    .ok_or_else(|| {
                        Error::invalid_field(
                            "duplicate_of",
                            Msg::fixed("the original case is required", "须指明原案件"),
                        )
                    })?;
                let original = reports::visible_case_in(&txn, policy::case_scope(user), original)
                    .await
                    .map_err(|_| {
                        Error::invalid_field(
                            "duplicate_of",
                            Msg::fixed("no such case", "案件不存在"),
                        )
                    })?;
                update = update.col_expr(cases::Column::DuplicateOf, Expr::value(original.id));
                note = Some(format!(
                    "duplicate of {}: {}",
                    original.case_no,
                    note.unwrap_or_default()
                ));
            }
        }
        Action::Reject => {
            update = update
                .col_expr(
                    cases::Column::ReworkCount,
                    Expr::col(cases::Column::ReworkCount).add(1),
                )
                .col_expr(
                    cases::Column::RectifiedBy,
                    Expr::value(Option::<Uuid>::None),
                );
        }
        Action::Reopen => {
            update = update
                .col_expr(
                    cases::Column::DeadlineAt,
                    Expr::value(fresh_deadline(state, &txn, &case).await?),
                )
                .col_expr(
                    cases::Column::OverdueNotifiedAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .col_expr(
                    cases::Column::RecurrenceCount,
                    Expr::col(cases::Column::RecurrenceCount).add(1),
                )
                .col_expr(
                    cases::Column::ClosedAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .col_expr(
                    cases::Column::RectifiedBy,
                    Expr::value(Option::<Uuid>::None),
                );
        }
        Action::Assign => {
            // (kind, name, the department answerable) of the new assignee.
            let (kind, found) = match (input.department_id, input.shopfront_id) {
                (Some(d), None) => (
                    AssigneeKind::Department,
                    departments::Entity::find_by_id(d)
                        .one(&txn)
                        .await?
                        .map(|d| (d.name, Some(d.id))),
                ),
                (None, Some(s)) => (
                    AssigneeKind::Shopfront,
                    // Share-locked, as at filing: a concurrent move of the shop to another
                    // department cannot miss this case.
                    shopfronts::Entity::find_by_id(s)
                        .lock_shared()
                        .one(&txn)
                        .await?
                        .map(|s| (s.name, s.department_id)),
                ),
                _ => {
                    return Err(Error::invalid_field(
                        "department_id",
                        Msg::fixed(
                            "give exactly one of department_id and shopfront_id",
                            "department_id 与 shopfront_id 须且只须填写一个",
                        ),
                    ));
                }
            };
            let (name, overseer) = found.ok_or_else(|| {
                Error::invalid_field(
                    "department_id",
                    Msg::fixed("no such department or shopfront", "部门或门店不存在"),
                )
            })?;
            let reason = format!("assigned by hand by {} → {name}", user.username);
            // A (re)assignment is a new dispatch: the new assignee gets the full limit.
            update = update
                .col_expr(
                    cases::Column::DeadlineAt,
                    Expr::value(fresh_deadline(state, &txn, &case).await?),
                )
                .col_expr(
                    cases::Column::OverdueNotifiedAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .col_expr(cases::Column::AssigneeKind, Expr::value(kind.as_str()))
                .col_expr(
                    cases::Column::AssigneeDepartmentId,
                    Expr::value(input.department_id),
                )
                .col_expr(
                    cases::Column::AssigneeShopfrontId,
                    Expr::value(input.shopfront_id),
                )
                .col_expr(cases::Column::OverseerDepartmentId, Expr::value(overseer))
                .col_expr(cases::Column::AssignmentReason, Expr::value(reason.clone()));
            note = Some(match note {
                Some(n) if !n.is_empty() => format!("{reason}: {n}"),
                _ => reason,
            });
        }
        Action::RequestExtension | Action::RequestSuspension => {
            if case.pending_request.is_some() {
                return Err(not_now(
                    "A request already waits for a supervisor.",
                    "已有申请等待督查人员处理。",
                ));
            }
            if action == Action::RequestExtension {
                let until = input
                    .until
                    .filter(|u| *u > at && case.deadline_at.is_none_or(|d| *u > d))
                    .ok_or_else(|| {
                        Error::invalid_field(
                            "until",
                            Msg::fixed(
                                "a time after the current deadline is required",
                                "须为晚于当前期限的时间",
                            ),
                        )
                    })?;
                update = update
                    .col_expr(cases::Column::PendingRequest, Expr::value("extension"))
                    .col_expr(cases::Column::RequestedUntil, Expr::value(until));
                note = Some(format!(
                    "until {}: {}",
                    until.to_rfc3339(),
                    note.unwrap_or_default()
                ));
            } else {
                if case.suspended_at.is_some() {
                    return Err(not_now(
                        "The case is suspended already.",
                        "案件已在缓办中。",
                    ));
                }
                update = update.col_expr(cases::Column::PendingRequest, Expr::value("suspension"));
            }
        }
        Action::DecideExtension | Action::DecideSuspension => {
            let wanted = if action == Action::DecideExtension {
                "extension"
            } else {
                "suspension"
            };
            if case.pending_request.as_deref() != Some(wanted) {
                return Err(not_now(
                    "No such request waits on this case.",
                    "该案件没有待处理的此类申请。",
                ));
            }
            let grant = input.grant.ok_or_else(|| {
                Error::invalid_field(
                    "grant",
                    Msg::fixed("true or false is required", "须为 true 或 false"),
                )
            })?;
            update = update
                .col_expr(
                    cases::Column::PendingRequest,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    cases::Column::RequestedUntil,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                );
            if grant {
                update = if action == Action::DecideExtension {
                    update
                        .col_expr(cases::Column::DeadlineAt, Expr::value(case.requested_until))
                        .col_expr(
                            cases::Column::OverdueNotifiedAt,
                            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                        )
                } else {
                    update.col_expr(cases::Column::SuspendedAt, Expr::value(at))
                };
            }
            let verdict = if grant { "granted" } else { "refused" };
            note = Some(match note {
                Some(n) if !n.is_empty() => format!("{verdict}: {n}"),
                _ => verdict.to_owned(),
            });
        }
        Action::Resume => {
            let Some(since) = case.suspended_at else {
                return Err(not_now("The case is not suspended.", "案件未在缓办中。"));
            };
            // The clock stood still while suspended: the deadline moves by that long.
            let deadline = case.deadline_at.map(|d| d + (at - since));
            update = update
                .col_expr(
                    cases::Column::SuspendedAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .col_expr(cases::Column::DeadlineAt, Expr::value(deadline))
                .col_expr(
                    cases::Column::OverdueNotifiedAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                );
        }
        Action::Accept | Action::Dispute | Action::Cancel => {}
    }
    // The version in the WHERE clause makes a concurrent writer lose cleanly.
    let changed = update
        .filter(cases::Column::Id.eq(case.id))
        .filter(cases::Column::Version.eq(input.version))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(Error::new(ErrorCode::VersionConflict));
    }
    events::append(
        &txn,
        events::NewEvent {
            case_id: case.id,
            action: action.as_str(),
            from_status: Some(from),
            to_status: to,
            actor: Some((user.id, user.role)),
            note,
            photo_ids: input.photo_ids,
            at,
        },
    )
    .await?;
    let updated = cases::Entity::find_by_id(case.id)
        .one(&txn)
        .await?
        .ok_or_else(Error::not_found)?;
    let notice = match action {
        Action::Assign => Some(Notice::Assigned),
        Action::Rectify => Some(Notice::Rectified),
        Action::Verify | Action::Duplicate => Some(Notice::Closed),
        Action::Reopen => Some(Notice::Reopened),
        _ => None,
    };
    if let Some(notice) = notice {
        let registry = state.registry.current(&txn).await?;
        notify::enqueue(&txn, &registry, &updated, notice).await?;
    }
    txn.commit().await?;
    tracing::info!(case_id = %case.id, action = action.as_str(), from = from.as_str(), to = to.as_str(), "case action");
    Ok(updated)
}
