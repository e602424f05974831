//! The Web Push outbox, in two stages. The fan-out takes each due notice (deleting it in
//! a write transaction: the instance whose delete removes the row has it, any other
//! removes nothing) and writes, in that transaction, one delivery per device of the people
//! it names, with the message. The sender claims each due delivery with a conditional
//! update, as the webhook sender does, encrypts it to the device's keys (RFC 8291
//! `aes128gcm`), signs the request (VAPID) and posts it to the push service. A 2xx is
//! delivered; 404 or 410 means the subscription is gone, so it is removed with its
//! deliveries; 429, 5xx and network failures are retried with backoff; other answers
//! (a 413, a 403 for a key the subscription was not made with) are given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use entity::vocabulary::Role;
use entity::{cases, push_deliveries, push_notices, push_subscriptions, users};

use crate::error::Error;
use crate::services::notify::{MAX_ATTEMPTS, backoff, error_chain};
use crate::services::outbound::OutboundPolicy;
use crate::services::push::{b64url_decode, payload, still_current, urgency};
use crate::services::{begin_write, now};
use crate::state::AppState;

/// How long a push service keeps a message for a device that is offline (RFC 8030 `TTL`):
/// a day, so a phone switched on the next morning still hears of yesterday's work.
pub const TTL_SECS: u32 = 86_400;

/// A sender's claim on a delivery lasts this long.
const CLAIM_SECS: i64 = 60;

/// Delivered (or given-up) deliveries are kept this long, for inspection.
const KEEP_DAYS: i64 = 7;

/// Fans out the notices that are due. Returns how many deliveries were written.
pub async fn fan_out_due(state: &AppState) -> Result<usize, Error> {
    let at = now();
    let due = push_notices::Entity::find()
        .filter(push_notices::Column::NotBefore.lte(at))
        .order_by_asc(push_notices::Column::NotBefore)
        .limit(50)
        .all(&state.db)
        .await?;
    let mut written = 0;
    for notice in due {
        match fan_out_one(state, &notice, at).await {
            Ok(count) => written += count,
            Err(err) => {
                // One notice that fails is set aside for a while, not put before the
                // others again at every round.
                tracing::warn!(error = %err, notice = %notice.id, "push fan-out of a notice failed");
                push_notices::Entity::update_many()
                    .col_expr(
                        push_notices::Column::NotBefore,
                        Expr::value(at + chrono::Duration::seconds(RETRY_NOTICE_SECS)),
                    )
                    .filter(push_notices::Column::Id.eq(notice.id))
                    .exec(&state.db)
                    .await?;
            }
        }
    }
    Ok(written)
}

/// A notice whose fan-out failed is tried again after this long.
const RETRY_NOTICE_SECS: i64 = 60;

/// Deliveries written by one statement: well under SQLite's 32,766 bound parameters.
const DELIVERIES_PER_INSERT: usize = 500;

async fn fan_out_one(
    state: &AppState,
    notice: &push_notices::Model,
    at: DateTime<Utc>,
) -> Result<usize, Error> {
    let txn = begin_write(&state.db).await?;
    // The claim: another instance fanning out the same notice deletes nothing.
    let claimed = push_notices::Entity::delete_by_id(notice.id)
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(0);
    }
    let written = fan_out(state, &txn, notice, at).await?;
    txn.commit().await?;
    Ok(written)
}

/// One delivery per live subscription of the people `notice` names.
async fn fan_out(
    state: &AppState,
    txn: &impl ConnectionTrait,
    notice: &push_notices::Model,
    at: DateTime<Utc>,
) -> Result<usize, Error> {
    let Some(case) = cases::Entity::find_by_id(notice.case_id).one(txn).await? else {
        return Ok(0);
    };
    if !still_current(notice, &case) {
        return Ok(0);
    }
    let devices = push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::UserId.in_subquery(people(notice)))
        .filter(
            Condition::any()
                .add(push_subscriptions::Column::ExpiresAt.is_null())
                .add(push_subscriptions::Column::ExpiresAt.gt(at)),
        )
        .all(txn)
        .await?;
    if devices.is_empty() {
        return Ok(0);
    }
    let registry = state.registry.latest();
    let message = payload(notice.event, &case, registry.category(&case.category_code));
    let rows: Vec<_> = devices
        .iter()
        .map(|device| push_deliveries::ActiveModel {
            id: Set(Uuid::now_v7()),
            subscription_id: Set(device.id),
            case_id: Set(case.id),
            event: Set(notice.event),
            payload: Set(message.clone()),
            attempts: Set(0),
            next_attempt_at: Set(at),
            locked_until: Set(None),
            delivered_at: Set(None),
            last_error: Set(None),
            created_at: Set(at),
        })
        .collect();
    for chunk in rows.chunks(DELIVERIES_PER_INSERT) {
        push_deliveries::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(devices.len())
}

