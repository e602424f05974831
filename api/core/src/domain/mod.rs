//! Parsed types that cannot hold invalid values ("parse, don't validate").

pub mod calendar;
pub mod case;
mod credit_code;
pub mod geo;
pub mod geometry;
pub mod inspection;
mod password;
pub mod question;
pub mod registry;
mod role;
pub mod text;
mod username;
pub mod workflow;

pub use case::{AssigneeKind, CaseSource, CaseStatus, PhotoKind, Severity};
pub use credit_code::CreditCode;
pub use geo::{Crs, GeoPoint};
pub use password::NewPassword;
pub use registry::{AreaLevel, DepartmentKind};
pub use role::Role;
pub use username::Username;
pub use workflow::Action;
