//! `/healthz` (the process answers), `/readyz` (database and storage reachable) and
//! `/metrics` (Prometheus).

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, Error};
use crate::services::health::{self, Readiness};
use crate::state::AppState;
use crate::telemetry::Metrics;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "ok")))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: 200 when the database and the object store both answer, else 503.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, body = Readiness),
))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let readiness = health::check(&state).await;
    if readiness.ready() {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// Prometheus metrics: request counts and latency histograms by route and status.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain")))]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>) -> Result<HttpResponse, ApiError> {
    let text = metrics.render().map_err(Error::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
