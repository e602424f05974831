//! `GET /sync`: a phone's delta sync (`xuncha_core::services::sync`, `docs/mobile.md`).

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use entity::ids::CaseId;

use crate::auth::Caller;
use crate::domain::Crs;
use crate::error::{ApiError, FieldErrors};
use crate::routes::extract::Query;
use crate::routes::pagination;
use crate::routes::reports::json::CaseJson;
use crate::services::sync;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sync_changes);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `next_token` of the last answer; none for a phone that keeps nothing yet.
    pub token: Option<String>,
    /// Cases per page, 1–200 (default 50).
    pub limit: Option<u64>,
    /// A compact page: only these fields of each case (comma-separated; `id` always).
    pub fields: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncJson {
    /// The cases in the phone's hands changed since its token, in change order.
    pub cases: Vec<CaseJson>,
    /// Cases that left its hands (assigned elsewhere): drop them. Given on the last page.
    pub removed: Vec<CaseId>,
    /// Too much left its hands at once: drop everything and sync again without a token.
    pub reset: bool,
    /// `false`: ask again now with `next_token` for the next page.
    pub done: bool,
    pub next_token: String,
    /// The registry's version: when it differs from the phone's copy, fetch
    /// `/registry/offline` again.
    pub registry_version: i64,
}

/// The sync answer as sent (cases as JSON, with only the fields asked for).
#[derive(Serialize)]
struct SyncAnswer {
    cases: Vec<Value>,
    removed: Vec<CaseId>,
    reset: bool,
    done: bool,
    next_token: String,
    registry_version: i64,
}

/// What changed in the phone's hands since its last sync: its cases (an inspector's own
/// filings; a department's or shop's queue), those that left, and the registry's version.
#[utoipa::path(tag = "reports", params(SyncQuery), responses((status = 200, body = SyncJson), (status = 422)), security(("bearer" = [])))]
#[get("/sync")]
async fn sync_changes(
    state: web::Data<AppState>,
    user: Caller,
    query: Query<SyncQuery>,
) -> Result<web::Json<SyncAnswer>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    let fields = crate::routes::fields::parse::<CaseJson>(query.fields.as_deref(), &mut errors);
    errors.finish()?;
    let token = sync::parse_token(query.token.as_deref())?;
    let registry = state.registry.current(&state.db).await?;
    let page = sync::changes(&state, &user, token, limit).await?;
    let cases = crate::routes::reports::case_jsons(&state, page.cases, Crs::Wgs84).await?;
    Ok(web::Json(SyncAnswer {
        cases: fields.apply(cases),
        removed: page.removed,
        reset: page.reset,
        done: page.done,
        next_token: page.next.encode(),
        registry_version: registry.version(),
    }))
}
