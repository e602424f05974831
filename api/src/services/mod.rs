//! The use cases. No HTTP here: each takes the state or a connection and returns domain
//! results or an `ApiError`.

pub mod assignment;
pub mod bootstrap;
pub mod categories;
pub mod demo;
pub mod events;
pub mod health;
pub mod imports;
pub mod photos;
pub mod registry;
pub mod reports;
pub mod sessions;
pub mod users;

/// Now, to the millisecond: the precision every timestamp is stored and compared at, the
/// same on SQLite and PostgreSQL.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}
