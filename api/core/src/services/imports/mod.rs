//! Reading the files a city already has: areas as a GeoJSON FeatureCollection, shopfronts
//! and inspection sites as CSV or XLSX (English or Chinese headers). Every problem is reported by row or
//! feature, and nothing is imported unless every row is right.

use std::collections::HashMap;
use std::io::Cursor;

use serde_json::Value;
use uuid::Uuid;

use crate::domain::geometry::Area;
use crate::domain::{AreaLevel, Crs, GeoPoint};
use crate::error::{Msg, RowProblem};
use crate::services::registry::ImportedArea;

mod registry_rows;
pub use registry_rows::*;

/// What an import wrote (or, on a dry run, would have written): the ids of the rows it
/// created and of those it updated, in the order they were written.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub created: Vec<Uuid>,
    pub updated: Vec<Uuid>,
}

fn problem(row: usize, field: &str, message: Msg) -> RowProblem {
    RowProblem {
        row,
        field: field.to_owned(),
        problem: message,
    }
}

/// Features of a FeatureCollection with properties `code`, `name`, `level`, `parent_code`.
pub fn area_features(collection: &Value) -> Result<Vec<ImportedArea>, Vec<RowProblem>> {
    let Some(features) = collection
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| collection.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
    else {
        return Err(vec![problem(
            0,
            "type",
            Msg::fixed(
                "expected a GeoJSON FeatureCollection",
                "须为 GeoJSON FeatureCollection",
            ),
        )]);
    };
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for (index, feature) in features.iter().enumerate() {
        let row = index + 1;
        let props = feature.get("properties").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            props.get(key).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_i64().map(|n| n.to_string()))
            })
        };
        let label = text("code").unwrap_or_else(|| format!("#{row}"));
        let mut fail = |field: &str, en: String, zh: String| {
            problems.push(problem(
                row,
                field,
                Msg::new(
                    format!("feature {label}: {en}"),
                    format!("要素 {label}：{zh}"),
                ),
            ));
        };
        let code = text("code").filter(|c| !c.trim().is_empty() && c.len() <= 40);
        if code.is_none() {
            fail(
                "code",
                "a code of 1-40 characters is required".into(),
                "须有 1-40 个字符的编码".into(),
            );
        }
        let name = text("name").filter(|n| !n.trim().is_empty() && n.chars().count() <= 100);
        if name.is_none() {
            fail(
                "name",
                "a name of 1-100 characters is required".into(),
                "须有 1-100 个字符的名称".into(),
            );
        }
        let level = text("level").as_deref().and_then(AreaLevel::parse);
        if level.is_none() {
            fail(
                "level",
                "level must be district, subdistrict, community or grid".into(),
                "level 须为 district、subdistrict、community 或 grid".into(),
            );
        }
        let boundary = match feature.get("geometry") {
            Some(geometry) => Area::from_geojson(geometry)
                .map_err(|m| fail("geometry", m.en.into_owned(), m.zh.into_owned()))
                .ok(),
            None => {
                fail("geometry", "geometry is required".into(), "缺少几何".into());
                None
            }
        };
        if let (Some(code), Some(name), Some(level), Some(boundary)) = (code, name, level, boundary)
        {
            parsed.push(ImportedArea {
                code,
                name,
                level,
                parent_code: text("parent_code").filter(|p| !p.is_empty()),
                boundary,
            });
        }
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Xlsx,
}

impl TableFormat {
    /// XLSX files are ZIP archives; anything else is read as CSV (UTF-8, BOM allowed).
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            TableFormat::Xlsx
        } else {
            TableFormat::Csv
        }
    }
}

/// Column names a shopfront file used before they were renamed, with the names now used:
/// a file that still has one is refused rather than read without it.
const RENAMED_COLUMNS: [(&str, &str); 4] = [
    ("zone", "frontage_zone"),
    ("radius_m", "frontage_radius_m"),
    ("半径", "门前三包半径"),
    ("department_code", "overseeing_department_code"),
];