/// The ids of the people a notice names, as a query: the enabled users of its department
/// or shop (in that role), or its one user; never its actor.
fn people(notice: &push_notices::Model) -> sea_orm::sea_query::SelectStatement {
    let mut query = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Disabled.eq(false));
    query = match (notice.department_id, notice.shopfront_id, notice.user_id) {
        (Some(department), _, _) => query
            .filter(users::Column::Role.eq(Role::Department))
            .filter(users::Column::DepartmentId.eq(department)),
        (None, Some(shop), _) => query
            .filter(users::Column::Role.eq(Role::Shopfront))
            .filter(users::Column::ShopfrontId.eq(shop)),
        (None, None, Some(user)) => query.filter(users::Column::Id.eq(user)),
        (None, None, None) => query.filter(Expr::val(false)),
    };
    if let Some(actor) = notice.actor_id {
        query = query.filter(users::Column::Id.ne(actor));
    }
    query.into_query()
}

/// What became of one attempt.
enum Outcome {
    Delivered,
    /// The push service no longer knows the subscription (404, 410).
    Gone(String),
    /// Retrying cannot help.
    GiveUp(String),
    /// Try again after the backoff, or after the service's `Retry-After` if longer.
    Retry(String, Option<chrono::Duration>),
}

/// Sends the deliveries that are due, once. Returns how many were delivered.
pub async fn send_due(state: &AppState, client: &reqwest::Client) -> Result<usize, Error> {
    let at = now();
    let unclaimed = |at: DateTime<Utc>| {
        Condition::any()
            .add(push_deliveries::Column::LockedUntil.is_null())
            .add(push_deliveries::Column::LockedUntil.lt(at))
    };
    let due = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::DeliveredAt.is_null())
        .filter(push_deliveries::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(push_deliveries::Column::NextAttemptAt.lte(at))
        .filter(unclaimed(at))
        .order_by_asc(push_deliveries::Column::NextAttemptAt)
        .limit(20)
        .all(&state.db)
        .await?;
    let mut delivered = 0;
    for delivery in due {
        // Claim it: only one sender wins the conditional update. The claim is timed from
        // now, not from the batch's start: sends before it may have taken their timeout.
        let claim_at = now();
        let claimed = push_deliveries::Entity::update_many()
            .col_expr(
                push_deliveries::Column::LockedUntil,
                Expr::value(claim_at + chrono::Duration::seconds(CLAIM_SECS)),
            )
            .filter(push_deliveries::Column::Id.eq(delivery.id))
            .filter(push_deliveries::Column::DeliveredAt.is_null())
            .filter(unclaimed(claim_at))
            .exec(&state.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        // Gone since: its deliveries went with it.
        let Some(device) = push_subscriptions::Entity::find_by_id(delivery.subscription_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        // Someone disabled since the fan-out hears nothing more.
        let enabled = users::Entity::find_by_id(device.user_id)
            .one(&state.db)
            .await?
            .is_some_and(|user| !user.disabled);
        let outcome = if enabled {
            send_one(state, client, &device, &delivery).await
        } else {
            Outcome::GiveUp("the user is disabled".to_owned())
        };
        if matches!(outcome, Outcome::Delivered) {
            delivered += 1;
        }
        record(state, &device, &delivery, outcome).await?;
    }
    Ok(delivered)
}

/// The encrypted body of `message` for `device` (RFC 8291: a fresh key pair and salt for
/// each message, one `aes128gcm` record).
fn encrypt(device: &push_subscriptions::Model, message: &str) -> Result<Vec<u8>, String> {
    let public = b64url_decode(&device.p256dh)
        .and_then(|bytes| p256::PublicKey::from_sec1_bytes(&bytes).ok())
        .ok_or("the subscription's p256dh is not a P-256 public key")?;
    let auth = b64url_decode(&device.auth)
        .filter(|bytes| bytes.len() == 16)
        .ok_or("the subscription's auth secret is not 16 bytes")?;
    web_push_native::encrypt(
        message.as_bytes().to_vec(),
        &public,
        &web_push_native::Auth::clone_from_slice(&auth),
    )
    .map_err(|err| format!("encrypting: {err}"))
}

async fn send_one(
    state: &AppState,
    client: &reqwest::Client,
    device: &push_subscriptions::Model,
    delivery: &push_deliveries::Model,
) -> Outcome {
    let endpoint = match url::Url::parse(&device.endpoint) {
        Ok(endpoint) => endpoint,
        Err(err) => return Outcome::GiveUp(format!("endpoint: {err}")),
    };
    // Names are judged by the client's resolver; an address in the URL is judged here.
    if let Err(refused) = OutboundPolicy::for_push(&state.settings).check_literal(&device.endpoint)
    {
        // An address in the URL does not change: retrying cannot help.
        return Outcome::GiveUp(refused);
    }
    let body = match encrypt(device, &delivery.payload) {
        Ok(body) => body,
        Err(err) => return Outcome::GiveUp(err),
    };
    let authorization = match state.vapid.authorization(&endpoint, Utc::now().timestamp()) {
        Ok(header) => header,
        Err(err) => return Outcome::GiveUp(err),
    };
    let sent = client
        .post(endpoint)
        .header("ttl", TTL_SECS.to_string())
        .header("urgency", urgency(delivery.event))
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("authorization", authorization)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => return Outcome::Retry(error_chain(&err), None),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|secs| chrono::Duration::seconds(secs.clamp(0, 3600)));
    let said = reason(response).await;
    let error = format!("HTTP {status}{said}");
    match status.as_u16() {
        404 | 410 => Outcome::Gone(error),
        408 | 429 | 500..=599 => Outcome::Retry(error, retry_after),
        300..=399 => Outcome::Retry(format!("{error} (redirects are not followed)"), None),
        _ => Outcome::GiveUp(error),
    }
}

/// The start of what a push service said with a refusal (they explain in the body).
async fn reason(mut response: reqwest::Response) -> String {
    let mut said = Vec::new();
    while said.len() < 200 {
        match response.chunk().await {
            Ok(Some(chunk)) => said.extend_from_slice(&chunk),
            _ => break,
        }
    }
    said.truncate(200);
    let text = String::from_utf8_lossy(&said);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

async fn record(
    state: &AppState,
    device: &push_subscriptions::Model,
    delivery: &push_deliveries::Model,
    outcome: Outcome,
) -> Result<(), Error> {
    let at = now();
    // The attempt counted; a given-up delivery counts as all its attempts made (each
    // column is set once: PostgreSQL refuses a second assignment).
    let attempts = match outcome {
        Outcome::GiveUp(_) => Expr::value(MAX_ATTEMPTS),
        _ => Expr::col(push_deliveries::Column::Attempts).add(1),
    };
    let update = push_deliveries::Entity::update_many()
        .col_expr(push_deliveries::Column::Attempts, attempts)
        .col_expr(
            push_deliveries::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(push_deliveries::Column::Id.eq(delivery.id));
    match outcome {
        Outcome::Delivered => {
            update
                .col_expr(push_deliveries::Column::DeliveredAt, Expr::value(at))
                .exec(&state.db)
                .await?;
            push_subscriptions::Entity::update_many()
                .col_expr(push_subscriptions::Column::LastSuccessAt, Expr::value(at))
                .filter(push_subscriptions::Column::Id.eq(device.id))
                .exec(&state.db)
                .await?;
        }
        Outcome::Gone(error) => {
            tracing::info!(subscription = %device.id, %error, "push subscription gone; removed");
            // Its deliveries go with it (the foreign key cascades).
            push_subscriptions::Entity::delete_by_id(device.id)
                .exec(&state.db)
                .await?;
        }
        Outcome::GiveUp(error) => {
            tracing::warn!(delivery = %delivery.id, %error, "push delivery given up");
            update
                .col_expr(push_deliveries::Column::LastError, Expr::value(error))
                .exec(&state.db)
                .await?;
        }
        Outcome::Retry(error, asked) => {
            tracing::warn!(delivery = %delivery.id, %error, "push delivery failed");
            let wait = std::cmp::max(backoff(delivery.attempts), asked.unwrap_or_default());
            update
                .col_expr(push_deliveries::Column::LastError, Expr::value(error))
                .col_expr(
                    push_deliveries::Column::NextAttemptAt,
                    Expr::value(at + wait),
                )
                .exec(&state.db)
                .await?;
        }
    }
    Ok(())
}

/// Forgets deliveries done or given up a week ago, and subscriptions past the expiry their
/// browser stated.
pub async fn sweep(state: &AppState) -> Result<(), Error> {
    let at = now();
    push_deliveries::Entity::delete_many()
        .filter(push_deliveries::Column::CreatedAt.lt(at - chrono::Duration::days(KEEP_DAYS)))
        .filter(
            Condition::any()
                .add(push_deliveries::Column::DeliveredAt.is_not_null())
                .add(push_deliveries::Column::Attempts.gte(MAX_ATTEMPTS)),
        )
        .exec(&state.db)
        .await?;
    push_subscriptions::Entity::delete_many()
        .filter(push_subscriptions::Column::ExpiresAt.lt(at))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The fan-out and the sender (every 2 s) and the sweep (hourly) of this instance.
pub fn start_workers(
    workers: &crate::workers::Workers,
    state: std::sync::Arc<AppState>,
) -> reqwest::Result<()> {
    const EVERY: Duration = Duration::from_secs(2);
    let client = OutboundPolicy::for_push(&state.settings).client(Duration::from_secs(10))?;
    let fan_out_state = state.clone();
    workers.every("push fan-out", EVERY, EVERY, move || {
        let state = fan_out_state.clone();
        async move {
            if let Err(err) = fan_out_due(&state).await {
                tracing::warn!(error = %err, "push fan-out failed");
            }
        }
    });
    let sender_state = state.clone();
    workers.every("push sender", EVERY, EVERY, move || {
        let (state, client) = (sender_state.clone(), client.clone());
        async move {
            if let Err(err) = send_due(&state, &client).await {
                tracing::warn!(error = %err, "push sending failed");
            }
        }
    });
    const HOURLY: Duration = Duration::from_secs(3600);
    workers.every("push sweep", HOURLY, HOURLY, move || {
        let state = state.clone();
        async move {
            if let Err(err) = sweep(&state).await {
                tracing::warn!(error = %err, "push sweep failed");
            }
        }
    });
    Ok(())
}
