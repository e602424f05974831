//! Decode small, resize once, encode fast. JPEGs are decoded at 1/2, 1/4 or 1/8 scale
//! straight from the DCT (shrink-on-load, as libvips does), so a 48 MP photo never exists
//! in memory at full size; the thumbnail is made from the preview, not from the original.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use sha2::{Digest, Sha256};

use super::exif::{self, ExifFacts};
use super::phash::dhash;
use super::{ImageFormat, MAX_SIDE, PhotoError, sniff};

pub const PREVIEW_SIDE: u32 = 1280;
pub const THUMBNAIL_SIDE: u32 = 320;
const JPEG_QUALITY: u8 = 82;
/// Allocation cap for PNG/WebP decoding: a 40 MP 16-bit RGBA image and some slack.
const MAX_DECODE_ALLOC: u64 = 400 * 1024 * 1024;

#[derive(Debug)]
pub struct ProcessedPhoto {
    pub format: ImageFormat,
    /// Of the original as displayed (orientation applied).
    pub width: u32,
    pub height: u32,
    pub exif: ExifFacts,
    pub preview: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub phash: u64,
}

/// The whole pipeline, refusing images over `max_pixels` (uploads use `MAX_PIXELS`).
/// Never panics on bad input: a panic deep in a decoder is caught and reported as a
/// corrupt image.
pub fn process(
    bytes: &[u8],
    city: chrono_tz::Tz,
    max_pixels: u64,
) -> Result<ProcessedPhoto, PhotoError> {
    std::panic::catch_unwind(|| process_unguarded(bytes, city, max_pixels))
        .unwrap_or_else(|_| Err(PhotoError::Corrupt("decoder failure".into())))
}

fn process_unguarded(
    bytes: &[u8],
    city: chrono_tz::Tz,
    max_pixels: u64,
) -> Result<ProcessedPhoto, PhotoError> {
    let format = sniff(bytes)?;
    let exif = exif::read(bytes, format, city);
    let orientation = u8::try_from(exif.orientation)
        .ok()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let (decoded, width, height) = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, max_pixels)?,
        ImageFormat::Png | ImageFormat::WebP => decode_other(bytes, format, max_pixels)?,
    };

    let mut preview = DynamicImage::ImageRgb8(fit_within(decoded, PREVIEW_SIDE)?);
    preview.apply_orientation(orientation);
    let preview = preview.into_rgb8();
    let thumbnail = fit_within(preview.clone(), THUMBNAIL_SIDE)?;
    let gray: Vec<u8> = thumbnail.pixels().map(|p| luma(p.0)).collect();
    let phash = dhash(
        &gray,
        thumbnail.width() as usize,
        thumbnail.height() as usize,
    );

    let swaps_sides = matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    );
    let (width, height) = if swaps_sides {
        (height, width)
    } else {
        (width, height)
    };
    Ok(ProcessedPhoto {
        format,
        width,
        height,
        exif,
        preview: encode_jpeg(&preview)?,
        thumbnail: encode_jpeg(&thumbnail)?,
        phash,
    })
}

