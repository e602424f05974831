//! Schema migrations, written once for SQLite and PostgreSQL with sea-query's portable
//! helpers. Migrations never import `entity`: an old migration must not change when
//! today's entities do.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_accounts;
mod m20261122_000002_create_areas_and_categories;
mod m20261122_000003_create_cases_and_photos;
mod m20261122_000004_grow_registry;
mod m20261122_000005_add_case_workflow;
mod m20261122_000006_create_working_calendar;
mod m20261122_000007_create_webhooks;
mod m20261123_000008_create_inspections;
mod m20261123_000009_create_open311;
mod m20261123_000010_add_queue_indexes;
mod m20261123_000011_add_case_overseer;
mod m20261201_000012_create_idempotency_keys;
mod m20261201_000013_hold_cases_for_evidence;
mod m20261201_000014_add_change_sequence;
mod m20261201_000015_create_direct_uploads;
mod m20261201_000016_create_push;
mod m20261202_000017_create_user_areas;
mod m20261202_000018_sign_case_history;
mod m20261202_000019_verify_by_the_grid;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_accounts::Migration),
            Box::new(m20261122_000002_create_areas_and_categories::Migration),
            Box::new(m20261122_000003_create_cases_and_photos::Migration),
            Box::new(m20261122_000004_grow_registry::Migration),
            Box::new(m20261122_000005_add_case_workflow::Migration),
            Box::new(m20261122_000006_create_working_calendar::Migration),
            Box::new(m20261122_000007_create_webhooks::Migration),
            Box::new(m20261123_000008_create_inspections::Migration),
            Box::new(m20261123_000009_create_open311::Migration),
            Box::new(m20261123_000010_add_queue_indexes::Migration),
            Box::new(m20261123_000011_add_case_overseer::Migration),
            Box::new(m20261201_000012_create_idempotency_keys::Migration),
            Box::new(m20261201_000013_hold_cases_for_evidence::Migration),
            Box::new(m20261201_000014_add_change_sequence::Migration),
            Box::new(m20261201_000015_create_direct_uploads::Migration),
            Box::new(m20261201_000016_create_push::Migration),
            Box::new(m20261202_000017_create_user_areas::Migration),
            Box::new(m20261202_000018_sign_case_history::Migration),
            Box::new(m20261202_000019_verify_by_the_grid::Migration),
        ]
    }
}
