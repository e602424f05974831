//! The end-to-end suite: the real app on a random port, its own database and S3 store per
//! test, spoken to over HTTP. One binary, so the suite links once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should fail the test loudly

mod auth;
mod browser;
mod calendar;
mod direct_uploads;
mod errors;
mod evidence;
mod flaky;
mod grid;
mod hardening;
mod helpers;
mod idempotency;
mod images;
mod inspections;
mod limits;
mod map;
mod migrations;
mod open311;
mod operations;
mod phone_day;
mod photos;
mod policy;
mod push;
mod registry;
mod reports;
mod stats;
mod storage;
mod sync;
mod users;
mod visibility;
mod webhooks;
mod workflow;
