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
    components(schemas(
        ErrorResponse,
        ErrorDetail,
        ErrorRow,
        crate::storage::Rendition,
        crate::domain::Action
    )),
    tags(
        (name = "auth", description = "Sign-in, tokens and the signed-in user"),
        (name = "users", description = "User administration"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "push", description = "Web Push to the signed-in user's devices (推送): the server's VAPID key and each device's subscription"),
        (name = "open311", description = "API keys for Open311 client apps (the GeoReport v2 endpoint itself is at /open311/v2/, see docs/open311.md)"),
        (name = "inspections", description = "Unannounced inspections (明察暗访): sites, checklists, campaigns with a verifiable draw, visits, review, exports and statistics"),
    )
)]
pub struct ApiDoc;

/// The error document every failure is (documentation only: `ApiError::render` writes it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// Stable, snake_case; see docs/api.md.
    code: String,
    /// English, or Chinese for `Accept-Language: zh`.
    message: String,
    /// Field → problem, for `validation_failed`.
    fields: Option<std::collections::BTreeMap<String, String>>,
    /// Row → problem, for `invalid_import`.
    rows: Option<Vec<ErrorRow>>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorRow {
    row: u64,
    field: String,
    message: String,
}

/// Every operation may answer these, in the error document: bad requests and bodies,
/// sign-in, role, existence, conflicts, limits, and the database or store being down.
const STANDARD_ERRORS: [(&str, &str); 11] = [
    ("400", "bad request: unreadable JSON, query or path"),
    ("401", "not signed in"),
    ("403", "the role may not do this"),
    ("404", "no such resource, or not visible to the caller"),
    ("409", "conflict: version, duplicate or state"),
    ("413", "body too large"),
    ("415", "unsupported content type"),
    ("422", "invalid fields or rows"),
    ("429", "too many requests"),
    ("500", "a bug; the request id finds it in the log"),
    ("503", "database or storage unavailable"),
];

/// Runs once the routes are collected (`startup`): the derive's modifiers run before.
pub struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        for item in openapi.paths.paths.values_mut() {
            let writes = [
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for write in writes.into_iter().flatten() {
                if write.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    write
                        .parameters
                        .get_or_insert_with(Vec::new)
                        .push(idempotency_key_parameter());
                }
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in STANDARD_ERRORS {
                    let documented = operation.responses.responses.get(status);
                    let has_body = matches!(documented, Some(RefOr::T(r)) if !r.content.is_empty());
                    if has_body {
                        continue;
                    }
                    let description = match documented {
                        Some(RefOr::T(r)) if !r.description.is_empty() => r.description.clone(),
                        _ => description.to_owned(),
                    };
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorResponse")))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), RefOr::T(response));
                }
            }
        }
    }
}

/// `Idempotency-Key` (`crate::idempotency`), optional on every signed-in write.
fn idempotency_key_parameter() -> utoipa::openapi::RefOr<utoipa::openapi::path::Parameter> {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    utoipa::openapi::RefOr::T(
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Sent again with the same request, gets the first answer again (24 h); see docs/mobile.md.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(crate::services::idempotency::MAX_KEY_CHARS))
                    .pattern(Some("^[!#-\\[\\]-~]+$")),
            ))
            .build(),
    )
}

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
