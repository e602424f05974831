//! Rows of the registry's tables: shopfronts and inspection sites, each cell checked.

use crate::domain::CreditCode;
use crate::domain::geometry::Area;
use crate::domain::inspection::SiteType;
use crate::error::{Msg, RowProblem};
use crate::services::inspections::sites::SiteInput;
use crate::services::registry::{DEFAULT_FRONTAGE_RADIUS_M, FrontageZone, ShopfrontInput};
use entity::ids::{DepartmentId, ShopfrontId};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::*;

/// Parses a shopfront table; `departments` maps department codes to ids.
pub fn shopfront_rows(
    bytes: &[u8],
    departments: &HashMap<String, DepartmentId>,
) -> Result<Vec<ShopfrontInput>, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    let mut codes = HashSet::new();
    let each =
        |position: &Columns, row: usize, cells: &[String], problems: &mut Vec<RowProblem>| {
            let cell = |column: &str| cell(position, cells, column);
            let mut fail = |field: &str, message: Msg| problems.push(problem(row, field, message));
            let name = cell("name");
            if name.is_empty() || name.chars().count() > 100 {
                fail(
                    "name",
                    Msg::fixed("1-100 characters required", "须为 1-100 个字符"),
                );
            }
            let credit_code = match CreditCode::parse(cell("credit_code")) {
                Ok(code) if !codes.insert(code.as_str().to_owned()) => {
                    fail(
                        "credit_code",
                        Msg::fixed("appears twice in the file", "在文件中重复出现"),
                    );
                    None
                }
                Ok(code) => Some(code),
                Err(m) => {
                    fail("credit_code", m);
                    None
                }
            };
            let location = location(cell("lat"), cell("lon"), cell("crs"))
                .map_err(|(field, m)| fail(field, m))
                .ok();
            let number = |raw: &str| raw.parse::<f64>().ok();
            let raw_zone = cell("frontage_zone");
            let zone = if raw_zone.is_empty() {
                match cell("frontage_radius_m") {
                    "" => Some(FrontageZone::Radius(DEFAULT_FRONTAGE_RADIUS_M)),
                    raw => match number(raw) {
                        Some(r) if (1.0..=500.0).contains(&r) => Some(FrontageZone::Radius(r)),
                        _ => {
                            fail(
                                "frontage_radius_m",
                                Msg::fixed("from 1 to 500 metres", "须在 1 到 500 米之间"),
                            );
                            None
                        }
                    },
                }
            } else if raw_zone.starts_with('{') {
                serde_json::from_str::<Value>(raw_zone)
                    .map_err(|e| {
                        Msg::new(
                            format!("zone is not JSON: {e}"),
                            format!("门前三包范围不是有效 JSON：{e}"),
                        )
                    })
                    .and_then(|v| Area::from_geojson(&v))
                    .map(FrontageZone::Polygon)
                    .map_err(|m| fail("frontage_zone", m))
                    .ok()
            } else {
                Area::from_wkt(raw_zone)
                    .map(FrontageZone::Polygon)
                    .map_err(|m| fail("frontage_zone", m))
                    .ok()
            };
            let department_id = match cell("overseeing_department_code") {
                "" => Some(None),
                code => match departments.get(code) {
                    Some(id) => Some(Some(*id)),
                    None => {
                        fail(
                            "overseeing_department_code",
                            Msg::new(
                                format!("no department with code {code}"),
                                format!("不存在编码为 {code} 的部门"),
                            ),
                        );
                        None
                    }
                },
            };
            let address = cell("address");
            if address.chars().count() > 200 {
                fail(
                    "address",
                    Msg::fixed("at most 200 characters", "最多 200 个字符"),
                );
            }
            if let (Some(credit_code), Some(location), Some(zone), Some(department_id)) =
                (credit_code, location, zone, department_id)
            {
                parsed.push(ShopfrontInput {
                    name: name.to_owned(),
                    credit_code,
                    address: address.to_owned(),
                    contact: cell("contact").to_owned(),
                    phone: cell("phone").to_owned(),
                    location,
                    zone,
                    department_id,
                });
            }
        };
    read_rows(
        bytes,
        &COLUMNS,
        &["name", "credit_code", "address", "lat", "lon"],
        &RENAMED_COLUMNS,
        &mut problems,
        each,
    )?;
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

