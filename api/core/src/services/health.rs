//! Readiness: can this instance reach its database and its object store right now?

use std::time::Duration;

use crate::state::AppState;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub database: bool,
    pub storage: bool,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database && self.storage
    }
}

pub async fn check(state: &AppState) -> Readiness {
    const DEADLINE: Duration = Duration::from_secs(2);
    let database = async {
        match tokio::time::timeout(DEADLINE, state.db.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness: database unreachable");
                false
            }
            Err(_) => {
                tracing::warn!("readiness: database timed out");
                false
            }
        }
    };
    let storage = async {
        match state.store.ping(DEADLINE).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(error = %err, "readiness: storage unreachable");
                false
            }
        }
    };
    let (database, storage) = tokio::join!(database, storage);
    Readiness { database, storage }
}