/// The columns, by their English and Chinese names.
const COLUMNS: [(&str, &str); 11] = [
    ("name", "名称"),
    ("credit_code", "统一社会信用代码"),
    ("address", "地址"),
    ("contact", "联系人"),
    ("phone", "电话"),
    ("lat", "纬度"),
    ("lon", "经度"),
    ("crs", "坐标系"),
    ("frontage_zone", "门前三包范围"),
    ("frontage_radius_m", "门前三包半径"),
    ("overseeing_department_code", "监管部门编码"),
];

/// Rows of a table past the header, at most.
const MAX_ROWS: usize = 200_000;
/// Columns past this are not read: a sheet that puts one cell at XFD1048576 must not make
/// the reader build a row of 16,384 cells.
const MAX_TABLE_COLUMNS: usize = 64;
/// Problems listed, at most: a file wrong in every row stops being read here, so that the
/// answer (and the memory behind it) stays small.
const MAX_PROBLEMS: usize = 1000;
/// An upload of 64 MiB may not expand to more than this: a ZIP bomb is refused before
/// anything is inflated.
const MAX_XLSX_EXPANDED: u128 = 256 * 1024 * 1024;

/// Why reading stopped early.
enum Stop {
    /// The file itself is wrong (unreadable, too many rows): one problem for the file.
    File(Msg),
    /// The header lacks required columns (the row number of the header).
    Header(usize, Msg),
    /// The row visitor has seen enough problems.
    Enough,
}

/// Streams the rows of a table to `each` as (row number as the user's program shows it,
/// trimmed cells), holding one row at a time: memory follows the limits, not the file.
fn each_row(
    bytes: &[u8],
    mut each: impl FnMut(usize, Vec<String>) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut rows_seen = 0usize;
    let mut counted = |row: usize, cells: Vec<String>| {
        rows_seen += 1;
        // The header and MAX_ROWS rows after it.
        if rows_seen > MAX_ROWS + 1 {
            return Err(Stop::File(Msg::fixed(
                "at most 200,000 rows per import",
                "每次最多导入 200,000 行",
            )));
        }
        each(row, cells)
    };
    match TableFormat::sniff(bytes) {
        TableFormat::Csv => each_csv_row(bytes, &mut counted),
        TableFormat::Xlsx => {
            // calamine's cell-reference arithmetic overflows on references of a dozen
            // letters (found by the property tests), which panics in a debug build; such
            // a file is unreadable, never a crash.
            let read = std::panic::AssertUnwindSafe(|| each_xlsx_row(bytes, &mut counted));
            std::panic::catch_unwind(read).unwrap_or_else(|_| {
                Err(Stop::File(Msg::fixed(
                    "not readable as XLSX: a malformed cell reference",
                    "XLSX 无法读取：单元格引用格式错误",
                )))
            })
        }
    }
}

/// Cells longer than this are cut here: longer than any value an import takes (a frontage
/// polygon in WKT included), so a cut cell still fails its check.
const MAX_CELL_BYTES: usize = 256 * 1024;

/// CSV, field by field (csv-core), so that a line of millions of commas costs the 64
/// columns that are kept and not a slot for every field.
fn each_csv_row(
    bytes: &[u8],
    each: &mut impl FnMut(usize, Vec<String>) -> Result<(), Stop>,
) -> Result<(), Stop> {
    use csv_core::{ReadFieldResult, Reader};
    let mut reader = Reader::new();
    let mut input = bytes;
    let mut out = [0u8; 8192];
    let mut field: Vec<u8> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut row = 0;
    loop {
        let (result, read, written) = reader.read_field(input, &mut out);
        input = &input[read..];
        if cells.len() < MAX_TABLE_COLUMNS {
            let room = MAX_CELL_BYTES.saturating_sub(field.len());
            field.extend_from_slice(&out[..written.min(room)]);
        }
        match result {
            ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
            ReadFieldResult::Field { record_end } => {
                if cells.len() < MAX_TABLE_COLUMNS {
                    cells.push(csv_cell(std::mem::take(&mut field), row + 1)?);
                }
                field.clear();
                if record_end {
                    row += 1;
                    each(row, std::mem::take(&mut cells))?;
                }
            }
            ReadFieldResult::End => return Ok(()),
        }
    }
}

