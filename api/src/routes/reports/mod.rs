//! `/api/v1/reports`: filing, nearby check, lists (JSON and GeoJSON), one case, photos.

pub mod json;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Caller, Token};
use crate::domain::{CaseStatus, Crs, GeoPoint, PhotoKind, Severity};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::Json;
use crate::routes::pagination;
use crate::routes::uploads::PhotoForm;
use crate::services::photos as photo_service;
use crate::services::reports::{
    self as service, CaseCursor, CaseFilter, CaseSort, Filed, NewReport,
};
use crate::state::AppState;
use json::{
    CaseJson, EventJson, FileReportRequest, ListReportsQuery, NearbyCaseJson, NearbyQuery,
    PhotoJson, PhotoUploadQuery, PhotoUploadResponse,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(file_report)
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

fn parse_uuid(raw: &str) -> Result<Uuid, Msg> {
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
    let details = service::details_for(state, std::slice::from_ref(&case)).await?;
    let details = details
        .into_iter()
        .next()
        .ok_or_else(|| Error::internal("no details"))?;
    Ok(CaseJson::new(case, details, crs))
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

/// Open cases of a category near a point, nearest first, so a problem is not filed twice.
#[utoipa::path(tag = "reports", params(NearbyQuery),
    responses((status = 200, body = pagination::Page<NearbyCaseJson>), (status = 422)), security(("bearer" = [])))]
#[get("/reports/nearby")]
async fn nearby(
    state: web::Data<AppState>,
    user: Caller,
    query: web::Query<NearbyQuery>,
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
    let found = service::nearby(&state, &user, point, &category, radius).await?;
    let (cases, distances): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let details = service::details_for(&state, &cases).await?;
    let items = cases
        .into_iter()
        .zip(details)
        .zip(distances)
        .map(|((case, details), distance_m)| NearbyCaseJson {
            distance_m: (distance_m * 10.0).round() / 10.0,
            case: CaseJson::new(case, details, crs),
        })
        .collect();
    Ok(web::Json(pagination::Page::whole(items)))
}

fn encode_cursor(cursor: CaseCursor) -> String {
    let key = cursor
        .key
        .map_or_else(|| "-".to_owned(), |k| k.timestamp_millis().to_string());
    URL_SAFE_NO_PAD.encode(format!("{key}:{}", cursor.id))
}

fn decode_cursor(raw: &str) -> Result<CaseCursor, Msg> {
    let bad = || Msg::fixed("not a cursor this API gave out", "无效的分页游标");
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (key, id) = text.split_once(':').ok_or_else(bad)?;
    let key = match key {
        "-" => None,
        millis => Some(
            millis
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_millis)
                .ok_or_else(bad)?,
        ),
    };
    Ok(CaseCursor {
        key,
        id: id.parse().map_err(|_| bad())?,
    })
}

