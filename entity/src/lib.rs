//! SeaORM entities, one module per table. Behaviour beyond the table's shape lives in the
//! `api` crate's domain and services, never here.

pub mod areas;
pub mod categories;
pub mod departments;
pub mod login_throttles;
pub mod refresh_tokens;
pub mod shopfronts;
pub mod users;

pub use sea_orm;