fn csv_cell(raw: Vec<u8>, row: usize) -> Result<String, Stop> {
    let cut = raw.len() == MAX_CELL_BYTES;
    match String::from_utf8(raw) {
        Ok(text) => Ok(text.trim().to_owned()),
        // A cell cut inside a character: what is left is still too long to pass.
        Err(e) if cut => Ok(String::from_utf8_lossy(e.as_bytes()).trim().to_owned()),
        Err(_) => Err(Stop::File(Msg::new(
            format!("not readable as CSV: row {row} is not UTF-8 (save the file as CSV UTF-8)"),
            format!("CSV 无法读取：第 {row} 行不是 UTF-8 编码（请另存为“CSV UTF-8”）"),
        ))),
    }
}

/// The first sheet, row by row, built cell by cell from the sheet's XML.
fn each_xlsx_row(
    bytes: &[u8],
    each: &mut impl FnMut(usize, Vec<String>) -> Result<(), Stop>,
) -> Result<(), Stop> {
    use calamine::{Reader, Xlsx};
    let unreadable = |e: &dyn std::fmt::Display| {
        Stop::File(Msg::new(
            format!("not readable as XLSX: {e}"),
            format!("XLSX 无法读取：{e}"),
        ))
    };
    // The central directory's sizes: `decompressed_size` gives up on entries written
    // with data descriptors, as most spreadsheet programs write them.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut expanded: u128 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|e| unreadable(&e))?;
        expanded += u128::from(entry.size());
    }
    if expanded > MAX_XLSX_EXPANDED {
        return Err(Stop::File(Msg::fixed(
            "the XLSX file expands to more than 256 MiB",
            "XLSX 文件解压后超过 256 MiB",
        )));
    }
    check_shared_strings(&mut archive)?;
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let first = workbook.sheet_names().first().cloned().ok_or_else(|| {
        Stop::File(Msg::fixed(
            "the workbook has no sheet",
            "工作簿中没有工作表",
        ))
    })?;
    let sheet_unreadable = |e: calamine::XlsxError| {
        Stop::File(Msg::new(
            format!("first sheet unreadable: {e}"),
            format!("第一个工作表无法读取：{e}"),
        ))
    };
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(sheet_unreadable)?;
    // Cells come in row order; a row is handed on when the next one starts.
    let mut current: Option<(u32, Vec<String>)> = None;
    while let Some(cell) = cells.next_cell().map_err(sheet_unreadable)? {
        let (row, column) = cell.get_position();
        if row as usize > MAX_ROWS + 1 {
            return Err(Stop::File(Msg::fixed(
                "at most 200,000 rows per import",
                "每次最多导入 200,000 行",
            )));
        }
        if column as usize >= MAX_TABLE_COLUMNS {
            continue;
        }
        let text = calamine::Data::from(cell.get_value().clone())
            .to_string()
            .trim()
            .to_owned();
        if text.is_empty() {
            continue;
        }
        if current.as_ref().is_some_and(|(r, _)| *r != row)
            && let Some((done, cells)) = current.take()
        {
            each(done as usize + 1, cells)?;
        }
        let (_, cells) = current.get_or_insert_with(|| (row, Vec::new()));
        let column = column as usize;
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
    }
    if let Some((done, cells)) = current {
        each(done as usize + 1, cells)?;
    }
    Ok(())
}

/// The reader holds the shared-string table whole, and reserves room for as many strings
/// as its `uniqueCount` claims before reading any: a claim of 10^11 made the allocation
/// fail and the process abort. Both are held to limits first.
const MAX_SHARED_STRINGS_BYTES: u64 = 64 * 1024 * 1024;
const MAX_SHARED_STRINGS: u64 = 2_000_000;

