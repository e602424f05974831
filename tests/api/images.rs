//! Real image bytes made by the tests: JPEG (with or without EXIF), PNG, WebP.

use std::io::Cursor;

use exif::{Field, In, Rational, Tag, Value};
use image::{ImageEncoder, Rgb, RgbImage};

/// A picture with structure (so perceptual hashes differ between seeds).
pub fn picture(width: u32, height: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let band = ((x * 7 / width.max(1)) + seed) % 3;
        let v = ((x * 255 / width.max(1)) as u8).wrapping_add((y * 97 / height.max(1)) as u8);
        match band {
            0 => Rgb([v, 40, 255 - v]),
            1 => Rgb([30, v, 90]),
            _ => Rgb([255 - v, 200, v / 2]),
        }
    })
}

pub fn jpeg_of(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .unwrap();
    out
}

pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    jpeg_of(&picture(width, height, seed), 85)
}

pub fn png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            picture(width, height, seed).as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

pub fn webp(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture(width, height, seed)
        .write_to(&mut out, image::ImageFormat::WebP)
        .unwrap();
    out.into_inner()
}

#[derive(Default)]
pub struct Exif {
    pub orientation: Option<u16>,
    /// "YYYY:MM:DD HH:MM:SS" in the camera's local time.
    pub taken_at: Option<String>,
    pub offset: Option<String>,
    pub gps: Option<(f64, f64)>,
}

fn dms(value: f64) -> Vec<Rational> {
    let value = value.abs();
    let degrees = value.trunc();
    let minutes = ((value - degrees) * 60.0).trunc();
    let seconds = ((value - degrees) * 60.0 - minutes) * 60.0;
    vec![
        Rational::from((degrees as u32, 1)),
        Rational::from((minutes as u32, 1)),
        Rational::from(((seconds * 10_000.0).round() as u32, 10_000)),
    ]
}

/// Puts an EXIF APP1 segment right after the JPEG's SOI marker.
pub fn with_exif(jpeg: &[u8], exif: &Exif) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(orientation) = exif.orientation {
        fields.push(Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![orientation]),
        });
    }
    if let Some(taken) = &exif.taken_at {
        fields.push(Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![taken.clone().into_bytes()]),
        });
    }
    if let Some(offset) = &exif.offset {
        fields.push(Field {
            tag: Tag::OffsetTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![offset.clone().into_bytes()]),
        });
    }
    if let Some((lat, lon)) = exif.gps {
        let lat_ref = if lat < 0.0 { "S" } else { "N" };
        let lon_ref = if lon < 0.0 { "W" } else { "E" };
        fields.push(Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![lat_ref.into()]),
        });
        fields.push(Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(lat)),
        });
        fields.push(Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![lon_ref.into()]),
        });
        fields.push(Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(lon)),
        });
    }
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let length = u16::try_from(tiff.len() + 8).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small, valid PNG whose header (with a correct CRC) claims `width` × `height`.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8, 0);
    // IHDR data starts after the 8-byte signature, 4-byte length and 4-byte type.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A PNG of noise, which does not compress: about 3 bytes a pixel, for files larger than a
/// part of a direct upload.
pub fn noise_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = u64::from(seed) | 1;
    let noise = RgbImage::from_fn(width, height, |_, _| {
        // xorshift64: cheap and good enough to defeat deflate.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        Rgb([r, g, b])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            noise.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}
