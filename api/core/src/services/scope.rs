//! Reading what bounds a user's view (`policy::Reach`): the areas a supervisor or
//! inspector is bound to, and a department's territory, each expanded down the area tree
//! of the current registry. What the reach allows is `policy`'s to decide.

use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use entity::ids::UserId;
use entity::user_areas;

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope, Reach};
use crate::domain::Role;
use crate::error::Error;
use crate::state::AppState;

/// The areas a user is bound to, as stored (not expanded).
pub async fn bound_areas(db: &impl ConnectionTrait, user: UserId) -> Result<Vec<Uuid>, Error> {
    Ok(user_areas::Entity::find()
        .select_only()
        .column(user_areas::Column::AreaId)
        .filter(user_areas::Column::UserId.eq(user))
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// The user's reach. Roles that areas do not bound (admins, shops) cost no query.
pub async fn reach(state: &AppState, user: &CurrentUser) -> Result<Reach, Error> {
    match user.role {
        Role::Supervisor | Role::Inspector => {
            let roots = bound_areas(&state.db, user.id).await?;
            if roots.is_empty() {
                return Ok(Reach::default());
            }
            let registry = state.registry.current(&state.db).await?;
            let mut bound = registry.areas_under(roots);
            bound.sort_unstable();
            Ok(Reach {
                bound: Some(Arc::from(bound)),
                territory: Arc::from([]),
            })
        }
        Role::Department => {
            let Some(department) = user.department_id else {
                return Ok(Reach::default());
            };
            let registry = state.registry.current(&state.db).await?;
            let mut territory = registry.territory(department);
            territory.sort_unstable();
            Ok(Reach {
                bound: None,
                territory: Arc::from(territory),
            })
        }
        Role::Admin | Role::Shopfront => Ok(Reach::default()),
    }
}

/// The cases the user may see.
pub async fn case_scope(state: &AppState, user: &CurrentUser) -> Result<CaseScope, Error> {
    Ok(policy::case_scope(user, &reach(state, user).await?))
}