/// Parses the list filters; `crs` also applies to `bbox`.
fn parse_filter(query: &ListReportsQuery) -> Result<(CaseFilter, Crs), ApiError> {
    let mut errors = FieldErrors::default();
    let crs = errors
        .check("crs", parse_crs(query.crs.as_deref()))
        .unwrap_or_default();
    let mut filter = CaseFilter::default();
    if let Some(raw) = query.status.as_deref() {
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match CaseStatus::parse(part) {
                Some(status) => filter.statuses.push(status),
                None => errors.add(
                    "status",
                    Msg::new(format!("unknown status {part}"), format!("未知状态 {part}")),
                ),
            }
        }
    }
    filter.category = query
        .category
        .as_deref()
        .and_then(|c| errors.check("category", crate::domain::case::parse_category_code(c)));
    filter.area_id = query
        .area_id
        .as_deref()
        .and_then(|v| errors.check("area_id", parse_uuid(v)));
    filter.assignee_id = query
        .assignee_id
        .as_deref()
        .and_then(|v| errors.check("assignee_id", parse_uuid(v)));
    filter.reporter_id = query
        .reporter_id
        .as_deref()
        .and_then(|v| errors.check("reporter_id", parse_uuid(v)));
    filter.overdue = query.overdue.as_deref().and_then(|v| {
        errors.check(
            "overdue",
            match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Msg::fixed("true or false", "须为 true 或 false")),
            },
        )
    });
    filter.bbox = query.bbox.as_deref().and_then(|raw| {
        let numbers: Vec<f64> = raw
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        let parsed = match numbers[..] {
            [min_lon, min_lat, max_lon, max_lat] if min_lon <= max_lon && min_lat <= max_lat => {
                GeoPoint::from_crs(min_lat, min_lon, crs)
                    .and_then(|sw| GeoPoint::from_crs(max_lat, max_lon, crs).map(|ne| (sw, ne)))
                    .map(|(sw, ne)| (sw.lon(), sw.lat(), ne.lon(), ne.lat()))
            }
            _ => Err(Msg::fixed(
                "min_lon,min_lat,max_lon,max_lat",
                "格式：最小经度,最小纬度,最大经度,最大纬度",
            )),
        };
        errors.check("bbox", parsed)
    });
    filter.created_from = query
        .created_from
        .as_deref()
        .and_then(|v| errors.check("created_from", parse_time(v)));
    filter.created_to = query
        .created_to
        .as_deref()
        .and_then(|v| errors.check("created_to", parse_time(v)));
    filter.updated_since = query
        .updated_since
        .as_deref()
        .and_then(|v| errors.check("updated_since", parse_time(v)));
    filter.sort = errors
        .check(
            "sort",
            match query.sort.as_deref() {
                None | Some("created") => Ok(CaseSort::Created),
                Some("deadline") => Ok(CaseSort::Deadline),
                Some("updated") => Ok(CaseSort::Updated),
                Some(_) => Err(Msg::fixed(
                    "created, deadline or updated",
                    "须为 created、deadline 或 updated",
                )),
            },
        )
        .unwrap_or_default();
    let limit = match query.limit.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    "limit",
                    Msg::fixed("must be from 1 to 200", "须在 1 到 200 之间"),
                );
                None
            }
        },
    };
    filter.limit = pagination::parse_limit(limit, &mut errors);
    filter.after = query
        .cursor
        .as_deref()
        .and_then(|c| errors.check("cursor", decode_cursor(c)));
    errors.finish()?;
    Ok((filter, crs))
}

/// Cases the caller may see, filtered, a page at a time.
#[utoipa::path(tag = "reports", params(ListReportsQuery),
    responses((status = 200, body = pagination::Page<CaseJson>), (status = 422)), security(("bearer" = [])))]
#[get("/reports")]
async fn list_reports(
    state: web::Data<AppState>,
    user: Caller,
    query: web::Query<ListReportsQuery>,
) -> Result<web::Json<pagination::Page<CaseJson>>, ApiError> {
    let (filter, crs) = parse_filter(&query)?;
    let (rows, next) = service::list(&state, &user, &filter).await?;
    let details = service::details_for(&state, &rows).await?;
    Ok(web::Json(pagination::Page {
        items: rows
            .into_iter()
            .zip(details)
            .map(|(c, d)| CaseJson::new(c, d, crs))
            .collect(),
        next_cursor: next.map(encode_cursor),
    }))
}

/// The same list as a GeoJSON FeatureCollection of points, for maps.
#[utoipa::path(tag = "reports", params(ListReportsQuery),
    responses((status = 200, content_type = "application/geo+json")), security(("bearer" = [])))]
