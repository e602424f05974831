//! A campaign's results: the review, the bulletin's workbook and tables, and the statistics
//! of any period.

use crate::auth::{Allowed, needs};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::Query;
use crate::services::inspections::summary::{self, Summary};
use crate::services::inspections::{export, stats};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use entity::ids::{CampaignId, DepartmentId};

use super::*;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// An earlier campaign to compare with.
    pub compare_to: Option<CampaignId>,
}

/// The campaign review (supervisors and admins): score per site, mean and ranking per
/// area and department, problems per category, progress of the cases it filed, and a
/// comparison with an earlier campaign.
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), SummaryQuery), responses((status = 200, body = Summary), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/summary")]
pub(super) async fn campaign_summary(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<CampaignId>,
    query: Query<SummaryQuery>,
) -> Result<web::Json<Summary>, ApiError> {
    if query.compare_to == Some(*id) {
        return Err(Error::invalid_field(
            "compare_to",
            Msg::fixed(
                "compare with another campaign",
                "请选择另一次检查活动进行对比",
            ),
        )
        .into());
    }
    Ok(web::Json(
        summary::summary(&state, &user, *id, query.compare_to).await?,
    ))
}

fn attachment(content_type: &str, filename: String, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            header::ContentDisposition {
                disposition: header::DispositionType::Attachment,
                parameters: vec![header::DispositionParam::FilenameExt(
                    header::ExtendedValue {
                        charset: header::Charset::Ext("UTF-8".to_owned()),
                        language_tag: None,
                        value: filename.into_bytes(),
                    },
                )],
            },
        ))
        .body(bytes)
}

/// The bulletin workbook (supervisors and admins): 排名通报 (rankings and problems by
/// category), 点位得分 (every site) and 案件清单 (every case and its status).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "XLSX"), (status = 404)), security(("bearer" = [])))]
#[get("/campaigns/{id}/export.xlsx")]
pub(super) async fn export_xlsx(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let summary = summary::summary(&state, &user, *id, None).await?;
    let cases = export::cases_table(
        &state,
        *id,
        &crate::services::scope::case_scope(&state, &user).await?,
    )
    .await?;
    let bytes = export::to_xlsx(&summary, &cases)?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{}.xlsx", summary.name),
        bytes,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// `sites` (default), `areas`, `departments`, `categories` or `cases`.
    pub table: Option<String>,
}

/// One table of the bulletin as CSV (UTF-8 with BOM, Chinese headers).
#[utoipa::path(tag = "inspections", params(("id" = Uuid, Path), CsvQuery),
    responses((status = 200, content_type = "text/csv", description = "CSV"), (status = 404), (status = 422)), security(("bearer" = [])))]
#[get("/campaigns/{id}/export.csv")]
pub(super) async fn export_csv(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    id: web::Path<CampaignId>,
    query: Query<CsvQuery>,
) -> Result<HttpResponse, ApiError> {
    let summary = summary::summary(&state, &user, *id, None).await?;
    let name = query.table.as_deref().unwrap_or("sites");
    let table = match name {
        "sites" => export::sites_table(&summary),
        "areas" => export::ranking_table(&summary.areas, "区域"),
        "departments" => export::ranking_table(&summary.departments, "责任单位"),
        "categories" => export::categories_table(&summary),
        "cases" => {
            export::cases_table(
                &state,
                *id,
                &crate::services::scope::case_scope(&state, &user).await?,
            )
            .await?
        }
        _ => {
            return Err(Error::invalid_field(
                "table",
                Msg::fixed(
                    "sites, areas, departments, categories or cases",
                    "须为 sites、areas、departments、categories 或 cases",
                ),
            )
            .into());
        }
    };
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("{}-{name}.csv", summary.name),
        export::to_csv(&table)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First day (city time), `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// Cases in this area and below.
    pub area_id: Option<Uuid>,
    /// Cases this department answers for (its own and its shopfronts').
    pub department_id: Option<DepartmentId>,
    pub category: Option<String>,
    /// `area` (default), `department` or `category`.
    pub group_by: Option<String>,
    /// With `group_by=area`: `district` (default), `subdistrict`, `community` or `grid`.
    pub area_level: Option<String>,
}

/// Statistics for any period and scope (supervisors and admins): filed, closed, on-time
/// closure rate (按期结案率), rework rate (返工率) and mean time to close, in total and by
/// area, department or category. A supervisor bound to areas counts the cases in them.
#[utoipa::path(tag = "inspections", params(StatsParams), responses((status = 200, body = stats::Stats), (status = 422)), security(("bearer" = [])))]
#[get("/stats")]
pub(super) async fn get_stats(
    state: web::Data<AppState>,
    user: Allowed<needs::ReviewResults>,
    query: Query<StatsParams>,
) -> Result<web::Json<stats::Stats>, ApiError> {
    let q = query.into_inner();
    let mut errors = FieldErrors::default();
    for (field, day) in [("from", q.from), ("to", q.to)] {
        if !plausible_day(day) {
            errors.add(
                field,
                Msg::fixed("a day from 2000 to 2100", "须为 2000 至 2100 年间的日期"),
            );
        }
    }
    if q.to < q.from {
        errors.add("to", Msg::fixed("before from", "早于开始日期"));
    } else if (q.to - q.from).num_days() > 3 * 366 {
        errors.add(
            "to",
            Msg::fixed("at most three years at a time", "一次最多统计三年"),
        );
    }
    let group_by = match q.group_by.as_deref().unwrap_or("area") {
        "area" => stats::GroupBy::Area,
        "department" => stats::GroupBy::Department,
        "category" => stats::GroupBy::Category,
        _ => {
            errors.add(
                "group_by",
                Msg::fixed(
                    "area, department or category",
                    "须为 area、department 或 category",
                ),
            );
            stats::GroupBy::Area
        }
    };
    let area_level = match q.area_level.as_deref() {
        None => Some(crate::domain::AreaLevel::District),
        Some(raw) => crate::domain::AreaLevel::parse(raw),
    };
    if area_level.is_none() {
        errors.add(
            "area_level",
            Msg::fixed(
                "district, subdistrict, community or grid",
                "须为 district、subdistrict、community 或 grid",
            ),
        );
    }
    errors.finish()?;
    Ok(web::Json(
        stats::compute(
            &state,
            &crate::services::scope::case_scope(&state, &user).await?,
            stats::StatsQuery {
                from: q.from,
                to: q.to,
                area_id: q.area_id,
                department_id: q.department_id,
                category: q.category,
                group_by,
                area_level: area_level.unwrap_or(crate::domain::AreaLevel::District),
            },
        )
        .await?,
    ))
}
