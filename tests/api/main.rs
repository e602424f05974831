//! The end-to-end suite: the real app on a random port, its own database and S3 store per
//! test, spoken to over HTTP. One binary, so the suite links once.

mod auth;
mod errors;
mod helpers;
mod operations;
mod storage;
mod users;
