//! The use cases. No HTTP here: each takes the state or a connection and returns domain
//! results or an `Error`.

pub mod assignment;
pub mod bootstrap;
pub mod calendar;
pub mod case_numbers;
pub mod categories;
pub mod direct_uploads;
pub mod events;
pub mod evidence;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod inspections;
pub mod notify;
pub mod open311;
pub mod outbound;
pub mod photos;
pub mod push;
pub mod queue;
pub mod registry;
pub mod reports;
pub mod scope;
pub mod sessions;
pub mod sync;
pub mod uploads;
pub mod users;
pub mod webhooks;
pub mod workflow;

/// Now, to the millisecond: the precision every timestamp is stored and compared at, the
/// same on SQLite and PostgreSQL.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing
/// when a read lock cannot be upgraded; PostgreSQL ignores the mode.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
