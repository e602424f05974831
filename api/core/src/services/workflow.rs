//! Driving a case through its life cycle. Every action checks who may do it and from
//! which status, refuses a stale `version`, and writes the state change and its hash-chained
//! event in one transaction, with the notices it sends (webhooks, Web Push).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};

use entity::ids::{CaseId, DepartmentId, ShopfrontId, UserId};

use entity::{cases, departments, photos, shopfronts, user_areas, users};

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope};
use crate::domain::{Action, AssigneeKind, CaseStatus, PhotoKind};
use crate::error::{Error, ErrorCode, Msg};
use crate::services::notify::{self, Notice};
use crate::services::{events, now, push, reports, scope};
use crate::state::AppState;

/// What an action may carry besides the version.
#[derive(Debug, Default)]
pub struct ActionInput {
    pub version: i32,
    pub note: Option<String>,
    pub photo_ids: Vec<entity::ids::PhotoId>,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
    pub duplicate_of: Option<CaseId>,
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
    let registry = state.registry.current(db).await?;
    let category = registry
        .category(&case.category_code)
        .ok_or_else(|| Error::internal("case without its category"))?;
    let severity = case.severity;
    Ok(registry.deadline(category, severity, now(), state.settings.timezone))
}

fn not_now(en: &'static str, zh: &'static str) -> Error {
    Error::new(ErrorCode::InvalidTransition).with_message(Msg::fixed(en, zh))
}

pub async fn act(
    state: &AppState,
    user: &CurrentUser,
    case_id: CaseId,
    action: Action,
    input: ActionInput,
) -> Result<cases::Model, Error> {
    let scope = scope::case_scope(state, user).await?;
    let txn = crate::services::begin_write(&state.db).await?;
    let case = reports::visible_case_in(&txn, &scope, case_id).await?;
    let (from, to) = judge(user, &scope, &case, action, &input)?;
    check_named_photos(&txn, &case, action, &input.photo_ids).await?;
    let at = now();
    let acting = Acting {
        user,
        scope: &scope,
        at,
    };
    let Change { update, note } = change(state, &txn, &acting, &case, action, &input).await?;
    let update = update
        .col_expr(cases::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            cases::Column::Version,
            Expr::col(cases::Column::Version).add(1),
        )
        .col_expr(cases::Column::UpdatedAt, Expr::value(at));
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
        &state.evidence,
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
    if let Some(notice) = notice_of(action) {
        let registry = state.registry.current(&txn).await?;
        notify::enqueue(&txn, &registry, &updated, notice).await?;
    }
    if let Some(event) = push::event_of(action) {
        push::enqueue(&txn, &updated, event, Some(user.id)).await?;
    }
    txn.commit().await?;
    tracing::info!(case_id = %case.id, action = action.as_str(), from = from.as_str(), to = to.as_str(), "case action");
    Ok(updated)
}

/// Whether the action may be taken now, by the life cycle's table: who, from which status,
/// on the version the caller read, with the reason it needs. The status it leads from and to.
fn judge(
    user: &CurrentUser,
    scope: &CaseScope,
    case: &cases::Model,
    action: Action,
    input: &ActionInput,
) -> Result<(CaseStatus, CaseStatus), Error> {
    policy::may_act(user, scope, case, action)?;
    let from = case.status;
    let to = action
        .next(from)
        .ok_or_else(|| Error::new(ErrorCode::InvalidTransition))?;
    if case.version != input.version {
        return Err(Error::new(ErrorCode::VersionConflict));
    }
    if action.rule().needs_note && input.note.as_deref().is_none_or(str::is_empty) {
        return Err(Error::invalid_field(
            "note",
            Msg::fixed("say why", "请说明原因"),
        ));
    }
    Ok((from, to))
}

