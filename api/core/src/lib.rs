//! Xuncha's core: the domain, the use cases, storage and the photo pipeline. It does not
//! know HTTP (the crate has no actix-web dependency), so a rule put here cannot depend on
//! a request, and the HTTP layer (`xuncha`) cannot be reached from here.

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod limits;
pub mod photo;
pub mod services;
pub mod state;
pub mod storage;
pub mod workers;
