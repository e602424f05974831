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
    pub jwt: JwtKeys,
    pub settings: Arc<Settings>,
    /// The spatial index behind automatic assignment.
    pub registry: crate::services::assignment::RegistryCache,
    pub case_numbers: crate::services::case_numbers::CaseNumbers,
}
