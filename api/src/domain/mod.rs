//! Parsed types that cannot hold invalid values ("parse, don't validate").

mod credit_code;
mod password;
mod role;
mod username;

pub use credit_code::CreditCode;
pub use password::NewPassword;
pub use role::Role;
pub use username::Username;