fn check_shared_strings(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<(), Stop> {
    use std::io::Read;
    let unreadable = |e: &dyn std::fmt::Display| {
        Stop::File(Msg::new(
            format!("not readable as XLSX: {e}"),
            format!("XLSX 无法读取：{e}"),
        ))
    };
    let too_many = || {
        Stop::File(Msg::fixed(
            "the XLSX file's shared strings pass 64 MiB or 2,000,000 entries",
            "XLSX 文件的共享字符串超过 64 MiB 或 2,000,000 条",
        ))
    };
    for index in 0..archive.len() {
        let name = archive
            .by_index_raw(index)
            .map_err(|e| unreadable(&e))?
            .name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if !name.ends_with("sharedstrings.xml") {
            continue;
        }
        let entry = archive.by_index(index).map_err(|e| unreadable(&e))?;
        if entry.size() > MAX_SHARED_STRINGS_BYTES {
            return Err(too_many());
        }
        // The `<sst …>` start tag, within its first 64 KiB.
        let mut head = Vec::new();
        entry
            .take(64 * 1024)
            .read_to_end(&mut head)
            .map_err(|e| unreadable(&e))?;
        let text = String::from_utf8_lossy(&head);
        let tag = text
            .find("<sst")
            .and_then(|start| text[start..].find('>').map(|end| &text[start..start + end]))
            .ok_or_else(|| unreadable(&"no shared-string table"))?;
        for attribute in ["uniqueCount", "count"] {
            let declared = tag
                .split(&format!(" {attribute}="))
                .nth(1)
                .and_then(|rest| rest.get(1..))
                .map(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                });
            if declared
                .is_some_and(|n| n.len() > 9 || n.parse::<u64>().unwrap_or(0) > MAX_SHARED_STRINGS)
            {
                return Err(too_many());
            }
        }
    }
    Ok(())
}

/// The header and data rows of a table whose columns go by English or Chinese names,
/// with every required column present. Positions are keyed by the English name.
type Columns = HashMap<&'static str, usize>;

/// Reads a table: the first row with anything in it is the header, whose columns must
/// include `required`; every later row that is not blank goes to `each` with its number.
/// `each` pushes its problems; reading stops once there are `MAX_PROBLEMS` of them.
fn read_rows(
    bytes: &[u8],
    columns: &[(&'static str, &'static str)],
    required: &[&'static str],
    renamed: &[(&'static str, &'static str)],
    problems: &mut Vec<RowProblem>,
    mut each: impl FnMut(&Columns, usize, &[String], &mut Vec<RowProblem>),
) -> Result<(), Vec<RowProblem>> {
    let mut position: Option<Columns> = None;
    let read = each_row(bytes, |row, cells| {
        if cells.iter().all(String::is_empty) {
            return Ok(());
        }
        let Some(position) = &position else {
            position = Some(header_positions(row, &cells, columns, required, renamed)?);
            return Ok(());
        };
        each(position, row, &cells, problems);
        if problems.len() >= MAX_PROBLEMS {
            return Err(Stop::Enough);
        }
        Ok(())
    });
    match read {
        Ok(()) if position.is_none() => Err(vec![problem(
            0,
            "file",
            Msg::fixed("the file is empty", "文件为空"),
        )]),
        Ok(()) => Ok(()),
        Err(Stop::File(message)) => Err(vec![problem(0, "file", message)]),
        Err(Stop::Header(row, message)) => Err(vec![problem(row, "header", message)]),
        Err(Stop::Enough) => {
            problems.truncate(MAX_PROBLEMS);
            problems.push(problem(
                0,
                "file",
                Msg::fixed(
                    "more than 1000 problems; the file was not read further",
                    "问题超过 1000 个，文件未继续读取",
                ),
            ));
            Ok(())
        }
    }
}

fn header_positions(
    row: usize,
    header: &[String],
    columns: &[(&'static str, &'static str)],
    required: &[&'static str],
    renamed: &[(&'static str, &'static str)],
) -> Result<Columns, Stop> {
    if let Some((old, new)) = renamed
        .iter()
        .find(|(old, _)| header.iter().any(|h| h.eq_ignore_ascii_case(old)))
    {
        return Err(Stop::Header(
            row,
            Msg::new(
                format!("the column {old} is now called {new}"),
                format!("列 {old} 已更名为 {new}"),
            ),
        ));
    }
    let position: Columns = columns
        .iter()
        .filter_map(|(en, zh)| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(en) || h == zh)
                .map(|i| (*en, i))
        })
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !position.contains_key(c))
        .collect();
    if !missing.is_empty() {
        let list = missing.join(", ");
        return Err(Stop::Header(
            row,
            Msg::new(
                format!("missing columns: {list}"),
                format!("缺少列：{list}"),
            ),
        ));
    }
    Ok(position)
}

