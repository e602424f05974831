//! Xuncha (巡查): the API behind city street inspection. Everything is public so the
//! end-to-end tests can start the real app.

pub mod auth;
pub mod body_deadline;
pub mod client;
pub mod conditional;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod photo;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod workers;