#[get("/reports.geojson")]
async fn reports_geojson(
    state: web::Data<AppState>,
    user: Caller,
    query: web::Query<ListReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, crs) = parse_filter(&query)?;
    let (rows, next) = service::list(&state, &user, &filter).await?;
    let details = service::details_for(&state, &rows).await?;
    let features: Vec<serde_json::Value> = rows
        .into_iter()
        .zip(details)
        .map(|(case, details)| {
            let case = CaseJson::new(case, details, crs);
            serde_json::json!({
                "type": "Feature",
                "id": case.id,
                "geometry": {"type": "Point", "coordinates": [case.location.lon, case.location.lat]},
                "properties": {
                    "case_no": case.case_no,
                    "status": case.status,
                    "category": case.category,
                    "severity": case.severity,
                    "address": case.address,
                    "assignee": case.assignee.as_ref().map(|a| &a.name),
                    "deadline_at": case.deadline_at,
                    "overdue": case.overdue,
                    "created_at": case.created_at,
                    "thumbnail_url": case.photos.first().map(|p| &p.thumbnail_url),
                },
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .json(serde_json::json!({
            "type": "FeatureCollection",
            "features": features,
            "next_cursor": next.map(encode_cursor),
        })))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CrsQuery {
    /// `wgs84` (default) or `gcj02`.
    pub crs: Option<String>,
}

/// One case with its photos (and their flags), assignment and history.
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), CrsQuery),
    responses((status = 200, body = CaseJson), (status = 404)), security(("bearer" = [])))]
#[get("/reports/{id}")]
async fn get_report(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CrsQuery>,
) -> Result<web::Json<CaseJson>, ApiError> {
    let crs = parse_crs(query.crs.as_deref()).map_err(|p| Error::invalid_field("crs", p))?;
    let case = service::visible_case(&state, &user, *id).await?;
    let history = service::history(&state, case.id).await?;
    let recurrences = service::recurrences_of(&state, case.id).await?;
    let mut body = case_json(&state, case, crs).await?;
    body.events = Some(history.into_iter().map(EventJson::from).collect());
    body.recurrences = Some(recurrences.into_iter().map(|c| c.id).collect());
    Ok(web::Json(body))
}

/// An action on a case. `version` is the case version the caller saw (or send it as
/// `If-Match`); a stale one is refused with 409 `version_conflict`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub version: Option<i32>,
    /// Required for dispute, reject, cancel, reopen and duplicate.
    pub note: Option<String>,
    /// After photos for `rectify`, verification photos for `verify`.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// For `assign`: exactly one of these.
    pub department_id: Option<Uuid>,
    pub shopfront_id: Option<Uuid>,
    /// For `duplicate`: the original case.
    pub duplicate_of: Option<Uuid>,
    /// For `request-extension`: the deadline asked for (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// For `decide-extension` and `decide-suspension`.
    pub grant: Option<bool>,
}

fn version_from(body: Option<i32>, req: &actix_web::HttpRequest) -> Result<i32, ApiError> {
    let header = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        });
    let from_header = match header {
        Some(raw) => Some(raw.parse::<i32>().map_err(|_| {
            Error::invalid_field(
                "If-Match",
                Msg::fixed("the case version, a number", "须为案件版本号"),
            )
        })?),
        None => None,
    };
    match (body, from_header) {
        (Some(a), Some(b)) if a != b => Err(Error::invalid_field(
            "version",
            Msg::fixed("body and If-Match disagree", "请求体与 If-Match 不一致"),
        )
        .into()),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(Error::invalid_field(
            "version",
            Msg::fixed("required (or send If-Match)", "必填（或使用 If-Match）"),
        )
        .into()),
    }
}

/// Take an action on a case: assign, accept, dispute, rectify, verify, reject, cancel,
/// reopen or duplicate. Who may do which, from which status, follows the life cycle; any
/// other is 409 `invalid_transition` (403 for a role that may not, 404 for a case one
/// cannot see).
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), ("action" = crate::domain::Action, Path)), request_body = ActionRequest,
    responses((status = 200, body = CaseJson), (status = 403), (status = 404), (status = 409, description = "version_conflict, invalid_transition"), (status = 422)),
    security(("bearer" = [])))]
