//! Sign-in attempts are counted per account on one device, per account, and per client
//! address, in the database, so several API instances share one count. A phone that
//! mistypes is locked out by the first; a guesser spreading over devices by the second; a
//! password sprayer by the third, set high because a whole district may sign in from
//! behind one exit address. Each attempt is counted before its password is
//! checked and given back when the password is right. Past the limit the key is locked
//! for a while and even a right password gets 429 with `Retry-After`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::login_throttles;

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
}

/// Five wrong passwords for one account from one device in 15 minutes lock that device
/// out of that account for 15 minutes.
pub const PER_DEVICE: Limit = Limit {
    max_failures: 5,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

/// Twenty for one account from any devices lock the account: someone is guessing from
/// several.
pub const PER_ACCOUNT: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

/// Failures from one address in 15 minutes (password spraying) lock the address; how many
/// is `XUNCHA_SIGNIN_FAILURES_PER_ADDRESS`.
pub fn per_address(max_failures: i32) -> Limit {
    Limit {
        max_failures,
        window: Duration::minutes(15),
        lockout: Duration::minutes(15),
    }
}

pub fn account_key(username: &str) -> String {
    format!("user:{username}")
}

/// An account on one device: the phone's `device_id`, else the address it signs in from.
pub fn device_key(username: &str, device: Option<&str>, address: &str) -> String {
    match device {
        Some(device) => format!("device:{username}:{device}"),
        None => format!("device:{username}:ip:{address}"),
    }
}

/// A signed-in user's checks of their own current password.
pub fn own_password_key(username: &str) -> String {
    format!("password:{username}")
}

pub fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

/// What a sign-in attempt may do, decided before its password is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt is counted as the `n`th of the window; verify the password.
    Allowed(i32),
    /// Refused without checking the password; try again after this many seconds.
    Locked(i64),
}

/// Counts an attempt against `key` in one atomic statement, before the password is
/// checked: concurrent attempts each get their own number, so a burst is held to the limit
/// exactly as a sequence is. A right password gives the attempt back ([`forgive`]).
pub async fn claim(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<Attempt, sea_orm::DbErr> {
    use login_throttles::{Column, Entity};
    let in_window = Expr::col((Entity, Column::WindowStartedAt)).gt(now - limit.window);
    let upsert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Key,
            Column::Failures,
            Column::WindowStartedAt,
            Column::LockedUntil,
        ])
        .values([
            key.into(),
            1.into(),
            now.into(),
            Option::<DateTime<Utc>>::None.into(),
        ])
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .values([
                    (
                        Column::Failures,
                        Expr::case(
                            in_window.clone(),
                            Expr::col((Entity, Column::Failures)).add(1),
                        )
                        .finally(1)
                        .into(),
                    ),
                    (
                        Column::WindowStartedAt,
                        Expr::case(in_window, Expr::col((Entity, Column::WindowStartedAt)))
                            .finally(now)
                            .into(),
                    ),
                ])
                .to_owned(),
        )
        .returning(Query::returning().columns([Column::Failures, Column::LockedUntil]))
        .to_owned();
    let row = db
        .query_one(&upsert)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(key.to_owned()))?;
    let attempt: i32 = row.try_get("", "failures")?;
    let locked_until: Option<DateTime<Utc>> = row.try_get("", "locked_until")?;
    let lock_left = |until: DateTime<Utc>| Ord::max((until - now).num_seconds(), 1);
    Ok(match locked_until {
        Some(until) if until > now => Attempt::Locked(lock_left(until)),
        // The attempt that reached the limit is still being checked.
        _ if attempt > limit.max_failures => Attempt::Locked(lock_left(now + limit.lockout)),
        _ => Attempt::Allowed(attempt),
    })
}

/// After a wrong password: the attempt that reached the limit locks the key.
pub async fn failed(
    db: &impl ConnectionTrait,
    key: &str,
    attempt: i32,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    if attempt < limit.max_failures {
        return Ok(());
    }
    login_throttles::Entity::update_many()
        .col_expr(
            login_throttles::Column::LockedUntil,
            Expr::value(now + limit.lockout),
        )
        .filter(login_throttles::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back the attempt a right password claimed, so that sign-ins that succeed do not
/// count against a shared address.
pub async fn forgive(db: &impl ConnectionTrait, key: &str) -> Result<(), sea_orm::DbErr> {
    login_throttles::Entity::update_many()
        .col_expr(
            login_throttles::Column::Failures,
            Expr::col(login_throttles::Column::Failures).sub(1),
        )
        .filter(login_throttles::Column::Key.eq(key))
        .filter(login_throttles::Column::Failures.gt(0))
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
