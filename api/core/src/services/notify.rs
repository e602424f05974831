//! Outbound notices: webhooks for `assigned`, `overdue`, `rectified`, `closed`,
//! `reopened`, `chased` and `verify_overdue`. A notice is written to the outbox in the transaction that changes the case
//! (so it survives a crash) and sent by a background sender on every instance; a sender
//! claims a delivery with a conditional update, so each is sent by one instance at a time,
//! and marks it delivered, so it is sent once. Bodies are signed with HMAC-SHA256 over
//! `<timestamp>.<body>`. Failures are retried with exponential backoff. Web Push to
//! people's phones has its own outbox beside this one (`services::push`).

use std::time::Duration;

use chrono::Utc;
use hmac::{KeyInit, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use entity::vocabulary::PushEvent;
use entity::{cases, webhook_deliveries, webhooks};

use crate::error::Error;
use crate::services::assignment::Registry;
use crate::services::now;
use crate::services::outbound::OutboundPolicy;
use crate::state::AppState;

entity::stored_enum!(Notice { Assigned => "assigned", Overdue => "overdue", Rectified => "rectified", Closed => "closed", Reopened => "reopened", Chased => "chased", VerifyOverdue => "verify_overdue" });

entity::stored_enum!(
    /// `json` (our own shape) or a text/markdown message that a DingTalk or WeCom group
    /// robot accepts as it is.
    WebhookFormat { Json => "json", Dingtalk => "dingtalk", Wecom => "wecom" }
);

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 10;

fn payload(format: WebhookFormat, notice: Notice, case: &cases::Model) -> Value {
    let title = match notice {
        Notice::Assigned => "新案件已派遣",
        Notice::Overdue => "案件已超期",
        Notice::Rectified => "案件已整改待核查",
        Notice::Closed => "案件已结案",
        Notice::Reopened => "案件反弹重新派遣",
        Notice::Chased => "案件催办",
        Notice::VerifyOverdue => "整改待核查已超时",
    };
    let deadline = case.deadline_at.map(|d| d.to_rfc3339()).unwrap_or_default();
    let text = format!(
        "### {title}\n\n- 案件编号：{}\n- 类别：{}\n- 地址：{}\n- 状态：{}\n- 处理期限：{}\n- 派遣原因：{}",
        case.case_no,
        case.category_code,
        case.address,
        case.status,
        deadline,
        case.assignment_reason.as_deref().unwrap_or(""),
    );
    match format {
        WebhookFormat::Json => json!({
            "event": notice.as_str(),
            "case": {
                "id": case.id, "case_no": case.case_no, "status": case.status, "category": case.category_code,
                "address": case.address, "deadline_at": case.deadline_at,
                "assignee_department_id": case.assignee_department_id, "assignee_shopfront_id": case.assignee_shopfront_id,
                "assignment_reason": case.assignment_reason,
            },
        }),
        WebhookFormat::Dingtalk => {
            json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}})
        }
        WebhookFormat::Wecom => json!({"msgtype": "markdown", "markdown": {"content": text}}),
    }
}