/// Photos named by the action must be this case's, of the kind the action takes.
async fn check_named_photos(
    txn: &impl sea_orm::ConnectionTrait,
    case: &cases::Model,
    action: Action,
    photo_ids: &[entity::ids::PhotoId],
) -> Result<(), Error> {
    if photo_ids.is_empty() {
        return Ok(());
    }
    let kind = action.rule().takes_photos.ok_or_else(|| {
        Error::invalid_field(
            "photo_ids",
            Msg::fixed("this action takes no photos", "此操作不接受照片"),
        )
    })?;
    let found = photos::Entity::find()
        .filter(photos::Column::Id.is_in(photo_ids.to_vec()))
        .filter(photos::Column::CaseId.eq(case.id))
        .filter(photos::Column::Kind.eq(kind))
        .count(txn)
        .await?;
    if found != photo_ids.len() as u64 {
        return Err(Error::invalid_field(
            "photo_ids",
            Msg::new(
                format!("must be {kind} photos of this case"),
                format!("须为本案件的 {kind} 照片"),
            ),
        ));
    }
    Ok(())
}

/// The webhook notice an action sends, if any.
fn notice_of(action: Action) -> Option<Notice> {
    match action {
        Action::Assign => Some(Notice::Assigned),
        Action::Rectify => Some(Notice::Rectified),
        Action::Verify | Action::Duplicate => Some(Notice::Closed),
        Action::Reopen => Some(Notice::Reopened),
        Action::Chase => Some(Notice::Chased),
        _ => None,
    }
}

/// What an action changes on the case besides its status and version, and the note its
/// event keeps.
struct Change {
    update: UpdateMany<cases::Entity>,
    note: Option<String>,
}

type Nothing = Option<chrono::DateTime<chrono::Utc>>;

/// Who takes an action, what they see (read before the write began), and when.
struct Acting<'a> {
    user: &'a CurrentUser,
    scope: &'a CaseScope,
    at: chrono::DateTime<chrono::Utc>,
}

/// What leaving `rectified` undoes: the check that was waiting for its verifier.
fn clear_verification(update: UpdateMany<cases::Entity>) -> UpdateMany<cases::Entity> {
    update
        .col_expr(
            cases::Column::VerifierId,
            Expr::value(Option::<UserId>::None),
        )
        .col_expr(cases::Column::VerifyDueAt, Expr::value(Nothing::None))
        .col_expr(cases::Column::VerifyEscalatedAt, Expr::value(Nothing::None))
}

async fn change(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    acting: &Acting<'_>,
    case: &cases::Model,
    action: Action,
    input: &ActionInput,
) -> Result<Change, Error> {
    let (user, at) = (acting.user, acting.at);
    let update = cases::Entity::update_many();
    let note = input.note.clone();
    let unchanged = |update| {
        Ok(Change {
            update,
            note: note.clone(),
        })
    };
    match action {
        Action::Accept | Action::Dispute | Action::Cancel | Action::Chase => unchanged(update),
        Action::Rectify => unchanged(rectify(state, txn, user, case, update, at).await?),
        Action::Verify => unchanged(update.col_expr(cases::Column::ClosedAt, Expr::value(at))),
        Action::Duplicate => duplicate(txn, acting.scope, case, input, update, at).await,
        Action::Reject => unchanged(
            clear_verification(update)
                .col_expr(
                    cases::Column::ReworkCount,
                    Expr::col(cases::Column::ReworkCount).add(1),
                )
                .col_expr(
                    cases::Column::RectifiedBy,
                    Expr::value(Option::<UserId>::None),
                ),
        ),
        Action::Reopen => unchanged(
            clear_verification(redispatch(state, txn, case, update).await?)
                .col_expr(
                    cases::Column::RecurrenceCount,
                    Expr::col(cases::Column::RecurrenceCount).add(1),
                )
                .col_expr(cases::Column::ClosedAt, Expr::value(Nothing::None))
                .col_expr(
                    cases::Column::RectifiedBy,
                    Expr::value(Option::<UserId>::None),
                ),
        ),
        Action::Assign => assign(state, txn, user, case, input, update).await,
        Action::RequestExtension | Action::RequestSuspension => {
            request(case, action, input, update, at)
        }
        Action::DecideExtension | Action::DecideSuspension => {
            decide(case, action, input, update, at)
        }
        Action::Resume => unchanged(resume(case, update, at)?),
    }
}

