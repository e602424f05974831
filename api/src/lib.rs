//! Xuncha (巡查): the HTTP layer of city street inspection. Routes extract a request, call
//! one use case of `xuncha_core` and answer its result; everything else lives there.
//! Everything is public so the end-to-end tests can start the real app.

pub use xuncha_core::{config, domain, photo, services, state, storage, workers};

pub mod auth;
pub mod body_deadline;
pub mod client;
pub mod conditional;
pub mod error;
pub mod idempotency;
pub mod routes;
pub mod startup;
pub mod telemetry;