#[post("/reports/{id}/{action}")]
async fn act_on_report(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, String)>,
    req: actix_web::HttpRequest,
    body: Json<ActionRequest>,
) -> Result<web::Json<CaseJson>, ApiError> {
    let (id, action) = path.into_inner();
    let action = crate::domain::Action::parse(&action).ok_or_else(Error::not_found)?;
    let body = body.into_inner();
    let version = version_from(body.version, &req)?;
    let note =
        parse_text(body.note.as_deref(), 1000).map_err(|p| Error::invalid_field("note", p))?;
    let input = crate::services::workflow::ActionInput {
        version,
        note: Some(note).filter(|n| !n.is_empty()),
        photo_ids: body.photo_ids,
        department_id: body.department_id,
        shopfront_id: body.shopfront_id,
        duplicate_of: body.duplicate_of,
        until: body.until,
        grant: body.grant,
    };
    let case = crate::services::workflow::act(&state, &user, id, action, input).await?;
    Ok(web::Json(case_json(&state, case, Crs::Wgs84).await?))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventsResponse {
    pub items: Vec<EventJson>,
    /// Whether every event's hash matches its content and the previous event's hash.
    pub chain_intact: bool,
    /// The first event whose hash or link does not match.
    pub broken_at_seq: Option<i32>,
}

/// A case's history, oldest first, with a check of its hash chain.
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path)), responses((status = 200, body = EventsResponse), (status = 404)), security(("bearer" = [])))]
#[get("/reports/{id}/events")]
async fn report_events(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<EventsResponse>, ApiError> {
    let case = service::visible_case(&state, &user, *id).await?;
    let history = service::history(&state, case.id).await?;
    let broken_at_seq = crate::services::events::first_broken_link(&history);
    Ok(web::Json(EventsResponse {
        chain_intact: broken_at_seq.is_none(),
        broken_at_seq,
        items: history.into_iter().map(EventJson::from).collect(),
    }))
}

/// Add photos to a case (multipart/form-data: one or more files, and `kind`).
///
/// JPEG, PNG and WebP, told from the bytes; 20 MiB and 40 megapixels at most a file; 9
/// photos of a kind per case. The kind goes in the query or in a form field before the
/// files: who may add which photo is checked before any file is read. The same bytes
/// posted again are the photo already stored (200 instead of 201).
#[utoipa::path(tag = "reports", params(("id" = Uuid, Path), PhotoUploadQuery),
    request_body(content_type = "multipart/form-data", description = "kind = before | after | verification, then the files"),
    responses(
        (status = 201, body = PhotoUploadResponse),
        (status = 200, body = PhotoUploadResponse),
        (status = 408, description = "request_timeout"),
        (status = 413, description = "payload_too_large"),
        (status = 415, description = "unsupported_media_type"),
        (status = 422, description = "invalid_image, image_too_large, photo_limit_reached"),
        (status = 503, description = "storage_unavailable, server_busy"),
    ),
    security(("bearer" = [])))]
#[post("/reports/{id}/photos")]
async fn upload_photos(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PhotoUploadQuery>,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form = PhotoForm::open(form).await?;
    let kind_raw = match (query.kind.as_deref(), form.kind.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid_field(
                "kind",
                Msg::fixed("query and form disagree", "查询参数与表单不一致"),
            )
            .into());
        }
        (Some(k), _) | (None, Some(k)) => k.to_owned(),
        (None, None) => {
            return Err(Error::invalid_field(
                "kind",
                Msg::fixed(
                    "required, in the query or before the files",
                    "必填，放在查询参数中或文件之前",
                ),
            )
            .into());
        }
    };
    let kind = PhotoKind::parse(&kind_raw).ok_or_else(|| {
        Error::invalid_field(
            "kind",
            Msg::fixed(
                "one of before, after, verification",
                "须为 before、after 或 verification",
            ),
        )
    })?;
    let owner = photo_service::case_owner(&state, &user, *id, kind).await?;
    let uploads = form.files(&state, user.id, &req).await?;
    let (photos, created) =
        photo_service::add_to(&state, &user, owner, kind, &uploads.files).await?;
    let body = PhotoUploadResponse {
        items: photos.into_iter().map(PhotoJson::from).collect(),
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