/// A dispatch anew: the assignee gets the category's full limit from now.
async fn redispatch(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    case: &cases::Model,
    update: UpdateMany<cases::Entity>,
) -> Result<UpdateMany<cases::Entity>, Error> {
    Ok(update
        .col_expr(
            cases::Column::DeadlineAt,
            Expr::value(fresh_deadline(state, txn, case).await?),
        )
        .col_expr(cases::Column::OverdueNotifiedAt, Expr::value(Nothing::None)))
}

/// Rectifying needs an after photo on the case, and remembers who rectified.
/// Reporting a case fixed: it needs an after photo, and goes to its verifier with the
/// time limit (核查时限).
async fn rectify(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    user: &CurrentUser,
    case: &cases::Model,
    update: UpdateMany<cases::Entity>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<UpdateMany<cases::Entity>, Error> {
    let after_photos = photos::Entity::find()
        .filter(photos::Column::CaseId.eq(case.id))
        .filter(photos::Column::Kind.eq(PhotoKind::After))
        .one(txn)
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
    let verifier = verifier_of(txn, case).await?;
    let due =
        at + chrono::Duration::from_std(state.settings.verify_within).map_err(Error::internal)?;
    Ok(update
        .col_expr(cases::Column::RectifiedBy, Expr::value(user.id))
        .col_expr(cases::Column::VerifierId, Expr::value(verifier))
        .col_expr(cases::Column::VerifyDueAt, Expr::value(due))
        .col_expr(cases::Column::VerifyEscalatedAt, Expr::value(Nothing::None)))
}

/// Who verifies a rectification: the inspector responsible for the case's grid (an
/// active inspector bound to the very area the case lies in; the first by username when
/// several are), else whoever filed it while their account is active (else nobody:
/// supervisors verify). A case a campaign's visit filed goes back to its filer: the grid's
/// inspector may not learn of an unannounced round.
async fn verifier_of(
    txn: &impl sea_orm::ConnectionTrait,
    case: &cases::Model,
) -> Result<Option<UserId>, Error> {
    let grid = case.area_id.filter(|_| case.campaign_id.is_none());
    if let Some(area) = grid {
        let bound_there = sea_orm::sea_query::Query::select()
            .column(user_areas::Column::UserId)
            .from(user_areas::Entity)
            .and_where(user_areas::Column::AreaId.eq(area))
            .to_owned();
        let grid_inspector: Option<UserId> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Id.in_subquery(bound_there))
            .filter(users::Column::Role.eq(crate::domain::Role::Inspector))
            .filter(users::Column::Disabled.eq(false))
            .order_by_asc(users::Column::Username)
            .into_tuple()
            .one(txn)
            .await?;
        if grid_inspector.is_some() {
            return Ok(grid_inspector);
        }
    }
    let Some(filer) = case.reporter_id else {
        return Ok(None);
    };
    let active = users::Entity::find_by_id(filer)
        .filter(users::Column::Disabled.eq(false))
        .one(txn)
        .await?;
    Ok(active.map(|u| u.id))
}

