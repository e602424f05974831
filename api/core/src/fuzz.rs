//! Property tests that feed the parsers of untrusted files random and mutated input:
//! photo decoding, GeoJSON area imports, CSV/XLSX shopfront and site imports, Open311
//! answers. The property is the same everywhere — an answer, never a panic — and each
//! input that once broke it stays below as a regression case.

use std::collections::HashMap;

use proptest::prelude::*;

use crate::photo::{self, MAX_PIXELS};
use crate::services::imports;

/// A small valid JPEG, PNG and WebP to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let image = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 7) as u8, 90])
    });
    let mut png = Vec::new();
    let _ = image::DynamicImage::ImageRgb8(image.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png);
    let mut webp = Vec::new();
    let _ = image::DynamicImage::ImageRgb8(image.clone()).write_to(
        &mut std::io::Cursor::new(&mut webp),
        image::ImageFormat::WebP,
    );
    let mut jpeg = Vec::new();
    let _ = jpeg_encoder::Encoder::new(&mut jpeg, 80).encode(
        image.as_raw(),
        48,
        32,
        jpeg_encoder::ColorType::Rgb,
    );
    vec![jpeg, png, webp]
}

fn process(bytes: &[u8]) {
    // Any result is fine; a panic fails the property.
    let _ = photo::process(bytes, chrono_tz::Asia::Shanghai, MAX_PIXELS);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_photos_never_panic(which in 0usize..3, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24), cut in any::<prop::sample::Index>()) {
        let mut bytes = seeds()[which].clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        process(&bytes);
        let keep = cut.index(bytes.len());
        process(&bytes[..keep]);
    }

    #[test]
    fn random_bytes_as_a_photo_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..2048), magic in 0usize..4) {
        // Start with a real signature so the decoders, not the sniffer, see the bytes.
        let prefix: &[u8] = match magic {
            0 => b"\xFF\xD8\xFF\xE0",
            1 => b"\x89PNG\r\n\x1a\n",
            2 => b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            _ => b"",
        };
        bytes.splice(0..0, prefix.iter().copied());
        process(&bytes);
    }

    #[test]
    fn any_json_as_an_area_import_gets_an_answer(json in arbitrary_json(3)) {
        let _ = imports::area_features(&json);
        let wrapped = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "A", "name": "a", "level": "district"}, "geometry": json}]});
        let _ = imports::area_features(&wrapped);
    }

    #[test]
    fn any_table_as_an_import_gets_an_answer(rows in prop::collection::vec(prop::collection::vec("[ -~，。名称纬度\"\n]{0,12}", 0..8), 0..6), xlsx in any::<bool>()) {
        let mut csv = String::from("name,credit_code,address,lat,lon,zone,code,site_type,area_code\n");
        for row in &rows {
            csv.push_str(&row.join(","));
            csv.push('\n');
        }
        let mut bytes = csv.into_bytes();
        if xlsx {
            // A ZIP signature sends the bytes to the XLSX reader.
            bytes.splice(0..0, *b"PK\x03\x04");
        }
        let _ = imports::shopfront_rows(&bytes, &HashMap::new());
        let _ = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new());
    }
}

fn arbitrary_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[a-zA-Z]{0,10}".prop_map(serde_json::Value::String),
        Just(serde_json::json!("Polygon")),
        Just(serde_json::json!("MultiPolygon")),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("coordinates".to_owned()),
                    Just("features".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn a_real_xlsx_with_garbage_cells_is_answered_row_by_row() {
    let bytes = site_workbook(|sheet| {
        let _ = sheet.write_number(1, 4, f64::MAX);
        let _ = sheet.write_string(1, 5, "NaN");
        let _ = sheet.write_boolean(1, 0, true);
    });
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert!(problems.iter().any(|p| p.row == 2), "{problems:?}");
}

fn site_workbook(extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, header) in ["code", "name", "site_type", "area_code", "lat", "lon"]
        .iter()
        .enumerate()
    {
        let _ = sheet.write_string(0, c as u16, *header);
    }
    for (c, value) in ["S1", "菜场", "market", "A1", "30.25", "120.16"]
        .iter()
        .enumerate()
    {
        let _ = sheet.write_string(1, c as u16, *value);
    }
    extra(sheet);
    workbook.save_to_buffer().unwrap_or_default()
}

