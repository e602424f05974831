//! Photo evidence processing, pure and synchronous (run it on the blocking pool): recognise
//! the format from the bytes, refuse bombs by their declared size before decoding, read
//! EXIF, make a 1280 px preview and a 320 px thumbnail (orientation applied, metadata
//! stripped) and a perceptual hash.

mod exif;
mod phash;
mod pipeline;
mod sniff;

pub use exif::ExifFacts;
pub use phash::{SIMILAR_MAX_DISTANCE, hamming, phash_bands};
pub use pipeline::{PREVIEW_SIDE, ProcessedPhoto, THUMBNAIL_SIDE, process, sha256_hex};
pub use sniff::{ImageFormat, sniff};

/// Limits on what a phone may upload.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_PIXELS: u64 = 40_000_000;
/// No side longer than this, whatever the pixel count (a 1 × 40 000 000 strip is no photo).
pub const MAX_SIDE: u32 = 16_384;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(&'static str),
    #[error("image is {width}x{height}, more than the limit")]
    TooManyPixels { width: u32, height: u32 },
    #[error("image cannot be decoded: {0}")]
    Corrupt(String),
}
