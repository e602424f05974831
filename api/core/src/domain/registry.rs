//! Words of the registry: area levels and department kinds.

pub use entity::vocabulary::{AreaLevel, DepartmentKind};
