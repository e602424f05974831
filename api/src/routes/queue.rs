//! `GET /api/v1/queue`: what the signed-in user has to do now.

use std::collections::BTreeMap;

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::Crs;
use crate::error::{ApiError, FieldErrors};
use crate::routes::extract::Query;
use crate::routes::pagination;
use crate::routes::reports::json::CaseJson;
use crate::services::queue;
use crate::services::queue::QUEUE_LIMIT;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(my_queue);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    /// Overdue first, then by deadline (at most `limit`).
    pub items: Vec<CaseJson>,
    /// Per part of the queue (`to_accept`, `in_progress` for departments and shops;
    /// `to_verify` for inspectors; `triage`, `disputed`, `extension_requests`,
    /// `suspension_requests` for supervisors) and `overdue`.
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// How many cases to list, 1 to 200 (default 200); the counts are always complete.
    pub limit: Option<u64>,
    /// A compact queue: only these fields of each case (comma-separated; `id` always).
    pub fields: Option<String>,
}

/// The queue as sent: its cases as JSON, with only the fields asked for.
#[derive(Serialize)]
struct QueueAnswer {
    items: Vec<serde_json::Value>,
    counts: BTreeMap<String, u64>,
}

/// The signed-in user's work queue, with counts. Poll it with `If-None-Match`: an unchanged
/// queue answers 304.
#[utoipa::path(tag = "reports", params(QueueQuery), responses((status = 200, body = QueueResponse)), security(("bearer" = [])))]
#[get("/queue")]
async fn my_queue(
    state: web::Data<AppState>,
    user: Caller,
    query: Query<QueueQuery>,
) -> Result<web::Json<QueueAnswer>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(Some(query.limit.unwrap_or(QUEUE_LIMIT)), &mut errors);
    let fields = crate::routes::fields::parse::<CaseJson>(query.fields.as_deref(), &mut errors);
    errors.finish()?;
    let found = queue::for_user(&state, &user, limit).await?;
    let cases = crate::routes::reports::case_jsons(&state, found.cases, Crs::Wgs84).await?;
    Ok(web::Json(QueueAnswer {
        items: fields.apply(cases),
        counts: found
            .counts
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    }))
}
