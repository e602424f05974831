//! Failed sign-ins are counted per account and per client address in the database, so
//! several API instances share one count. Past the limit the key is locked for a while and
//! even a right password gets 429 with `Retry-After`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use entity::login_throttles;

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
}

/// Five wrong passwords for one account in 15 minutes lock it for 15 minutes.
pub const PER_ACCOUNT: Limit = Limit {
    max_failures: 5,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

/// Twenty failures from one address in 15 minutes (password spraying) lock the address.
pub const PER_ADDRESS: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

pub fn account_key(username: &str) -> String {
    format!("user:{username}")
}

pub fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

/// Seconds until `key` may try again, if it is locked now.
pub async fn locked_for(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sea_orm::DbErr> {
    let row = login_throttles::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| r.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1)))
}

/// Counts one failure against `key`, locking it when the limit is reached.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let existing = login_throttles::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?;
    let (failures, window_started_at) = match existing {
        Some(row) if row.window_started_at + limit.window > now => {
            (row.failures.saturating_add(1), row.window_started_at)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= limit.max_failures).then(|| now + limit.lockout);
    let row = login_throttles::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(failures),
        window_started_at: Set(window_started_at),
        locked_until: Set(locked_until),
    };
    login_throttles::Entity::insert(row)
        .on_conflict(
            OnConflict::column(login_throttles::Column::Key)
                .update_columns([
                    login_throttles::Column::Failures,
                    login_throttles::Column::WindowStartedAt,
                    login_throttles::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in to that account).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), sea_orm::DbErr> {
    login_throttles::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await?;
    Ok(())
}