/// The columns of a site table, by their English and Chinese names.
const SITE_COLUMNS: [(&str, &str); 9] = [
    ("code", "编码"),
    ("name", "名称"),
    ("site_type", "类型"),
    ("area_code", "区域编码"),
    ("lat", "纬度"),
    ("lon", "经度"),
    ("crs", "坐标系"),
    ("address", "地址"),
    ("shopfront_credit_code", "门店统一社会信用代码"),
];

/// Parses an inspection-site table; `areas` maps area codes to ids, `shopfronts` credit
/// codes to ids.
pub fn site_rows(
    bytes: &[u8],
    areas: &HashMap<String, Uuid>,
    shopfronts: &HashMap<String, ShopfrontId>,
) -> Result<Vec<SiteInput>, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    let mut codes = HashSet::new();
    let each =
        |position: &Columns, row: usize, cells: &[String], problems: &mut Vec<RowProblem>| {
            let cell = |column: &str| cell(position, cells, column);
            let mut fail = |field: &str, message: Msg| problems.push(problem(row, field, message));
            let code = cell("code");
            if code.is_empty() || code.chars().count() > 40 {
                fail(
                    "code",
                    Msg::fixed("1-40 characters required", "须为 1-40 个字符"),
                );
            } else if !codes.insert(code.to_owned()) {
                fail(
                    "code",
                    Msg::fixed("appears twice in the file", "在文件中重复出现"),
                );
            }
            let name = cell("name");
            if name.is_empty() || name.chars().count() > 100 {
                fail(
                    "name",
                    Msg::fixed("1-100 characters required", "须为 1-100 个字符"),
                );
            }
            let site_type = SiteType::parse_any(cell("site_type"));
            if site_type.is_none() {
                fail(
                    "site_type",
                    Msg::fixed(
                        "not a site type (code or Chinese name)",
                        "不是有效的点位类型（编码或中文名）",
                    ),
                );
            }
            let area_id = areas.get(cell("area_code")).copied();
            if area_id.is_none() {
                let code = cell("area_code");
                fail(
                    "area_code",
                    Msg::new(
                        format!("no area with code {code}"),
                        format!("不存在编码为 {code} 的区域"),
                    ),
                );
            }
            let location = location(cell("lat"), cell("lon"), cell("crs"))
                .map_err(|(field, m)| fail(field, m))
                .ok();
            let address = cell("address");
            if address.chars().count() > 200 {
                fail(
                    "address",
                    Msg::fixed("at most 200 characters", "最多 200 个字符"),
                );
            }
            let shopfront_id = match cell("shopfront_credit_code") {
                "" => Some(None),
                credit => match shopfronts.get(credit) {
                    Some(id) => Some(Some(*id)),
                    None => {
                        fail(
                            "shopfront_credit_code",
                            Msg::new(
                                format!("no shopfront with credit code {credit}"),
                                format!("不存在统一社会信用代码为 {credit} 的门店"),
                            ),
                        );
                        None
                    }
                },
            };
            if let (Some(site_type), Some(area_id), Some(location), Some(shopfront_id)) =
                (site_type, area_id, location, shopfront_id)
            {
                parsed.push(SiteInput {
                    code: code.to_owned(),
                    name: name.to_owned(),
                    site_type,
                    area_id,
                    location,
                    address: address.to_owned(),
                    shopfront_id,
                    active: true,
                });
            }
        };
    read_rows(
        bytes,
        &SITE_COLUMNS,
        &["code", "name", "site_type", "area_code", "lat", "lon"],
        &[],
        &mut problems,
        each,
    )?;
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}
