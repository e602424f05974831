//! Each device's subscription: what a browser's `PushSubscription.toJSON()` gives, checked
//! and kept for the signed-in user. An endpoint names one browser on one device, so it
//! belongs to whoever signed in there last: subscribing it again replaces its keys and
//! moves it to the caller. A user keeps at most [`MAX_PER_USER`]; a new one replaces
//! their oldest (a device long gone, most likely).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use entity::ids::{PushSubscriptionId, UserId};
use entity::{push_deliveries, push_subscriptions};

use crate::auth::CurrentUser;
use crate::error::{Error, FieldErrors, Msg};
use crate::services::outbound::OutboundPolicy;
use crate::services::push::{B64URL, b64url_decode};
use crate::services::{begin_write, now};
use crate::state::AppState;
use base64::Engine as _;

/// Devices one user may have subscribed at once.
pub const MAX_PER_USER: u64 = 10;

/// The longest endpoint taken (push services' are about 200–500 characters).
pub const MAX_ENDPOINT_CHARS: usize = 1000;

/// A subscription as the browser states it, unchecked.
#[derive(Debug)]
pub struct NewSubscription {
    pub endpoint: String,
    /// `expirationTime`: milliseconds since the epoch, or none.
    pub expiration_ms: Option<f64>,
    pub p256dh: String,
    pub auth: String,
}

/// A subscription checked: an endpoint this server may post to, and keys that work.
struct Checked {
    endpoint: String,
    expires_at: Option<DateTime<Utc>>,
    p256dh: String,
    auth: String,
}

fn check_keys(new: &NewSubscription, errors: &mut FieldErrors) -> Option<(String, String)> {
    let p256dh = errors.check(
        "keys.p256dh",
        b64url_decode(new.p256dh.trim())
            .filter(|bytes| bytes.len() == 65 && bytes[0] == 4)
            .filter(|bytes| p256::PublicKey::from_sec1_bytes(bytes).is_ok())
            .ok_or_else(|| {
                Msg::fixed(
                    "the base64url of an uncompressed P-256 public key (65 bytes)",
                    "须为 P-256 未压缩公钥（65 字节）的 base64url 编码",
                )
            }),
    );
    let auth = errors.check(
        "keys.auth",
        b64url_decode(new.auth.trim())
            .filter(|bytes| bytes.len() == 16)
            .ok_or_else(|| {
                Msg::fixed(
                    "the base64url of a 16-byte authentication secret",
                    "须为 16 字节认证密钥的 base64url 编码",
                )
            }),
    );
    // Kept in one spelling (unpadded), whatever the browser sent.
    Some((B64URL.encode(p256dh?), B64URL.encode(auth?)))
}

/// The endpoint as a URL this server may post to: https, on a public address; plain http
/// only to an address of `XUNCHA_PUSH_ALLOWED_NETWORKS` (a push server on a private
/// network, or the tests' receiver).
async fn check_endpoint(policy: &OutboundPolicy, raw: &str) -> Result<String, Msg> {
    if raw.chars().count() > MAX_ENDPOINT_CHARS {
        return Err(Msg::new(
            format!("at most {MAX_ENDPOINT_CHARS} characters"),
            format!("最多 {MAX_ENDPOINT_CHARS} 个字符"),
        ));
    }
    let url = policy.check_url(raw).await?;
    if url.scheme() == "http" {
        let address = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        let inside_allowed =
            address.is_some_and(|ip| policy.allowed.iter().any(|net| net.contains(&ip)));
        if !inside_allowed {
            return Err(Msg::fixed(
                "an https:// URL (push services are reached over TLS)",
                "须为 https:// 地址（推送服务须经 TLS 访问）",
            ));
        }
    }
    Ok(url.to_string())
}

async fn check(state: &AppState, new: NewSubscription) -> Result<Checked, Error> {
    let mut errors = FieldErrors::default();
    let policy = OutboundPolicy::for_push(&state.settings);
    let endpoint = errors.check(
        "endpoint",
        check_endpoint(&policy, new.endpoint.trim()).await,
    );
    let expires_at = errors.check(
        "expirationTime",
        match new.expiration_ms {
            None => Ok(None),
            Some(ms) => DateTime::<Utc>::from_timestamp_millis(ms as i64)
                .filter(|at| ms.is_finite() && *at > now())
                .map(Some)
                .ok_or_else(|| {
                    Msg::fixed(
                        "null, or a time to come in milliseconds since 1970",
                        "须为 null 或将来的时间（自 1970 年起的毫秒数）",
                    )
                }),
        },
    );
    let keys = check_keys(&new, &mut errors);
    errors.finish()?;
    match (endpoint, expires_at, keys) {
        (Some(endpoint), Some(expires_at), Some((p256dh, auth))) => Ok(Checked {
            endpoint,
            expires_at,
            p256dh,
            auth,
        }),
        _ => Err(Error::internal("a checked subscription lost a field")),
    }
}

