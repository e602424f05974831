//! What every request handler can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::storage::ObjectStore;

pub struct AppState {
    pub db: DatabaseConnection,
    /// Photos decoded at once: decoding is CPU and memory heavy, so it is bounded.
    pub photo_slots: Arc<tokio::sync::Semaphore>,
    pub store: ObjectStore,
    /// Password hashing, on threads of its own behind a bounded queue.
    pub passwords: crate::auth::password::Passwords,
    /// Upload bytes held in memory at once across all requests (permits are KiB).
    pub upload_budget: Arc<tokio::sync::Semaphore>,
    /// Uploads in flight per user, so that one account cannot hold the whole budget.
    pub uploads_in_flight: crate::services::uploads::InFlight,
    pub jwt: JwtKeys,
    pub settings: Arc<Settings>,
    /// The spatial index behind automatic assignment.
    pub registry: crate::services::assignment::RegistryCache,
    pub case_numbers: crate::services::case_numbers::CaseNumbers,
}
