//! `GET /limits`: every limit a client must fit, and the oldest client version this server
//! still serves, in one document read from the constants and settings that enforce them.
//! A phone reads it at start and shapes its uploads and pages to it.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::photo::{ImageFormat, MAX_FILE_BYTES, MAX_PIXELS};
use crate::routes::extract::JSON_LIMIT_BYTES;
use crate::routes::{IMPORT_LIMIT_BYTES, pagination};
use crate::services::photos::MAX_PER_KIND;
use crate::services::uploads::MAX_FILES_PER_REQUEST;
use crate::services::{direct_uploads, idempotency};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(limits);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsJson {
    /// Clients older than this (semantic version) should ask their user to update.
    pub oldest_client_version: String,
    pub photos: PhotoLimitsJson,
    /// JSON bodies, at most.
    pub json_max_bytes: usize,
    /// Registry imports (GeoJSON, CSV, XLSX), at most.
    pub import_max_bytes: usize,
    pub pages: PageLimitsJson,
    pub idempotency: IdempotencyLimitsJson,
    pub requests: RequestLimitsJson,
    pub sessions: SessionLimitsJson,
    /// How long an assigned report filed without a photo waits for its first one.
    pub dispatch_wait_seconds: u64,
    pub direct_uploads: DirectUploadLimitsJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectUploadLimitsJson {
    /// Every part but the last has this size; a file no larger goes in one PUT.
    pub part_bytes: i64,
    /// How long a presigned URL works; ask the upload for fresh ones after.
    pub url_validity_seconds: u64,
    /// An upload not finalized within this is removed.
    pub lifetime_hours: i64,
    /// Unfinished uploads one user may have at once.
    pub max_pending: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoLimitsJson {
    pub max_file_bytes: usize,
    pub max_pixels: u64,
    pub max_files_per_request: usize,
    pub max_per_kind: u64,
    /// Told from the bytes, not the name.
    pub formats: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageLimitsJson {
    pub default_limit: u64,
    pub max_limit: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdempotencyLimitsJson {
    pub max_key_chars: usize,
    pub retention_hours: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateJson {
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLimitsJson {
    pub per_address: RateJson,
    pub per_account: RateJson,
    /// A body may take this long, plus the time its bytes need at
    /// `body_min_bytes_per_second`, never more than `body_max_seconds`.
    pub body_grace_seconds: u64,
    pub body_min_bytes_per_second: u32,
    pub body_max_seconds: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionLimitsJson {
    pub access_token_seconds: u64,
    pub refresh_token_days: u64,
    /// A spent refresh token sent again this soon still gets a pair.
    pub refresh_reuse_grace_seconds: u64,
}

/// The limits a client must fit, and the oldest client version served.
#[utoipa::path(tag = "operations", responses((status = 200, body = LimitsJson)))]
#[get("/limits")]
async fn limits(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    let rate = |r: xuncha_core::limits::Rate| RateJson {
        per_second: r.per_second,
        burst: r.burst,
    };
    HttpResponse::Ok().json(LimitsJson {
        oldest_client_version: settings.oldest_client_version.clone(),
        photos: PhotoLimitsJson {
            max_file_bytes: MAX_FILE_BYTES,
            max_pixels: MAX_PIXELS,
            max_files_per_request: MAX_FILES_PER_REQUEST,
            max_per_kind: MAX_PER_KIND,
            formats: ImageFormat::ALL.map(ImageFormat::content_type).to_vec(),
        },
        json_max_bytes: JSON_LIMIT_BYTES,
        import_max_bytes: IMPORT_LIMIT_BYTES,
        pages: PageLimitsJson {
            default_limit: pagination::DEFAULT_LIMIT,
            max_limit: pagination::MAX_LIMIT,
        },
        idempotency: IdempotencyLimitsJson {
            max_key_chars: idempotency::MAX_KEY_CHARS,
            retention_hours: idempotency::RETENTION.num_hours(),
        },
        requests: RequestLimitsJson {
            per_address: rate(settings.rate_limit_per_address),
            per_account: rate(settings.rate_limit_per_account),
            body_grace_seconds: settings.body_grace.as_secs(),
            body_min_bytes_per_second: settings.body_min_bytes_per_second,
            body_max_seconds: settings.body_max.as_secs(),
        },
        sessions: SessionLimitsJson {
            access_token_seconds: settings.access_token_ttl.as_secs(),
            refresh_token_days: settings.refresh_token_ttl.as_secs() / 86_400,
            refresh_reuse_grace_seconds: settings.refresh_reuse_grace.as_secs(),
        },
        dispatch_wait_seconds: settings.dispatch_wait.as_secs(),
        direct_uploads: DirectUploadLimitsJson {
            part_bytes: direct_uploads::PART_BYTES,
            url_validity_seconds: direct_uploads::URL_VALIDITY.as_secs(),
            lifetime_hours: direct_uploads::UPLOAD_LIFETIME.num_hours(),
            max_pending: direct_uploads::MAX_PENDING_PER_USER,
        },
    })
}