/// A cell by column name; empty when the column or the cell is absent.
fn cell<'a>(position: &Columns, cells: &'a [String], column: &str) -> &'a str {
    position
        .get(column)
        .and_then(|&i| cells.get(i))
        .map(String::as_str)
        .unwrap_or("")
}

/// `lat`, `lon` and `crs` cells as a WGS-84 point.
fn location(lat: &str, lon: &str, crs: &str) -> Result<GeoPoint, (&'static str, Msg)> {
    let crs = match crs {
        "" | "wgs84" => Crs::Wgs84,
        "gcj02" => Crs::Gcj02,
        "bd09" => Crs::Bd09,
        _ => {
            return Err((
                "crs",
                Msg::fixed("one of wgs84, gcj02, bd09", "须为 wgs84、gcj02 或 bd09"),
            ));
        }
    };
    match (lat.parse::<f64>(), lon.parse::<f64>()) {
        (Ok(lat), Ok(lon)) => GeoPoint::from_crs(lat, lon, crs).map_err(|m| ("lat", m)),
        _ => Err((
            "lat",
            Msg::fixed("lat and lon must be numbers", "纬度和经度须为数字"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::registry::FrontageZone;

    #[test]
    fn a_csv_with_chinese_headers_parses() {
        let csv = "名称,统一社会信用代码,地址,纬度,经度,坐标系,门前三包范围,门前三包半径\n老张面馆,91350100M000100Y43,解放路1号,30.25,120.16,gcj02,,20\n";
        let rows = shopfront_rows(csv.as_bytes(), &HashMap::new()).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(matches!(rows[0].zone, FrontageZone::Radius(r) if r == 20.0));
        assert!(rows[0].location.lon() < 120.16, "GCJ-02 was converted");
    }

    #[test]
    fn a_file_with_a_renamed_column_is_refused_naming_the_new_name() {
        let csv = "名称,统一社会信用代码,地址,纬度,经度,半径\n老张面馆,91350100M000100Y43,解放路1号,30.25,120.16,20\n";
        let problems = shopfront_rows(csv.as_bytes(), &HashMap::new()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].row, problems[0].field.as_str()), (1, "header"));
        assert!(
            problems[0].problem.zh.contains("门前三包半径"),
            "{problems:?}"
        );
    }

    #[test]
    fn every_bad_row_is_reported() {
        let csv = "name,credit_code,address,lat,lon,frontage_zone,overseeing_department_code\n\
                   ,91350100M000100Y44,a,30,120,,\n\
                   ok,91350100M000100Y43,a,abc,120,,\n\
                   ok2,91350100M000100Y43,a,30,120,POLYGON((1 2)),NOPE\n";
        let problems = shopfront_rows(csv.as_bytes(), &HashMap::new()).unwrap_err();
        let found: Vec<(usize, &str)> =
            problems.iter().map(|p| (p.row, p.field.as_str())).collect();
        for expected in [
            (2, "name"),
            (2, "credit_code"),
            (3, "lat"),
            (4, "credit_code"),
            (4, "frontage_zone"),
            (4, "overseeing_department_code"),
        ] {
            assert!(found.contains(&expected), "{expected:?} in {found:?}");
        }
    }
}
