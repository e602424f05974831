//! The tables a bulletin (通报) is made from, with Chinese headers: the rankings, every
//! site's score, and every case the campaign filed with its status. One set of tables
//! feeds both the XLSX workbook and the CSV files.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use entity::ids::CampaignId;

use entity::{cases, categories, inspection_sites};

use crate::auth::policy::{self, CaseScope};
use crate::domain::CaseStatus;
use crate::error::Error;
use crate::services::inspections::summary::{GroupResult, Summary};
use crate::services::now;
use crate::state::AppState;

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Number(f64::from(v))
    }
}

impl From<Option<u32>> for Cell {
    fn from(v: Option<u32>) -> Self {
        v.map_or(Cell::Empty, |n| Cell::Number(f64::from(n)))
    }
}

pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// The Chinese name of a case status, as bulletins write it.
pub fn status_zh(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Reported => "待派遣",
        CaseStatus::Assigned => "已派遣",
        CaseStatus::InProgress => "整改中",
        CaseStatus::Disputed => "有异议",
        CaseStatus::Rectified => "待核查",
        CaseStatus::Closed => "已办结",
        CaseStatus::Cancelled => "已作废",
    }
}

pub fn ranking_table(groups: &[GroupResult], unit: &'static str) -> Table {
    Table {
        headers: vec![
            "排名",
            unit,
            "抽查点位数",
            "已检查点位数",
            "平均得分率(%)",
            "问题数",
        ],
        rows: groups
            .iter()
            .map(|g| {
                vec![
                    g.rank.into(),
                    g.name.clone().into(),
                    g.sites_drawn.into(),
                    g.sites_visited.into(),
                    g.mean_score_rate.into(),
                    g.problems.into(),
                ]
            })
            .collect(),
    }
}

pub fn sites_table(summary: &Summary) -> Table {
    Table {
        headers: vec![
            "排名",
            "点位编码",
            "点位名称",
            "点位类型",
            "抽查区域",
            "所在区域",
            "责任单位",
            "是否检查",
            "得分",
            "满分",
            "得分率(%)",
            "问题数",
            "立案数",
        ],
        rows: summary
            .sites
            .iter()
            .map(|s| {
                vec![
                    s.rank.into(),
                    s.code.clone().into(),
                    s.name.clone().into(),
                    s.site_type.name_zh().into(),
                    s.scope_area_name.clone().into(),
                    s.area_name.clone().into(),
                    s.department_name.clone().unwrap_or_default().into(),
                    if s.visited { "是" } else { "否" }.into(),
                    s.score.into(),
                    s.max_score.into(),
                    s.score_rate.into(),
                    s.problems.into(),
                    s.cases_filed.into(),
                ]
            })
            .collect(),
    }
}

pub fn categories_table(summary: &Summary) -> Table {
    Table {
        headers: vec!["问题类别", "问题数", "扣分", "立案数"],
        rows: summary
            .categories
            .iter()
            .map(|c| {
                vec![
                    c.name_zh.clone().into(),
                    c.problems.into(),
                    Some(c.points_deducted).into(),
                    c.cases_filed.into(),
                ]
            })
            .collect(),
    }
}

