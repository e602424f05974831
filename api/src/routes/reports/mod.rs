//! `/api/v1/reports`: filing, nearby check, lists (JSON and GeoJSON), one case, photos.

pub mod json;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, Token, needs};
use crate::domain::{Crs, GeoPoint, PhotoKind, Severity};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::{Json, Query};
use crate::routes::pagination;
use crate::services::reports::{self as service, Filed, NewReport};
use crate::state::AppState;
use json::{CaseJson, FileReportRequest, NearbyCaseJson, NearbyQuery};

mod case_actions;
pub use case_actions::*;

mod listing;
pub use listing::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(file_report)
        .service(file_report_with_photos)
        .service(nearby)
        .service(list_reports)
        .service(reports_geojson)
        .service(get_report)
        .service(report_events)
        .service(upload_photos)
        .service(act_on_report);
}

/// Fields only the server sets.
const SERVER_SET: [&str; 8] = [
    "id",
    "status",
    "assignee",
    "reporter_id",
    "case_no",
    "source",
    "version",
    "deadline_at",
];

fn required<T>() -> Result<T, Msg> {
    Err(Msg::fixed("required", "必填"))
}

fn parse_crs(raw: Option<&str>) -> Result<Crs, Msg> {
    match raw {
        None | Some("wgs84") => Ok(Crs::Wgs84),
        Some("gcj02") => Ok(Crs::Gcj02),
        Some("bd09") => Ok(Crs::Bd09),
        Some(_) => Err(Msg::fixed(
            "one of wgs84, gcj02, bd09",
            "须为 wgs84、gcj02 或 bd09",
        )),
    }
}

fn parse_time(raw: &str) -> Result<DateTime<Utc>, Msg> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Msg::fixed(
                "an RFC 3339 time, e.g. 2026-11-22T08:30:00Z",
                "须为 RFC 3339 时间，如 2026-11-22T08:30:00Z",
            )
        })
}

fn parse_uuid<Id: std::str::FromStr>(raw: &str) -> Result<Id, Msg> {
    raw.parse().map_err(|_| Msg::fixed("a UUID", "须为 UUID"))
}

fn parse_text(raw: Option<&str>, max_chars: usize) -> Result<String, Msg> {
    crate::domain::text::free_text(raw.unwrap_or(""), max_chars)
}

fn parse_filing(body: FileReportRequest) -> Result<NewReport, ApiError> {
    let mut errors = FieldErrors::default();
    for field in body.unexpected.keys() {
        let problem = if SERVER_SET.contains(&field.as_str()) {
            Msg::fixed(
                "set by the server, not by the filer",
                "由服务器设置，上报时不可填写",
            )
        } else {
            Msg::fixed("unknown field", "未知字段")
        };
        errors.add(field, problem);
    }
    let client_id = errors.check(
        "client_id",
        body.client_id.as_deref().map_or_else(required, parse_uuid),
    );
    let category = errors.check(
        "category",
        body.category
            .as_deref()
            .map_or_else(required, crate::domain::case::parse_category_code),
    );
    let description = errors.check("description", parse_text(body.description.as_deref(), 2000));
    let address = errors.check("address", parse_text(body.address.as_deref(), 500));
    let observed_at = errors.check(
        "observed_at",
        body.observed_at
            .as_deref()
            .map_or_else(required, parse_time)
            .and_then(|t| {
                let now = Utc::now();
                if t > now + Duration::minutes(10) {
                    Err(Msg::fixed("is in the future", "不能晚于当前时间"))
                } else if t < now - Duration::days(30) {
                    Err(Msg::fixed("is more than 30 days ago", "不能早于 30 天前"))
                } else {
                    Ok(t)
                }
            }),
    );
    let severity = errors.check(
        "severity",
        match body.severity.as_deref() {
            None => Ok(Severity::Normal),
            Some(raw) => Severity::parse(raw).ok_or_else(|| {
                Msg::fixed(
                    "one of low, normal, high, urgent",
                    "须为 low、normal、high 或 urgent",
                )
            }),
        },
    );
    let mut location = None;
    match body.location {
        None => errors.add("location", Msg::fixed("required", "必填")),
        Some(input) => {
            let crs = errors.check("location.crs", parse_crs(input.crs.as_deref()));
            let lat = errors.check("location.lat", input.lat.map_or_else(required, Ok));
            let lon = errors.check("location.lon", input.lon.map_or_else(required, Ok));
            let accuracy = errors.check(
                "location.accuracy_m",
                match input.accuracy_m {
                    Some(a) if !(0.0..=10_000.0).contains(&a) || !a.is_finite() => Err(Msg::fixed(
                        "from 0 to 10000 metres",
                        "须在 0 到 10000 米之间",
                    )),
                    other => Ok(other),
                },
            );
            if let (Some(crs), Some(lat), Some(lon), Some(accuracy)) = (crs, lat, lon, accuracy) {
                match GeoPoint::from_crs(lat, lon, crs) {
                    Ok(point) => location = Some((point, lat, lon, accuracy)),
                    Err(problem) => errors.add("location", problem),
                }
            }
        }
    }
    match (
        client_id,
        category,
        description,
        address,
        observed_at,
        severity,
        location,
    ) {
        (
            Some(client_id),
            Some(category),
            Some(description),
            Some(address),
            Some(observed_at),
            Some(severity),
            Some((point, lat, lon, accuracy_m)),
        ) if errors.is_empty() => Ok(NewReport {
            client_id,
            category,
            description,
            point,
            lat,
            lon,
            accuracy_m,
            address,
            observed_at,
            severity,
        }),
        _ => Err(Error::invalid(errors).into()),
    }
}

