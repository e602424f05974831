//! SeaORM entities, one module per table. Behaviour beyond the table's shape lives in the
//! `api` crate's domain and services, never here.

pub mod api_keys;
pub mod areas;
pub mod assignment_rules;
pub mod calendar_days;
pub mod campaign_sites;
pub mod campaigns;
pub mod case_counters;
pub mod case_events;
pub mod cases;
pub mod categories;
pub mod checklist_items;
pub mod checklists;
pub mod departments;
pub mod direct_uploads;
pub mod evidence_digest_heads;
pub mod evidence_digests;
pub mod idempotency_keys;
pub mod ids;
pub mod inspection_sites;
pub mod login_throttles;
pub mod photos;
pub mod public_requests;
pub mod push_deliveries;
pub mod push_notices;
pub mod push_subscriptions;
pub mod refresh_tokens;
pub mod registry_versions;
pub mod shopfronts;
pub mod user_areas;
pub mod users;
pub mod visit_scores;
pub mod visits;
pub mod vocabulary;
pub mod webhook_deliveries;
pub mod webhooks;
