//! The few EXIF facts that matter for evidence: orientation, capture time and GPS. The
//! EXIF block is cut out of the container by hand (a JPEG APP1 segment, a PNG `eXIf`
//! chunk, a WebP `EXIF` chunk) so a file without EXIF is never scanned whole.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use exif::{In, Reader, Tag, Value};

use super::ImageFormat;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExifFacts {
    /// EXIF orientation 1–8 (1 when absent).
    pub orientation: u16,
    pub taken_at: Option<DateTime<Utc>>,
    /// (latitude, longitude) as the camera wrote them (WGS-84 from GPS).
    pub gps: Option<(f64, f64)>,
}

pub fn read(bytes: &[u8], format: ImageFormat, city: chrono_tz::Tz) -> ExifFacts {
    let Some(raw) = raw_exif(bytes, format) else {
        return ExifFacts {
            orientation: 1,
            ..Default::default()
        };
    };
    let parsed = Reader::new()
        .continue_on_error(true)
        .read_raw(raw.to_vec())
        .or_else(|err| err.distill_partial_result(|_| {}));
    let Ok(exif) = parsed else {
        return ExifFacts {
            orientation: 1,
            ..Default::default()
        };
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1);
    ExifFacts {
        orientation,
        taken_at: taken_at(&exif, city),
        gps: gps(&exif),
    }
}

fn ascii(exif: &exif::Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

/// `DateTimeOriginal` with its `OffsetTimeOriginal`; without an offset, the camera's clock
/// is taken to be in the city's time zone.
fn taken_at(exif: &exif::Exif, city: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let raw = ascii(exif, Tag::DateTimeOriginal).or_else(|| ascii(exif, Tag::DateTime))?;
    let mut when = exif::DateTime::from_ascii(raw).ok()?;
    if let Some(offset) = ascii(exif, Tag::OffsetTimeOriginal) {
        let _ = when.parse_offset(offset);
    }
    let naive = NaiveDate::from_ymd_opt(
        i32::from(when.year),
        u32::from(when.month),
        u32::from(when.day),
    )?
    .and_hms_opt(
        u32::from(when.hour),
        u32::from(when.minute),
        u32::from(when.second),
    )?;
    match when.offset {
        Some(minutes) => {
            let offset = chrono::FixedOffset::east_opt(i32::from(minutes) * 60)?;
            offset
                .from_local_datetime(&naive)
                .single()
                .map(|t| t.with_timezone(&Utc))
        }
        None => city
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

fn gps(exif: &exif::Exif) -> Option<(f64, f64)> {
    let coordinate = |value_tag: Tag, ref_tag: Tag, negative: u8| -> Option<f64> {
        let Value::Rational(parts) = &exif.get_field(value_tag, In::PRIMARY)?.value else {
            return None;
        };
        let [d, m, s] = [parts.first()?, parts.get(1)?, parts.get(2)?].map(|r| r.to_f64());
        let magnitude = d + m / 60.0 + s / 3600.0;
        let sign = match ascii(exif, ref_tag).and_then(|r| r.first()) {
            Some(r) if *r == negative => -1.0,
            _ => 1.0,
        };
        Some(sign * magnitude).filter(|v| v.is_finite())
    };
    let lat = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && (lat, lon) != (0.0, 0.0))
        .then_some((lat, lon))
}

fn raw_exif(bytes: &[u8], format: ImageFormat) -> Option<&[u8]> {
    match format {
        ImageFormat::Jpeg => jpeg_app1(bytes),
        ImageFormat::Png => png_chunk(bytes, b"eXIf"),
        ImageFormat::WebP => {
            webp_chunk(bytes, b"EXIF").map(|raw| raw.strip_prefix(b"Exif\0\0").unwrap_or(raw))
        }
    }
}

/// Walks the JPEG markers up to the first scan, looking for `APP1 "Exif\0\0"`.
fn jpeg_app1(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let segment = bytes.get(at + 4..at + 2 + length)?;
        if marker == 0xE1
            && let Some(tiff) = segment.strip_prefix(b"Exif\0\0")
        {
            return Some(tiff);
        }
        at += 2 + length;
    }
    None
}

fn png_chunk<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length =
            usize::try_from(u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?)).ok()?;
        let chunk_kind = &bytes[at + 4..at + 8];
        if chunk_kind == kind {
            return bytes.get(at + 8..at + 8 + length);
        }
        if chunk_kind == b"IDAT" || chunk_kind == b"IEND" {
            return None;
        }
        at = at.checked_add(12)?.checked_add(length)?;
    }
    None
}

fn webp_chunk<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let length =
            usize::try_from(u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?)).ok()?;
        if &bytes[at..at + 4] == kind {
            return bytes.get(at + 8..at + 8 + length);
        }
        at = at
            .checked_add(8)?
            .checked_add(length)?
            .checked_add(length % 2)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_without_exif_has_default_facts() {
        let facts = read(
            &[0xFF, 0xD8, 0xFF, 0xDA, 0, 2],
            ImageFormat::Jpeg,
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(facts.orientation, 1);
        assert!(facts.taken_at.is_none() && facts.gps.is_none());
    }

    #[test]
    fn truncated_containers_do_not_panic() {
        for bytes in [
            &b"\xFF\xD8\xFF\xE1\xFF\xFF"[..],
            b"\x89PNG\r\n\x1a\n\xFF\xFF\xFF\xFFeXIf",
            b"RIFF\0\0\0\0WEBPEXIF\xFF\xFF\xFF\x7F",
        ] {
            for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP] {
                let _ = read(bytes, format, chrono_tz::Asia::Shanghai);
            }
        }
    }
}