async fn case_json(
    state: &AppState,
    case: entity::cases::Model,
    crs: Crs,
) -> Result<CaseJson, ApiError> {
    case_jsons(state, vec![case], crs)
        .await?
        .pop()
        .ok_or_else(|| Error::internal("no details").into())
}

/// Cases as the API shows them, their photos and assignees read for all at once.
pub(crate) async fn case_jsons(
    state: &AppState,
    cases: Vec<entity::cases::Model>,
    crs: Crs,
) -> Result<Vec<CaseJson>, ApiError> {
    let details = service::details_for(state, &cases).await?;
    Ok(cases
        .into_iter()
        .zip(details)
        .map(|(case, details)| CaseJson::new(case, details, crs))
        .collect())
}

/// File a report (inspectors, supervisors).
///
/// Idempotent on `client_id`: the first filing answers 201, a retry with the same payload
/// 200 with the same case, the same `client_id` with a different payload 409.
#[utoipa::path(
    tag = "reports",
    request_body = FileReportRequest,
    responses(
        (status = 201, body = CaseJson),
        (status = 200, body = CaseJson, description = "a retry of an earlier filing"),
        (status = 409, description = "client_id_conflict"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = []))
)]
#[post("/reports")]
async fn file_report(
    state: web::Data<AppState>,
    Token(signed_in): Token,
    body: Json<FileReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = parse_filing(body.into_inner())?;
    // The account and its role are checked in the filing's first statement.
    let (case, created) = match service::file(&state, &signed_in, new).await? {
        Filed::Created(case) => (case, true),
        Filed::Existing(case) => (case, false),
    };
    let location = format!("/api/v1/reports/{}", case.id);
    let body = if created {
        // A case filed just now has no photos yet, and the registry snapshot it was
        // placed with names its assignee: nothing to read back.
        let details = service::CaseDetails {
            photos: Vec::new(),
            assignee_name: state.registry.latest().assignee_name(&case),
        };
        CaseJson::new(case, details, Crs::Wgs84)
    } else {
        case_json(&state, case, Crs::Wgs84).await?
    };
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::LOCATION, location))
        .json(body))
}

