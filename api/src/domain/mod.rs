//! Parsed types that cannot hold invalid values ("parse, don't validate").

pub mod case;
mod credit_code;
pub mod geo;
mod password;
mod role;
mod username;

pub use case::{AssigneeKind, CaseSource, CaseStatus, PhotoKind, Severity};
pub use credit_code::CreditCode;
pub use geo::{Crs, GeoPoint};
pub use password::NewPassword;
pub use role::Role;
pub use username::Username;
