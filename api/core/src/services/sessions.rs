//! Sign-in, token refresh with rotation and reuse detection, sign-out, password changes.

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use entity::ids::UserId;
use entity::{refresh_tokens, users};

use crate::auth::{refresh, throttle};
use crate::domain::NewPassword;
use crate::error::{Error, ErrorCode, Msg};
use crate::services::now;
use crate::state::AppState;

/// What a successful sign-in or refresh hands out.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: users::Model,
    /// The areas the user is bound to (`services::users::areas_of`).
    pub areas: Vec<Uuid>,
}

/// Where a sign-in comes from: the client's address, and the phone's own id if it sends one.
pub struct SignInFrom<'a> {
    pub address: &'a str,
    pub device: Option<&'a str>,
}

pub async fn login(
    state: &AppState,
    username: &str,
    password: String,
    from: SignInFrom<'_>,
) -> Result<Session, Error> {
    let address = from.address;
    let username: String = username.trim().to_lowercase().chars().take(64).collect();
    let device_key = throttle::device_key(&username, from.device, address);
    let account_key = throttle::account_key(&username);
    let address_key = throttle::address_key(address);
    let started = now();
    let mut claimed = Vec::with_capacity(3);
    for (key, limit) in [
        (&device_key, throttle::PER_DEVICE),
        (&account_key, throttle::PER_ACCOUNT),
        (
            &address_key,
            throttle::per_address(state.settings.signin_failures_per_address),
        ),
    ] {
        match throttle::claim(&state.db, key, limit, started).await? {
            throttle::Attempt::Allowed(n) => claimed.push((key, limit, n)),
            throttle::Attempt::Locked(secs) => {
                for (key, _, _) in claimed {
                    throttle::forgive(&state.db, key).await?;
                }
                let secs = u64::try_from(secs).unwrap_or(1);
                return Err(Error::too_many(ErrorCode::TooManyLoginAttempts, secs));
            }
        }
    }

    let user = users::Entity::find()
        .filter(users::Column::Username.eq(&username))
        .one(&state.db)
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = match state.passwords.verify(password, stored).await {
        Ok(matched) => matched,
        Err(busy) => {
            // Not judged, so not counted.
            for (key, _, _) in &claimed {
                throttle::forgive(&state.db, key).await?;
            }
            return Err(busy);
        }
    };
    let Some(user) = user.filter(|_| matched) else {
        let failed_at = now();
        for (key, limit, attempt) in claimed {
            throttle::failed(&state.db, key, attempt, limit, failed_at).await?;
        }
        tracing::info!(username = %username, address, "failed sign-in");
        return Err(Error::new(ErrorCode::InvalidCredentials));
    };
    // The right password clears its device's count and gives back its attempt elsewhere
    // (a guesser's failures on the account stay counted).
    throttle::clear(&state.db, &device_key).await?;
    throttle::forgive(&state.db, &account_key).await?;
    throttle::forgive(&state.db, &address_key).await?;
    if user.disabled {
        return Err(Error::new(ErrorCode::AccountDisabled));
    }

    let signed_in_at = now();
    let mut active = user.into_active_model();
    active.last_login_at = Set(Some(signed_in_at));
    let user = active.update(&state.db).await?;
    tracing::info!(user_id = %user.id, "signed in");
    start_session(state, &state.db, user, Uuid::now_v7()).await
}