/// File a report with its "before" photos in one request (multipart/form-data): a `report`
/// field holding what `POST /reports` takes as JSON, optionally `taken_at`, then the
/// files. The case reaches its assignee with its evidence. Sent again (the same
/// `client_id`), it answers the same case and adds the photos that did not arrive; if the
/// photos are refused, the case stays filed and the answer is the photos' error.
#[utoipa::path(
    tag = "reports",
    request_body(content_type = "multipart/form-data", description = "report (the JSON of POST /reports), taken_at (RFC 3339, optional), then the photo files"),
    responses(
        (status = 201, body = CaseJson),
        (status = 200, body = CaseJson, description = "a retry of an earlier filing"),
        (status = 409, description = "client_id_conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 415, description = "unsupported_media_type"),
        (status = 422, description = "validation_failed, invalid_image, image_too_large, photo_limit_reached"),
        (status = 503, description = "storage_unavailable, server_busy"),
    ),
    security(("bearer" = []))
)]
#[post("/reports/with-photos")]
async fn file_report_with_photos(
    state: web::Data<AppState>,
    _: Allowed<needs::FileReports>,
    Token(signed_in): Token,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = crate::routes::uploads::PhotoForm::open(form).await?;
    let Some(report) = form.report.as_deref() else {
        return Err(Error::invalid_field(
            "report",
            Msg::fixed(
                "required: the report's JSON, before the files",
                "必填：报告的 JSON，放在文件之前",
            ),
        )
        .into());
    };
    let new = parse_filing(crate::routes::extract::parse(report)?)?;
    let (case, created) = match service::file(&state, &signed_in, new).await? {
        Filed::Created(case) => (case, true),
        Filed::Existing(case) => (case, false),
    };
    let user = crate::auth::CurrentUser::load(&state.db, &signed_in).await?;
    let owner =
        crate::services::photos::case_owner(&state, &user, case.id, PhotoKind::Before).await?;
    let taken_at = form.taken_at;
    let uploads = form.files(&state, user.id, &req).await?;
    crate::services::photos::add_to(
        &state,
        &user,
        owner,
        PhotoKind::Before,
        &uploads.files,
        taken_at,
    )
    .await?;
    let location = format!("/api/v1/reports/{}", case.id);
    let case = service::visible_case(&state, &user, case.id).await?;
    let body = case_json(&state, case, Crs::Wgs84).await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::LOCATION, location))
        .json(body))
}

/// Open cases of a category near a point, nearest first, so a problem is not filed twice:
/// across the whole city (a filer's scope does not end where a problem might already be
/// filed), so each answers only where and what it is.
#[utoipa::path(tag = "reports", params(NearbyQuery),
    responses((status = 200, body = pagination::Page<NearbyCaseJson>), (status = 403), (status = 422)), security(("bearer" = [])))]
#[get("/reports/nearby")]
async fn nearby(
    state: web::Data<AppState>,
    user: Allowed<needs::FileReports>,
    query: Query<NearbyQuery>,
) -> Result<web::Json<pagination::Page<NearbyCaseJson>>, ApiError> {
    let mut errors = FieldErrors::default();
    let crs = errors.check("crs", parse_crs(query.crs.as_deref()));
    let lat = errors.check("lat", query.lat.map_or_else(required, Ok));
    let lon = errors.check("lon", query.lon.map_or_else(required, Ok));
    let category = errors.check(
        "category",
        query
            .category
            .as_deref()
            .map_or_else(required, crate::domain::case::parse_category_code),
    );
    let radius = errors.check(
        "radius_m",
        match query.radius_m {
            None => Ok(100.0),
            Some(r) if (1.0..=1000.0).contains(&r) => Ok(r),
            Some(_) => Err(Msg::fixed("from 1 to 1000 metres", "须在 1 到 1000 米之间")),
        },
    );
    let (Some(crs), Some(lat), Some(lon), Some(category), Some(radius)) =
        (crs, lat, lon, category, radius)
    else {
        return Err(Error::invalid(errors).into());
    };
    let point = GeoPoint::from_crs(lat, lon, crs).map_err(|p| Error::invalid_field("lat", p))?;
    let items = service::nearby(&state, &user, point, &category, radius)
        .await?
        .into_iter()
        .map(|(case, distance_m)| NearbyCaseJson::new(case, distance_m, crs))
        .collect();
    Ok(web::Json(pagination::Page::whole(items)))
}
