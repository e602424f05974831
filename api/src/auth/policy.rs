//! Who may do what, in one place. Routes ask here; list queries will filter by the same
//! rules as cases and the registry land.

use crate::auth::CurrentUser;
use crate::domain::Role;
use crate::error::ApiError;

/// Users, areas, departments, shopfronts, categories, assignment rules and API keys.
pub fn may_administer(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin])
}