/// The workbook with the entry whose name ends with `suffix` rewritten by `edit`.
fn with_entry_rewritten(
    workbook: Vec<u8>,
    suffix: &str,
    edit: impl FnOnce(String) -> String,
) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(workbook)).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut edit = Some(edit);
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name.ends_with(suffix)
            && let Some(edit) = edit.take()
        {
            data = edit(String::from_utf8(data).unwrap()).into_bytes();
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&data).unwrap();
    }
    assert!(
        edit.is_none(),
        "the workbook has no entry ending with {suffix}"
    );
    writer.finish().unwrap().into_inner()
}

/// Found while writing these targets (by reading calamine, not by the fuzzer): one cell
/// at XFD1048576 made calamine's `worksheet_range` allocate a dense grid of 17 billion
/// cells, and the process aborted.
#[test]
fn a_cell_in_the_last_corner_of_a_sheet_costs_nothing() {
    let bytes = site_workbook(|sheet| {
        let _ = sheet.write_string(1_048_575, 16_383, "corner");
    });
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].problem.en.contains("200,000 rows"),
        "{problems:?}"
    );
    // Far to the right only: the columns past 64 are not read at all.
    let bytes = site_workbook(|sheet| {
        let _ = sheet.write_string(1, 16_383, "far right");
    });
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert!(
        !problems.is_empty() && problems.iter().all(|p| p.row == 2),
        "{problems:?}"
    );
}

/// Found by `mutated_workbooks_get_an_answer`: a cell reference of many letters made
/// calamine multiply past `u32` (a panic in a debug build, as `cargo run` serves).
#[test]
fn a_cell_reference_of_many_letters_is_unreadable_not_a_crash() {
    let bytes = with_entry_rewritten(site_workbook(|_| {}), "sheet1.xml", |xml| {
        xml.replace("r=\"A2\"", "r=\"ZZZZZZZZZZZZZZZZ2\"")
    });
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].problem.en.contains("not readable as XLSX"),
        "{problems:?}"
    );
}

/// A ZIP bomb is refused from the sizes the archive declares, before anything inflates.
#[test]
fn an_xlsx_declaring_gigabytes_is_refused_unread() {
    let mut bytes = site_workbook(|_| {});
    let central = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .unwrap_or_default();
    // The uncompressed size of the first entry in the central directory.
    bytes[central + 24..central + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert!(problems[0].problem.en.contains("256 MiB"), "{problems:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_workbooks_get_an_answer(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16), cut in any::<prop::sample::Index>()) {
        let mut bytes = site_workbook(|_| {});
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new());
        let keep = cut.index(bytes.len()).max(4);
        let _ = imports::shopfront_rows(&bytes[..keep], &HashMap::new());
    }
}

/// Found by review: calamine reserves room for as many shared strings as the file's
/// `uniqueCount` claims before reading one; a claim of 10^11 made the allocation fail and
/// the process abort. The claim is read and held to a limit first.
#[test]
fn a_shared_string_table_claiming_billions_is_refused_unread() {
    let bytes = with_entry_rewritten(site_workbook(|_| {}), "sharedStrings.xml", |xml| {
        let at = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').unwrap();
        format!("{}100000000000{}", &xml[..at], &xml[end..])
    });
    let problems = imports::site_rows(&bytes, &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].problem.en.contains("shared strings"),
        "{problems:?}"
    );
}

#[test]
fn a_csv_line_of_a_million_commas_keeps_its_first_64_cells() {
    let mut csv = "code,name,site_type,area_code,lat,lon\n".to_owned();
    csv.push_str("S1,菜场,market,A1,30.25,120.16");
    csv.push_str(&",".repeat(1_000_000));
    csv.push('\n');
    let problems = imports::site_rows(csv.as_bytes(), &HashMap::new(), &HashMap::new())
        .err()
        .unwrap_or_default();
    // Read as a row of its own, wrong only in what it is: an unknown area code.
    assert!(
        problems
            .iter()
            .all(|p| p.row == 2 && p.field == "area_code"),
        "{problems:?}"
    );
}