fn check_size(width: u32, height: u32, max_pixels: u64) -> Result<(), PhotoError> {
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt("image has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > max_pixels {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    Ok(())
}

/// Reads the header, refuses by declared size, then decodes at the smallest DCT scale that
/// still covers the preview. Returns the pixels and the original's size.
fn decode_jpeg(bytes: &[u8], max_pixels: u64) -> Result<(RgbImage, u32, u32), PhotoError> {
    let corrupt = |err: jpeg_decoder::Error| PhotoError::Corrupt(err.to_string());
    if !ends_after_last_scan(bytes) {
        // The decoder would pad a cut-off upload with grey; evidence must be whole.
        return Err(PhotoError::Corrupt(
            "JPEG is truncated (no end marker)".into(),
        ));
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(corrupt)?;
    let info = decoder
        .info()
        .ok_or_else(|| PhotoError::Corrupt("no JPEG frame".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_size(width, height, max_pixels)?;
    let side = u16::try_from(PREVIEW_SIDE).unwrap_or(u16::MAX);
    let (out_w, out_h) = decoder.scale(side, side).map_err(corrupt)?;
    let pixels = decoder.decode().map_err(corrupt)?;
    let info = decoder
        .info()
        .ok_or_else(|| PhotoError::Corrupt("no JPEG frame".into()))?;
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|v| [v[0], v[0], v[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [0, 1, 2].map(|i| ((u16::from(p[i]) * k) / 255) as u8)
            })
            .collect(),
    };
    let image = RgbImage::from_raw(u32::from(out_w), u32::from(out_h), rgb)
        .ok_or_else(|| PhotoError::Corrupt("truncated JPEG data".into()))?;
    Ok((image, width, height))
}

/// Whether an end-of-image marker follows the last start-of-scan. Entropy-coded data
/// cannot contain either marker, and an embedded EXIF thumbnail's markers come before the
/// main image's scans.
fn ends_after_last_scan(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, last_end), (Some(scan), Some(end)) if end > scan)
}

fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<(RgbImage, u32, u32), PhotoError> {
    let image_format = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        _ => image::ImageFormat::WebP,
    };
    let corrupt = |err: image::ImageError| PhotoError::Corrupt(err.to_string());
    let stripped;
    let bytes = if format == ImageFormat::Png {
        stripped = png_critical_chunks(bytes)?;
        &stripped[..]
    } else {
        bytes
    };
    let (width, height) = image::ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_dimensions()
        .map_err(corrupt)?;
    check_size(width, height, max_pixels)?;
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let decoded = reader.decode().map_err(corrupt)?;
    Ok((decoded.into_rgb8(), width, height))
}

/// The PNG with only the chunks that make its pixels (the critical ones). Ancillary
/// chunks are never needed here, and some are compressed: a 200 KiB iCCP or zTXt chunk can
/// inflate to hundreds of megabytes inside the decoder.
fn png_critical_chunks(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let truncated = || PhotoError::Corrupt("png: truncated chunk".into());
    let mut rest = bytes.strip_prefix(SIGNATURE).ok_or_else(truncated)?;
    let mut kept = Vec::with_capacity(bytes.len());
    kept.extend_from_slice(SIGNATURE);
    while !rest.is_empty() {
        let header = rest.get(..8).ok_or_else(truncated)?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        // Length, type, data and CRC.
        let whole = length.checked_add(12).ok_or_else(truncated)?;
        let chunk = rest.get(..whole).ok_or_else(truncated)?;
        let kind = &header[4..8];
        // Bit 5 of the first letter: clear for critical chunks (IHDR, PLTE, IDAT, IEND).
        if kind[0] & 0x20 == 0 {
            kept.extend_from_slice(chunk);
        }
        rest = &rest[whole..];
        if kind == b"IEND" {
            break;
        }
    }
    Ok(kept)
}

/// The SHA-256 of a file, in hex: the evidence's identity, computed once per upload
/// (before processing, so a photo sent again is known without decoding it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Scales down so the longer side is at most `side` (never up), with Lanczos3.
fn fit_within(image: RgbImage, side: u32) -> Result<RgbImage, PhotoError> {
    let (w, h) = image.dimensions();
    let longest = w.max(h);
    if longest <= side {
        return Ok(image);
    }
    let scale = f64::from(side) / f64::from(longest);
    let new_w = ((f64::from(w) * scale).round() as u32).max(1);
    let new_h = ((f64::from(h) * scale).round() as u32).max(1);
    let failed = |what: &str| PhotoError::Corrupt(format!("resize: {what}"));
    let src = Image::from_vec_u8(w, h, image.into_raw(), PixelType::U8x3)
        .map_err(|e| failed(&e.to_string()))?;
    let mut dst = Image::new(new_w, new_h, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(|e| failed(&e.to_string()))?;
    RgbImage::from_raw(new_w, new_h, dst.into_vec()).ok_or_else(|| failed("buffer size"))
}

fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, PhotoError> {
    let (w, h) = image.dimensions();
    let too_big = || PhotoError::Corrupt("derived image too large to encode".into());
    let (w, h) = (
        u16::try_from(w).map_err(|_| too_big())?,
        u16::try_from(h).map_err(|_| too_big())?,
    );
    let mut out = Vec::with_capacity(usize::from(w) * usize::from(h) / 4);
    jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY)
        .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Corrupt(format!("encode: {e}")))?;
    Ok(out)
}

fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::MAX_PIXELS;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        });
        encode_jpeg(&image).unwrap()
    }

    #[test]
    fn a_large_jpeg_becomes_a_preview_and_a_thumbnail() {
        let processed = process(&jpeg(2000, 1000), chrono_tz::Asia::Shanghai, MAX_PIXELS).unwrap();
        assert_eq!((processed.width, processed.height), (2000, 1000));
        let preview = image::load_from_memory(&processed.preview).unwrap();
        assert_eq!((preview.width(), preview.height()), (1280, 640));
        let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
        assert_eq!(sha256_hex(&jpeg(2000, 1000)).len(), 64);
    }

    #[test]
    fn a_small_image_is_not_enlarged() {
        let processed = process(&jpeg(200, 100), chrono_tz::Asia::Shanghai, MAX_PIXELS).unwrap();
        let preview = image::load_from_memory(&processed.preview).unwrap();
        assert_eq!((preview.width(), preview.height()), (200, 100));
    }

    #[test]
    fn a_header_claiming_too_many_pixels_is_refused_before_decoding() {
        // A valid JPEG whose SOF0 is patched to claim 10000 x 10000.
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 7].copy_from_slice(&10000u16.to_be_bytes());
        bytes[sof + 7..sof + 9].copy_from_slice(&10000u16.to_be_bytes());
        assert_eq!(
            process(&bytes, chrono_tz::Asia::Shanghai, MAX_PIXELS).unwrap_err(),
            PhotoError::TooManyPixels {
                width: 10000,
                height: 10000
            }
        );
    }

    #[test]
    fn truncated_and_garbage_jpegs_are_corrupt_not_panics() {
        let bytes = jpeg(64, 64);
        for cut in [3, 20, 200, bytes.len() / 2, bytes.len() - 2] {
            let result = process(&bytes[..cut], chrono_tz::Asia::Shanghai, MAX_PIXELS);
            assert!(
                matches!(result, Err(PhotoError::Corrupt(_))),
                "cut at {cut}"
            );
        }
        let mut garbage = vec![0xFF, 0xD8, 0xFF];
        garbage.extend(std::iter::repeat_n(0xAB, 500));
        assert!(matches!(
            process(&garbage, chrono_tz::Asia::Shanghai, MAX_PIXELS),
            Err(PhotoError::Corrupt(_))
        ));
    }

    fn png_with_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let image = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut png = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // After the signature (8) and IHDR (8 + 13 + 4).
        let at = 8 + 25;
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        chunk.extend_from_slice(&crc.finalize().to_be_bytes());
        png.splice(at..at, chunk);
        png
    }

    #[test]
    fn ancillary_png_chunks_are_dropped_before_decoding() {
        let png = png_with_chunk(b"zTXt", b"Comment\0\0\x78\x9c\x03\x00\x00\x00\x00\x01");
        let kept = png_critical_chunks(&png).unwrap();
        assert!(png.windows(4).any(|w| w == b"zTXt"));
        assert!(!kept.windows(4).any(|w| w == b"zTXt"));
        assert!(kept.windows(4).any(|w| w == b"IDAT"));
        let processed = process(&png, chrono_tz::Asia::Shanghai, MAX_PIXELS).unwrap();
        assert_eq!((processed.width, processed.height), (64, 48));
    }

    #[test]
    fn a_png_chunk_claiming_more_than_the_file_is_corrupt() {
        let mut png = png_with_chunk(b"tEXt", b"a\0b");
        png[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            process(&png, chrono_tz::Asia::Shanghai, MAX_PIXELS),
            Err(PhotoError::Corrupt(_))
        ));
    }
}