/// Every case the campaign filed that `scope` holds, in case-number order.
pub async fn cases_table(
    state: &AppState,
    campaign_id: CampaignId,
    scope: &CaseScope,
) -> Result<Table, Error> {
    let filed = cases::Entity::find()
        .filter(cases::Column::CampaignId.eq(campaign_id))
        .filter(policy::case_condition(scope))
        .order_by_asc(cases::Column::CaseNo)
        .all(&state.db)
        .await?;
    let names: HashMap<String, String> = categories::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name_zh))
        .collect();
    let department_names = super::department_names(&state.db).await?;
    let shops = super::shopfronts_by_id(
        &state.db,
        filed.iter().filter_map(|c| c.assignee_shopfront_id),
    )
    .await?;
    let sites =
        super::campaigns::sites_by_id(state, filed.iter().filter_map(|c| c.site_id)).await?;
    let city = state.settings.timezone;
    let local = |t: Option<chrono::DateTime<chrono::Utc>>| -> Cell {
        t.map_or(Cell::Empty, |t| {
            Cell::Text(t.with_timezone(&city).format("%Y-%m-%d %H:%M").to_string())
        })
    };
    let now = now();
    let site_of = |c: &cases::Model| -> Option<&inspection_sites::Model> {
        c.site_id.and_then(|s| sites.get(&s))
    };
    Ok(Table {
        headers: vec![
            "案件编号",
            "问题类别",
            "点位编码",
            "点位名称",
            "问题描述",
            "地址",
            "责任单位",
            "状态",
            "立案时间",
            "办理期限",
            "办结时间",
            "是否超期",
        ],
        rows: filed
            .iter()
            .map(|c| {
                let overdue = c.status.is_open()
                    && c.suspended_at.is_none()
                    && c.deadline_at.is_some_and(|d| d < now);
                let assignee = match (c.assignee_shopfront_id, c.assignee_department_id) {
                    (Some(shop), _) => shops.get(&shop).map(|s| s.name.clone()),
                    (None, Some(department)) => department_names.get(&department).cloned(),
                    (None, None) => None,
                }
                .unwrap_or_else(|| "待分派".to_owned());
                vec![
                    c.case_no.clone().into(),
                    names
                        .get(&c.category_code)
                        .cloned()
                        .unwrap_or_default()
                        .into(),
                    site_of(c)
                        .map(|s| s.code.clone())
                        .unwrap_or_default()
                        .into(),
                    site_of(c)
                        .map(|s| s.name.clone())
                        .unwrap_or_default()
                        .into(),
                    c.description.clone().into(),
                    c.address.clone().into(),
                    assignee.into(),
                    status_zh(c.status).into(),
                    local(Some(c.created_at)),
                    local(c.deadline_at),
                    local(c.closed_at),
                    if overdue { "是" } else { "否" }.into(),
                ]
            })
            .collect(),
    })
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a
/// leading apostrophe: names and descriptions come from users.
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// RFC 4180 CSV with a UTF-8 byte-order mark, so that Excel shows the Chinese right.
pub fn to_csv(table: &Table) -> Result<Vec<u8>, Error> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer
        .write_record(&table.headers)
        .map_err(Error::internal)?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(|cell| match cell {
                Cell::Text(s) => defused(s),
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            }))
            .map_err(Error::internal)?;
    }
    writer.into_inner().map_err(Error::internal)
}

/// The workbook: 排名通报 (headline, area and department rankings, problems by
/// category), 点位得分 (every site) and 案件清单 (every case and its status).
pub fn to_xlsx(summary: &Summary, cases: &Table) -> Result<Vec<u8>, Error> {
    use rust_xlsxwriter::{Format, Workbook, Worksheet};
    let bold = Format::new().set_bold();
    let write_table = |sheet: &mut Worksheet,
                       first_row: u32,
                       title: Option<&str>,
                       table: &Table|
     -> Result<u32, rust_xlsxwriter::XlsxError> {
        let mut row = first_row;
        if let Some(title) = title {
            sheet.write_string_with_format(row, 0, title, &bold)?;
            row += 1;
        }
        for (col, header) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(row, col as u16, *header, &bold)?;
        }
        for cells in &table.rows {
            row += 1;
            for (col, cell) in cells.iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(row, col as u16, s)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(row, col as u16, *n)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        Ok(row + 1)
    };
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut workbook = Workbook::new();
        let bulletin = workbook.add_worksheet();
        bulletin.set_name("排名通报")?;
        bulletin.write_string_with_format(
            0,
            0,
            format!("{} 明察暗访结果通报", summary.name),
            &bold,
        )?;
        bulletin.write_string(
            1,
            0,
            format!(
                "抽查点位 {} 个，已检查 {} 个，平均得分率 {}%，发现问题 {} 个，立案 {} 件，已办结 {} 件，超期 {} 件。",
                summary.sites_drawn,
                summary.sites_visited,
                summary.mean_score_rate.map_or("—".to_owned(), |m| m.to_string()),
                summary.problems,
                summary.progress.cases_filed,
                summary.progress.closed,
                summary.progress.overdue,
            ),
        )?;
        let next = write_table(
            bulletin,
            3,
            Some("区域排名"),
            &ranking_table(&summary.areas, "区域"),
        )?;
        let next = write_table(
            bulletin,
            next + 1,
            Some("责任单位排名"),
            &ranking_table(&summary.departments, "责任单位"),
        )?;
        write_table(
            bulletin,
            next + 1,
            Some("问题分类统计"),
            &categories_table(summary),
        )?;
        let sites = workbook.add_worksheet();
        sites.set_name("点位得分")?;
        write_table(sites, 0, None, &sites_table(summary))?;
        let case_sheet = workbook.add_worksheet();
        case_sheet.set_name("案件清单")?;
        write_table(case_sheet, 0, None, cases)?;
        workbook.save_to_buffer()
    };
    build().map_err(Error::internal)
}
