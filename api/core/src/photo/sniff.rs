//! The format is read from the first bytes; names and declared types are not believed.

use super::PhotoError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    WebP,
}

impl ImageFormat {
    /// Every format taken.
    pub const ALL: [ImageFormat; 3] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP];

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::WebP => "image/webp",
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, PhotoError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(ImageFormat::WebP);
    }
    let brand = bytes.get(4..12);
    let unsupported = match brand {
        Some(b) if b.starts_with(b"ftyp") => match &b[4..8] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => "HEIC/HEIF",
            b"avif" | b"avis" => "AVIF",
            _ => "an ISO media file (video?)",
        },
        _ if bytes.starts_with(b"GIF8") => "GIF",
        _ if bytes.starts_with(b"BM") => "BMP",
        _ if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") => "TIFF",
        _ if bytes.starts_with(b"%PDF") => "PDF",
        _ => "not an image",
    };
    Err(PhotoError::UnsupportedFormat(unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_magic_bytes() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Ok(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(ImageFormat::Png)
        );
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(ImageFormat::WebP));
    }

    #[test]
    fn heic_and_others_are_named_in_the_refusal() {
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Err(PhotoError::UnsupportedFormat("HEIC/HEIF"))
        );
        assert_eq!(
            sniff(b"GIF89a...."),
            Err(PhotoError::UnsupportedFormat("GIF"))
        );
        assert_eq!(
            sniff(b"hello, I am text.jpg"),
            Err(PhotoError::UnsupportedFormat("not an image"))
        );
        assert_eq!(
            sniff(b""),
            Err(PhotoError::UnsupportedFormat("not an image"))
        );
    }
}