/// Exchanges a refresh token for a new pair, spending the old one. A phone whose answer
/// was lost on the way retries with the spent token: within `refresh_reuse_grace` of its
/// spending it gets another pair of the same sign-in. Spent longer ago, the token was
/// stolen or replayed, and its whole family (every token descended from that sign-in) is
/// revoked.
pub async fn refresh(state: &AppState, token: &str) -> Result<Session, Error> {
    let digest = refresh::digest(token);
    let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(digest))
        .one(&state.db)
        .await?
    else {
        return Err(Error::unauthorized());
    };
    let at = now();
    if row.revoked_at.is_some() || row.expires_at <= at {
        return Err(Error::unauthorized());
    }

    let txn = crate::services::begin_write(&state.db).await?;
    // Spend the token only if nobody else has: of two concurrent refreshes with one token,
    // one spends it and the other finds it spent (and then judged by the grace window).
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(at))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let used_at = if spent.rows_affected == 1 {
        Some(at)
    } else {
        refresh_tokens::Entity::find_by_id(row.id)
            .one(&txn)
            .await?
            .filter(|now_row| now_row.revoked_at.is_none())
            .and_then(|now_row| now_row.used_at)
    };
    let grace = Duration::from_std(state.settings.refresh_reuse_grace).map_err(Error::internal)?;
    let within_grace = used_at.is_some_and(|used| at - used <= grace);
    let user = users::Entity::find_by_id(row.user_id).one(&txn).await?;
    match user {
        Some(user) if within_grace && !user.disabled => {
            let session = start_session(state, &txn, user, row.family_id).await?;
            txn.commit().await?;
            Ok(session)
        }
        _ => {
            txn.rollback().await?;
            if used_at.is_some() && !within_grace {
                tracing::warn!(user_id = %row.user_id, family = %row.family_id,
                    "refresh token reused after its grace window; revoking its family");
            }
            revoke_family(&state.db, row.family_id).await?;
            Err(Error::unauthorized())
        }
    }
}

/// Revokes the sign-in that `token` belongs to. Unknown tokens are ignored, so signing out
/// twice is harmless.
pub async fn logout(state: &AppState, token: &str) -> Result<(), Error> {
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(refresh::digest(token)))
        .one(&state.db)
        .await?;
    if let Some(row) = row {
        revoke_family(&state.db, row.family_id).await?;
    }
    Ok(())
}

/// A user changes their own password; every earlier session ends and a new one starts.
pub async fn change_own_password(
    state: &AppState,
    user_id: UserId,
    current: String,
    new: NewPassword,
) -> Result<Session, Error> {
    let user = users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(Error::unauthorized)?;
    let account_key = throttle::own_password_key(&user.username);
    let attempt =
        match throttle::claim(&state.db, &account_key, throttle::PER_DEVICE, now()).await? {
            throttle::Attempt::Allowed(n) => n,
            throttle::Attempt::Locked(secs) => {
                let secs = u64::try_from(secs).unwrap_or(1);
                return Err(Error::too_many(ErrorCode::TooManyLoginAttempts, secs));
            }
        };
    let matched = match state
        .passwords
        .verify(current, Some(user.password_hash.clone()))
        .await
    {
        Ok(matched) => matched,
        Err(busy) => {
            throttle::forgive(&state.db, &account_key).await?;
            return Err(busy);
        }
    };
    if matched {
        throttle::clear(&state.db, &account_key).await?;
    } else {
        throttle::failed(
            &state.db,
            &account_key,
            attempt,
            throttle::PER_DEVICE,
            now(),
        )
        .await?;
        return Err(Error::invalid_field(
            "current_password",
            Msg::fixed("wrong password", "当前密码错误"),
        ));
    }
    let user = set_password(state, user, new).await?;
    start_session(state, &state.db, user, Uuid::now_v7()).await
}

/// Stores a new password hash, invalidates every access token issued before (through
/// `password_changed_at`) and revokes every refresh token.
pub async fn set_password(
    state: &AppState,
    user: users::Model,
    new: NewPassword,
) -> Result<users::Model, Error> {
    let hash = state.passwords.hash(new.expose().to_owned()).await?;
    let changed_at = now();
    let txn = crate::services::begin_write(&state.db).await?;
    let user_id = user.id;
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(changed_at);
    active.updated_at = Set(changed_at);
    let user = active.update(&txn).await?;
    revoke_all(&txn, user_id).await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn revoke_all(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), Error> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> Result<(), Error> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

async fn start_session(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: users::Model,
    family_id: Uuid,
) -> Result<Session, Error> {
    let refresh_token = refresh::generate();
    let issued_at = now();
    let ttl = Duration::from_std(state.settings.refresh_token_ttl).map_err(Error::internal)?;
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(refresh::digest(&refresh_token)),
        expires_at: Set(issued_at + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(issued_at),
    }
    .insert(db)
    .await?;
    let access_token = state
        .jwt
        .issue(user.id, user.password_changed_at.timestamp_millis())
        .map_err(Error::internal)?;
    let areas = crate::services::scope::bound_areas(db, user.id).await?;
    Ok(Session {
        access_token,
        refresh_token,
        expires_in: state.jwt.ttl().as_secs(),
        user,
        areas,
    })
}
