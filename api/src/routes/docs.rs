//! The OpenAPI document, generated from the handlers' annotations, and Swagger UI at
//! `/docs` (its assets are vendored from crates.io: nothing is fetched at build or run time).

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Xuncha (巡查) API",
        description = "Street inspection: reports, assignment, rectification and unannounced inspections."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, tokens and the signed-in user"),
        (name = "users", description = "User administration"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "open311", description = "API keys for Open311 client apps (the GeoReport v2 endpoint itself is at /open311/v2/, see docs/open311.md)"),
        (name = "inspections", description = "Unannounced inspections (明察暗访): sites, checklists, campaigns with a verifiable draw, visits, review, exports and statistics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// `GET /api/v1/openapi.json`: the document collected from the handlers at start-up.
pub async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}
