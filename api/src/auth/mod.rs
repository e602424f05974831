//! Who is calling: password hashing, access tokens, refresh tokens, the failed-login
//! throttle and the `CurrentUser` extractor. What a caller may do is `policy`'s job.

mod current_user;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod throttle;

pub use current_user::{CurrentUser, SignedIn};
