//! Lists of cases: pages by filter and cursor, and the map's GeoJSON.

use crate::auth::Caller;
use crate::domain::{CaseStatus, Crs};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::Query;
use crate::routes::pagination;
use crate::services::reports::{self as service, CaseCursor, CaseFilter, CaseSort};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use json::{CaseJson, EventJson, ListReportsQuery};

use entity::ids::CaseId;

use super::*;

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
    filter.bbox = query
        .bbox
        .as_deref()
        .and_then(|raw| errors.check("bbox", crate::routes::location::parse_bbox(raw, crs)));
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
pub(super) async fn list_reports(
    state: web::Data<AppState>,
    user: Caller,
    query: Query<ListReportsQuery>,
) -> Result<web::Json<pagination::Page<serde_json::Value>>, ApiError> {
    let mut errors = FieldErrors::default();
    let fields = crate::routes::fields::parse::<CaseJson>(query.fields.as_deref(), &mut errors);
    errors.finish()?;
    let (filter, crs) = parse_filter(&query)?;
    let (rows, next) = service::list(&state, &user, &filter).await?;
    let cases = super::case_jsons(&state, rows, crs).await?;
    Ok(web::Json(pagination::Page {
        items: fields.apply(cases),
        next_cursor: next.map(encode_cursor),
    }))
}

/// The same list as a GeoJSON FeatureCollection of points, for maps.
#[utoipa::path(tag = "reports", params(ListReportsQuery),
    responses((status = 200, content_type = "application/geo+json")), security(("bearer" = [])))]
#[get("/reports.geojson")]
pub(super) async fn reports_geojson(
    state: web::Data<AppState>,
    user: Caller,
    query: Query<ListReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, crs) = parse_filter(&query)?;
    let (rows, next) = service::list(&state, &user, &filter).await?;
    let features: Vec<serde_json::Value> = super::case_jsons(&state, rows, crs)
        .await?
        .into_iter()
        .map(|case| {
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
pub(super) async fn get_report(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<CaseId>,
    query: Query<CrsQuery>,
) -> Result<web::Json<CaseJson>, ApiError> {
    let crs = parse_crs(query.crs.as_deref()).map_err(|p| Error::invalid_field("crs", p))?;
    let case = service::visible_case(&state, &user, *id).await?;
    let history = service::history(&state, case.id).await?;
    let recurrences = service::recurrences_of(&state, &user, case.id).await?;
    let mut body = case_json(&state, case, crs).await?;
    body.events = Some(history.into_iter().map(EventJson::from).collect());
    body.recurrences = Some(recurrences.into_iter().map(|c| c.id).collect());
    Ok(web::Json(body))
}
