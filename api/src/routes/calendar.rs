//! `/api/v1/calendar`: the working calendar admins keep (holidays, 调休 make-up days).

use actix_web::{HttpResponse, delete, get, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, Caller, needs};
use crate::domain::calendar::DayKind;
use crate::error::{ApiError, Error, Msg};
use crate::routes::departments::parse_label;
use crate::routes::extract::{Json, Query};
use crate::routes::pagination;
use crate::services::calendar as service;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_days).service(set_day).service(clear_day);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDayJson {
    pub day: NaiveDate,
    /// `holiday` (a weekday off) or `workday` (a weekend day worked, 调休).
    pub kind: crate::domain::calendar::DayKind,
    pub name: String,
}

impl From<entity::calendar_days::Model> for CalendarDayJson {
    fn from(d: entity::calendar_days::Model) -> Self {
        Self {
            day: d.day,
            kind: d.kind,
            name: d.name,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayRequest {
    pub kind: DayKind,
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// First day (YYYY-MM-DD).
    pub from: NaiveDate,
    /// Last day (YYYY-MM-DD), at most 2 years after `from`.
    pub to: NaiveDate,
}

/// The days between `from` and `to` that differ from their weekday.
#[utoipa::path(tag = "calendar", params(CalendarQuery), responses((status = 200, body = pagination::Page<CalendarDayJson>), (status = 422)), security(("bearer" = [])))]
#[get("/calendar")]
async fn list_days(
    state: web::Data<AppState>,
    _user: Caller,
    query: Query<CalendarQuery>,
) -> Result<web::Json<pagination::Page<CalendarDayJson>>, ApiError> {
    if query.to < query.from || (query.to - query.from).num_days() > 731 {
        return Err(Error::invalid_field(
            "to",
            Msg::fixed(
                "from 0 to 731 days after from",
                "须在 from 之后 0 到 731 天内",
            ),
        )
        .into());
    }
    let rows = service::days_between(&state, query.from, query.to).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Mark a day as a holiday or a make-up working day (admins).
#[utoipa::path(tag = "calendar", params(("day" = NaiveDate, Path)), request_body = CalendarDayRequest, responses((status = 200, body = CalendarDayJson), (status = 422)), security(("bearer" = [])))]
#[put("/calendar/{day}")]
async fn set_day(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    day: web::Path<NaiveDate>,
    body: Json<CalendarDayRequest>,
) -> Result<web::Json<CalendarDayJson>, ApiError> {
    let body = body.into_inner();
    let name = parse_label(&body.name, 50).map_err(|p| Error::invalid_field("name", p))?;
    Ok(web::Json(
        service::set_day(&state, *day, body.kind, name)
            .await?
            .into(),
    ))
}

/// Let a day be what its weekday says again (admins).
#[utoipa::path(tag = "calendar", params(("day" = NaiveDate, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/calendar/{day}")]
async fn clear_day(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    day: web::Path<NaiveDate>,
) -> Result<HttpResponse, ApiError> {
    service::clear_day(&state, *day).await?;
    Ok(HttpResponse::NoContent().finish())
}
