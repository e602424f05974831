//! Who is calling: password hashing, access tokens, refresh tokens, the failed-login
//! throttle and the signed-in user. What a caller may do is `policy`'s job; reading the
//! caller from a request is the HTTP layer's.

pub mod jwt;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod throttle;

use entity::ids::{DepartmentId, ShopfrontId, UserId};

use crate::domain::Role;
use crate::error::Error;

/// A signed-in user whose account was read and found usable.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub department_id: Option<DepartmentId>,
    pub shopfront_id: Option<ShopfrontId>,
}

impl CurrentUser {
    /// The account behind a verified token: 401 when it is gone, disabled, or its password
    /// changed after the token was issued.
    pub fn of_account(
        account: Option<entity::users::Model>,
        signed_in: &SignedIn,
    ) -> Result<Self, Error> {
        let user = account.ok_or_else(Error::unauthorized)?;
        if user.disabled
            || user.password_changed_at.timestamp_millis() != signed_in.password_epoch_ms
        {
            return Err(Error::unauthorized());
        }
        Ok(CurrentUser {
            id: user.id,
            username: user.username,
            role: user.role,
            department_id: user.department_id,
            shopfront_id: user.shopfront_id,
        })
    }

    /// The user a verified token names, read from the database.
    pub async fn load(
        db: &sea_orm::DatabaseConnection,
        signed_in: &SignedIn,
    ) -> Result<Self, Error> {
        use sea_orm::EntityTrait;
        let account = entity::users::Entity::find_by_id(signed_in.user_id)
            .one(db)
            .await?;
        Self::of_account(account, signed_in)
    }
}

/// A valid access token whose account is not read yet. Filing, the busiest write, reads
/// the account in the statement that reads everything else it needs and then checks it
/// with [`CurrentUser::of_account`]; everything else works with a [`CurrentUser`].
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    pub user_id: UserId,
    /// The account's `password_changed_at` (ms) when the token was issued.
    pub password_epoch_ms: i64,
}
