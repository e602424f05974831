//! `/api/v1/evidence`: the key that signs case histories and the signed daily digests of
//! their heads (`services::evidence`), for auditors who keep them elsewhere.

use actix_web::{get, web};
use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, needs};
use crate::error::{ApiError, FieldErrors};
use crate::routes::extract::Query;
use crate::routes::pagination::{self, Page};
use crate::services::evidence::{self as service, PublishedDigest};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(evidence_key)
        .service(list_digests)
        .service(get_digest);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceKeyJson {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// Base64 of the 32-byte public key.
    pub public_key: String,
    /// The first 8 bytes of the public key's SHA-256, in hex, as digests name it.
    pub key_id: String,
}

/// The public key that case-event signatures and daily digests verify with. Public: an
/// auditor checks what they kept without an account.
#[utoipa::path(tag = "evidence", responses((status = 200, body = EvidenceKeyJson)))]
#[get("/evidence/key")]
async fn evidence_key(state: web::Data<AppState>) -> web::Json<EvidenceKeyJson> {
    web::Json(EvidenceKeyJson {
        algorithm: "Ed25519",
        public_key: base64::engine::general_purpose::STANDARD.encode(state.evidence.public_key()),
        key_id: state.evidence.key_id().to_owned(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DigestSummaryJson {
    pub day: NaiveDate,
    /// Cases whose chain moved that day.
    pub heads: i32,
    pub body_sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was written to the object store (`evidence/digests/<day>.json`).
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DigestsQuery {
    /// 1–200 (default 50), newest first.
    pub limit: Option<u64>,
}

/// A digest names every case that moved that day, in a body signed whole: only readers of
/// the whole city see it (a supervisor bound to areas gets 403).
async fn whole_city(state: &AppState, user: &crate::auth::CurrentUser) -> Result<(), ApiError> {
    if crate::services::scope::reach(state, user)
        .await?
        .bound
        .is_some()
    {
        return Err(crate::error::Error::forbidden().into());
    }
    Ok(())
}

/// The daily digests, newest first (readers of the whole city).
#[utoipa::path(tag = "evidence", params(DigestsQuery), responses((status = 200, body = Page<DigestSummaryJson>), (status = 422)), security(("bearer" = [])))]
#[get("/evidence/digests")]
async fn list_digests(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewEvidence>,
    query: Query<DigestsQuery>,
) -> Result<web::Json<Page<DigestSummaryJson>>, ApiError> {
    whole_city(&state, &user).await?;
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    errors.finish()?;
    let items = service::digests(&state.db, limit)
        .await?
        .into_iter()
        .map(|d| DigestSummaryJson {
            day: d.day,
            heads: d.heads,
            body_sha256: d.body_sha256,
            created_at: d.created_at,
            published_at: d.published_at,
        })
        .collect();
    Ok(web::Json(Page::whole(items)))
}

/// One day's digest as published: the signed body, its signature and the key (readers of
/// the whole city).
#[utoipa::path(tag = "evidence", params(("day" = String, Path, description = "YYYY-MM-DD")), responses((status = 200, body = PublishedDigest), (status = 404)), security(("bearer" = [])))]
#[get("/evidence/digests/{day}")]
async fn get_digest(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewEvidence>,
    day: web::Path<String>,
) -> Result<web::Json<PublishedDigest>, ApiError> {
    whole_city(&state, &user).await?;
    let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| crate::error::Error::not_found())?;
    let digest = service::digest(&state.db, day).await?;
    Ok(web::Json(service::published(&state, digest)))
}