/// Queues `notice` about `case` for every matching webhook. Call it inside the transaction
/// that changes the case.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    registry: &Registry,
    case: &cases::Model,
    notice: Notice,
) -> Result<(), Error> {
    let deliveries = deliveries(registry, case, notice);
    if !deliveries.is_empty() {
        webhook_deliveries::Entity::insert_many(deliveries)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The outbox rows of `notice` about `case`: one per active webhook of its department
/// (or city-wide) that asked for this event.
pub fn deliveries(
    registry: &Registry,
    case: &cases::Model,
    notice: Notice,
) -> Vec<webhook_deliveries::ActiveModel> {
    let at = now();
    registry
        .webhooks_for(case.overseer_department_id)
        .filter(|hook| {
            serde_json::from_str::<Vec<String>>(&hook.events)
                .unwrap_or_default()
                .iter()
                .any(|e| e == notice.as_str())
        })
        .map(|hook| {
            let format = WebhookFormat::parse(&hook.format).unwrap_or(WebhookFormat::Json);
            webhook_deliveries::ActiveModel {
                id: Set(Uuid::now_v7()),
                webhook_id: Set(hook.id),
                event: Set(notice.as_str().to_owned()),
                case_id: Set(case.id),
                payload: Set(payload(format, notice, case).to_string()),
                attempts: Set(0),
                // A case held for its evidence is told when it is dispatched.
                next_attempt_at: Set(case.held_until.map_or(at, |held| std::cmp::max(held, at))),
                locked_until: Set(None),
                delivered_at: Set(None),
                last_error: Set(None),
                created_at: Set(at),
            }
        })
        .collect()
}

/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. HMAC takes keys of any length, so
/// building the MAC cannot fail.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends what is due once. Returns how many were delivered.
pub async fn send_due(state: &AppState, client: &reqwest::Client) -> Result<usize, Error> {
    let at = now();
    let due = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::DeliveredAt.is_null())
        .filter(webhook_deliveries::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(at))
        .filter(
            Condition::any()
                .add(webhook_deliveries::Column::LockedUntil.is_null())
                .add(webhook_deliveries::Column::LockedUntil.lt(at)),
        )
        .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
        .limit(20)
        .all(&state.db)
        .await?;
    let mut delivered = 0;
    for delivery in due {
        // Claim it: only one sender wins the conditional update.
        let claimed = webhook_deliveries::Entity::update_many()
            .col_expr(
                webhook_deliveries::Column::LockedUntil,
                Expr::value(at + chrono::Duration::seconds(60)),
            )
            .filter(webhook_deliveries::Column::Id.eq(delivery.id))
            .filter(webhook_deliveries::Column::DeliveredAt.is_null())
            .filter(
                Condition::any()
                    .add(webhook_deliveries::Column::LockedUntil.is_null())
                    .add(webhook_deliveries::Column::LockedUntil.lt(at)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let Some(hook) = webhooks::Entity::find_by_id(delivery.webhook_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        // Names are judged by the client's resolver; an address in the URL is judged here.
        if let Err(refused) = OutboundPolicy::of(&state.settings).check_literal(&hook.url) {
            record_attempt(state, &delivery, Some(refused)).await?;
            continue;
        }
        let timestamp = Utc::now().timestamp();
        let outcome = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-xuncha-event", delivery.event.as_str())
            .header("x-xuncha-delivery", delivery.id.to_string())
            .header("x-xuncha-timestamp", timestamp.to_string())
            .header(
                "x-xuncha-signature",
                signature(&hook.secret, timestamp, &delivery.payload),
            )
            .body(delivery.payload.clone())
            .send()
            .await;
        let error = match outcome {
            Ok(response) if response.status().is_success() => None,
            Ok(response) if response.status().is_redirection() => Some(format!(
                "HTTP {} (redirects are not followed)",
                response.status()
            )),
            Ok(response) => Some(format!("HTTP {}", response.status())),
            Err(err) => Some(error_chain(&err)),
        };
        if error.is_none() {
            delivered += 1;
        }
        record_attempt(state, &delivery, error).await?;
    }
    Ok(delivered)
}

/// The error and its causes on one line (reqwest's own message hides the resolver's).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Counts an attempt: delivered, or failed with `error` and retried after a backoff.
async fn record_attempt(
    state: &AppState,
    delivery: &webhook_deliveries::Model,
    error: Option<String>,
) -> Result<(), Error> {
    let mut update = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Attempts,
            Expr::col(webhook_deliveries::Column::Attempts).add(1),
        )
        .col_expr(
            webhook_deliveries::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        );
    match error {
        None => {
            update = update.col_expr(webhook_deliveries::Column::DeliveredAt, Expr::value(now()));
        }
        Some(message) => {
            tracing::warn!(delivery = %delivery.id, error = %message, "webhook delivery failed");
            update = update
                .col_expr(webhook_deliveries::Column::LastError, Expr::value(message))
                .col_expr(
                    webhook_deliveries::Column::NextAttemptAt,
                    Expr::value(now() + backoff(delivery.attempts)),
                );
        }
    }
    update
        .filter(webhook_deliveries::Column::Id.eq(delivery.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The wait before the next attempt of a delivery that has failed `attempts` times
/// before this one: 10 s, doubling, at most an hour.
pub(crate) fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(std::cmp::min(10i64 << attempts.clamp(0, 9), 3600))
}

/// Marks newly overdue cases and queues their notices (webhooks and Web Push to the
/// assignee's people), once per case and deadline. Safe
/// with several instances: the conditional update lets one of them take each case.
pub async fn sweep_overdue(state: &AppState) -> Result<usize, Error> {
    use crate::domain::CaseStatus;
    let at = now();
    let overdue = cases::Entity::find()
        .filter(cases::Column::Status.is_in(CaseStatus::OPEN))
        .filter(cases::Column::SuspendedAt.is_null())
        .filter(cases::Column::OverdueNotifiedAt.is_null())
        .filter(cases::Column::DeadlineAt.lt(at))
        .limit(500)
        .all(&state.db)
        .await?;
    let mut marked = 0;
    for case in overdue {
        let txn = crate::services::begin_write(&state.db).await?;
        let taken = cases::Entity::update_many()
            .col_expr(cases::Column::OverdueNotifiedAt, Expr::value(at))
            .filter(cases::Column::Id.eq(case.id))
            .filter(cases::Column::OverdueNotifiedAt.is_null())
            .exec(&txn)
            .await?;
        if taken.rows_affected == 1 {
            let registry = state.registry.current(&txn).await?;
            enqueue(&txn, &registry, &case, Notice::Overdue).await?;
            crate::services::push::enqueue(&txn, &case, PushEvent::Overdue, None).await?;
            marked += 1;
        }
        txn.commit().await?;
    }
    Ok(marked)
}

/// Escalates the rectifications whose verifier let the time limit pass: once per
/// rectification, to the supervisors' queue (`verify_overdue`) and the webhooks that ask
/// for `verify_overdue`. Safe with several instances, as the overdue sweep is.
pub async fn sweep_unverified(state: &AppState) -> Result<usize, Error> {
    use crate::domain::CaseStatus;
    let at = now();
    let late = cases::Entity::find()
        .filter(cases::Column::Status.eq(CaseStatus::Rectified))
        .filter(cases::Column::VerifyEscalatedAt.is_null())
        .filter(cases::Column::VerifyDueAt.lt(at))
        .limit(500)
        .all(&state.db)
        .await?;
    let mut escalated = 0;
    for case in late {
        let txn = crate::services::begin_write(&state.db).await?;
        let taken = cases::Entity::update_many()
            .col_expr(cases::Column::VerifyEscalatedAt, Expr::value(at))
            .filter(cases::Column::Id.eq(case.id))
            .filter(cases::Column::Status.eq(CaseStatus::Rectified))
            .filter(cases::Column::VerifyEscalatedAt.is_null())
            .exec(&txn)
            .await?;
        if taken.rows_affected == 1 {
            let registry = state.registry.current(&txn).await?;
            enqueue(&txn, &registry, &case, Notice::VerifyOverdue).await?;
            escalated += 1;
        }
        txn.commit().await?;
    }
    Ok(escalated)
}

/// The webhook sender (every 2 s) and the overdue sweep with the late verifications'
/// (every minute) of this instance.
pub fn start_workers(
    workers: &crate::workers::Workers,
    state: std::sync::Arc<AppState>,
) -> reqwest::Result<()> {
    let client = OutboundPolicy::of(&state.settings).client(Duration::from_secs(10))?;
    let sender_state = state.clone();
    workers.every(
        "webhook sender",
        Duration::from_secs(2),
        Duration::from_secs(2),
        move || {
            let (state, client) = (sender_state.clone(), client.clone());
            async move {
                if let Err(err) = send_due(&state, &client).await {
                    tracing::warn!(error = %err, "webhook sending failed");
                }
            }
        },
    );
    workers.every(
        "overdue sweep",
        Duration::from_secs(60),
        Duration::from_secs(2),
        move || {
            let state = state.clone();
            async move {
                if let Err(err) = sweep_overdue(&state).await {
                    tracing::warn!(error = %err, "overdue sweep failed");
                }
                if let Err(err) = sweep_unverified(&state).await {
                    tracing::warn!(error = %err, "escalating late verifications failed");
                }
            }
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_published_hmac_sha256_test_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Ours signs "<timestamp>.<body>" the same way.
        let sig = signature("Jefe", 0, "what");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert_ne!(signature("Jefe", 1, "what"), sig, "the timestamp is signed");
    }
}