/// Closing a case as a duplicate of another the supervisor can see.
async fn duplicate(
    txn: &impl sea_orm::ConnectionTrait,
    scope: &CaseScope,
    case: &cases::Model,
    input: &ActionInput,
    update: UpdateMany<cases::Entity>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Change, Error> {
    let original = input
        .duplicate_of
        .filter(|o| *o != case.id)
        .ok_or_else(|| {
            Error::invalid_field(
                "duplicate_of",
                Msg::fixed("the original case is required", "须指明原案件"),
            )
        })?;
    let original = reports::visible_case_in(txn, scope, original)
        .await
        .map_err(|_| {
            Error::invalid_field("duplicate_of", Msg::fixed("no such case", "案件不存在"))
        })?;
    Ok(Change {
        update: update
            .col_expr(cases::Column::ClosedAt, Expr::value(at))
            .col_expr(cases::Column::DuplicateOf, Expr::value(original.id)),
        note: Some(format!(
            "duplicate of {}: {}",
            original.case_no,
            input.note.clone().unwrap_or_default()
        )),
    })
}

/// Assigning by hand to a department or a shop, as a new dispatch.
async fn assign(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    user: &CurrentUser,
    case: &cases::Model,
    input: &ActionInput,
    update: UpdateMany<cases::Entity>,
) -> Result<Change, Error> {
    // (kind, name, the department answerable) of the new assignee.
    let (kind, found) = match (input.department_id, input.shopfront_id) {
        (Some(d), None) => (
            AssigneeKind::Department,
            departments::Entity::find_by_id(d)
                .one(txn)
                .await?
                .map(|d| (d.name, Some(d.id))),
        ),
        (None, Some(s)) => (
            AssigneeKind::Shopfront,
            // Share-locked, as at filing: a concurrent move of the shop to another
            // department cannot miss this case.
            shopfronts::Entity::find_by_id(s)
                .lock_shared()
                .one(txn)
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
    let update = redispatch(state, txn, case, update)
        .await?
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
    let note = Some(match &input.note {
        Some(n) if !n.is_empty() => format!("{reason}: {n}"),
        _ => reason,
    });
    Ok(Change { update, note })
}

/// An assignee asks for more time or for a pause; one request waits at a time.
fn request(
    case: &cases::Model,
    action: Action,
    input: &ActionInput,
    update: UpdateMany<cases::Entity>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Change, Error> {
    if case.pending_request.is_some() {
        return Err(not_now(
            "A request already waits for a supervisor.",
            "已有申请等待督查人员处理。",
        ));
    }
    if action == Action::RequestSuspension {
        if case.suspended_at.is_some() {
            return Err(not_now(
                "The case is suspended already.",
                "案件已在缓办中。",
            ));
        }
        return Ok(Change {
            update: update.col_expr(cases::Column::PendingRequest, Expr::value("suspension")),
            note: input.note.clone(),
        });
    }
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
    Ok(Change {
        update: update
            .col_expr(cases::Column::PendingRequest, Expr::value("extension"))
            .col_expr(cases::Column::RequestedUntil, Expr::value(until)),
        note: Some(format!(
            "until {}: {}",
            until.to_rfc3339(),
            input.note.clone().unwrap_or_default()
        )),
    })
}

/// A supervisor grants or refuses the request that waits.
fn decide(
    case: &cases::Model,
    action: Action,
    input: &ActionInput,
    update: UpdateMany<cases::Entity>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Change, Error> {
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
    let mut update = update
        .col_expr(
            cases::Column::PendingRequest,
            Expr::value(Option::<String>::None),
        )
        .col_expr(cases::Column::RequestedUntil, Expr::value(Nothing::None));
    if grant {
        update = if action == Action::DecideExtension {
            update
                .col_expr(cases::Column::DeadlineAt, Expr::value(case.requested_until))
                .col_expr(cases::Column::OverdueNotifiedAt, Expr::value(Nothing::None))
        } else {
            update.col_expr(cases::Column::SuspendedAt, Expr::value(at))
        };
    }
    let verdict = if grant { "granted" } else { "refused" };
    let note = Some(match &input.note {
        Some(n) if !n.is_empty() => format!("{verdict}: {n}"),
        _ => verdict.to_owned(),
    });
    Ok(Change { update, note })
}

/// Ending a pause: the clock stood still while suspended, so the deadline moves by that long.
fn resume(
    case: &cases::Model,
    update: UpdateMany<cases::Entity>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<UpdateMany<cases::Entity>, Error> {
    let Some(since) = case.suspended_at else {
        return Err(not_now("The case is not suspended.", "案件未在缓办中。"));
    };
    let deadline = case.deadline_at.map(|d| d + (at - since));
    Ok(update
        .col_expr(cases::Column::SuspendedAt, Expr::value(Nothing::None))
        .col_expr(cases::Column::DeadlineAt, Expr::value(deadline))
        .col_expr(cases::Column::OverdueNotifiedAt, Expr::value(Nothing::None)))
}