/// Keeps the caller's subscription. `true` when it is new, `false` when the endpoint was
/// known (its keys replaced, and now the caller's).
pub async fn subscribe(
    state: &AppState,
    user: &CurrentUser,
    new: NewSubscription,
) -> Result<(push_subscriptions::Model, bool), Error> {
    let checked = check(state, new).await?;
    // A second pass when a concurrent subscription of the same endpoint won the insert.
    for _ in 0..2 {
        if let Some(kept) = keep(state, user.id, &checked).await? {
            return Ok(kept);
        }
    }
    Err(Error::new(crate::error::ErrorCode::Conflict))
}

/// `None` when a concurrent subscription of the same endpoint inserted it first.
async fn keep(
    state: &AppState,
    user: UserId,
    checked: &Checked,
) -> Result<Option<(push_subscriptions::Model, bool)>, Error> {
    let at = now();
    let txn = begin_write(&state.db).await?;
    let known = push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::Endpoint.eq(&checked.endpoint))
        .lock_exclusive()
        .one(&txn)
        .await?;
    let (kept, created) = match known {
        Some(known) => {
            if known.user_id != user {
                // What was waiting for the device's previous user is not for this one.
                push_deliveries::Entity::delete_many()
                    .filter(push_deliveries::Column::SubscriptionId.eq(known.id))
                    .filter(push_deliveries::Column::DeliveredAt.is_null())
                    .exec(&txn)
                    .await?;
            }
            let mut active = known.into_active_model();
            active.user_id = Set(user);
            active.p256dh = Set(checked.p256dh.clone());
            active.auth = Set(checked.auth.clone());
            active.expires_at = Set(checked.expires_at);
            (active.update(&txn).await?, false)
        }
        None => {
            let created = push_subscriptions::ActiveModel {
                id: Set(PushSubscriptionId::now_v7()),
                user_id: Set(user),
                endpoint: Set(checked.endpoint.clone()),
                p256dh: Set(checked.p256dh.clone()),
                auth: Set(checked.auth.clone()),
                expires_at: Set(checked.expires_at),
                created_at: Set(at),
                last_success_at: Set(None),
            }
            .insert(&txn)
            .await;
            match created {
                Ok(created) => (created, true),
                Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    txn.rollback().await?;
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            }
        }
    };
    // The caller's oldest beyond the cap are replaced.
    let mine = push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::UserId.eq(user))
        .count(&txn)
        .await?;
    if mine > MAX_PER_USER {
        let oldest: Vec<PushSubscriptionId> = push_subscriptions::Entity::find()
            .select_only()
            .column(push_subscriptions::Column::Id)
            .filter(push_subscriptions::Column::UserId.eq(user))
            .filter(push_subscriptions::Column::Id.ne(kept.id))
            .order_by_asc(push_subscriptions::Column::CreatedAt)
            .order_by_asc(push_subscriptions::Column::Id)
            .limit(mine - MAX_PER_USER)
            .into_tuple()
            .all(&txn)
            .await?;
        push_subscriptions::Entity::delete_many()
            .filter(push_subscriptions::Column::Id.is_in(oldest))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Some((kept, created)))
}

/// The caller's subscriptions, oldest first.
pub async fn list(state: &AppState, user: UserId) -> Result<Vec<push_subscriptions::Model>, Error> {
    Ok(push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::UserId.eq(user))
        .order_by_asc(push_subscriptions::Column::CreatedAt)
        .order_by_asc(push_subscriptions::Column::Id)
        .all(&state.db)
        .await?)
}

/// Removes one of the caller's subscriptions, and what waits for it; another's is 404.
pub async fn delete(state: &AppState, user: UserId, id: PushSubscriptionId) -> Result<(), Error> {
    let deleted = push_subscriptions::Entity::delete_many()
        .filter(push_subscriptions::Column::Id.eq(id))
        .filter(push_subscriptions::Column::UserId.eq(user))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found());
    }
    Ok(())
}
