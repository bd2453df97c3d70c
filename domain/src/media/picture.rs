//! Pictures: decoded with explicit limits, turned the way they are shown,
//! re-encoded without metadata, and thumbnailed. Synchronous and
//! CPU-heavy: [`super::service`] runs it on the bounded decode pool.
//!
//! Why re-encode instead of stripping EXIF segments: a re-encoded file
//! carries pixels only (no EXIF with its GPS position, no XMP, no comments)
//! whatever the format and whatever a crafted file hides where; and the
//! EXIF orientation is applied to the pixels, so the width and height we
//! store are those every browser shows. The cost is a second JPEG
//! generation (quality 90) and the CPU of one encode. GIFs are kept as
//! uploaded (animation; GIF has no EXIF); WebP is re-encoded losslessly
//! (the only WebP encoder the `image` crate has), and only its first frame
//! is kept.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use teahouse_protocol::ErrorCode;
use tempfile::TempPath;

use super::{MediaConfig, MediaFiles};
use crate::{DomainError, Result};

/// JPEG quality of the re-encoded original.
const SHOWN_QUALITY: u8 = 90;
/// JPEG quality of thumbnails.
const THUMB_QUALITY: u8 = 80;

/// A processed picture.
#[derive(Debug)]
pub struct Picture {
    /// Width as shown (orientation applied).
    pub width: u32,
    /// Height as shown.
    pub height: u32,
    /// The file to serve, re-encoded; None to serve the upload as it is (GIF).
    pub shown: Option<TempPath>,
    /// The thumbnail (JPEG, longest side at most `thumb_side`).
    pub thumb: TempPath,
}

/// Decodes the picture at `src` (of sniffed type `mime`) within `config`'s
/// limits and writes its shown copy and thumbnail as temporary files.
pub fn process(
    src: &Path,
    mime: &str,
    config: &MediaConfig,
    files: &MediaFiles,
) -> Result<Picture> {
    let (picture, format) = decode(src, mime, config)?;
    let (width, height) = (picture.width(), picture.height());

    let shown = match format {
        ImageFormat::Gif => None,
        _ => Some(write_temp(files, |out| {
            encode_shown(&picture, format, out)
        })?),
    };
    let side = config.thumb_side.max(1);
    let small = if width > side || height > side {
        picture.thumbnail(side, side)
    } else {
        picture.clone()
    };
    let thumb = write_temp(files, |out| {
        flatten(&small).write_with_encoder(JpegEncoder::new_with_quality(out, THUMB_QUALITY))
    })?;
    Ok(Picture {
        width,
        height,
        shown,
        thumb,
    })
}

/// Decodes the picture at `src` (of sniffed type `mime`) within `config`'s
/// limits (a header claiming too many pixels is refused before any pixel
/// is decoded) and turns it by its EXIF orientation: the pixels as shown,
/// and the format they came in (the first frame of an animation).
pub(crate) fn decode(
    src: &Path,
    mime: &str,
    config: &MediaConfig,
) -> Result<(DynamicImage, ImageFormat)> {
    let format = match mime {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        _ => return Err(DomainError::code(ErrorCode::MediaTypeUnsupported)),
    };
    if format == ImageFormat::Jpeg && !jpeg_is_complete(src)? {
        return Err(DomainError::code(ErrorCode::MediaUndecodable));
    }
    let file = std::fs::File::open(src)
        .map_err(|e| DomainError::Internal(format!("opening an upload: {e}")))?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(config.image_max_side);
    limits.max_image_height = Some(config.image_max_side);
    limits.max_alloc = Some(config.decode_max_alloc);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > config.image_max_pixels {
        return Err(DomainError::code(ErrorCode::MediaDimensionsTooLarge));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    picture.apply_orientation(orientation);
    Ok((picture, format))
}

/// Whether the JPEG at `path` has its end: an EOI marker (FF D9) after its
/// last start-of-scan (FF DA). The decoder fills a cut-off picture with
/// grey instead of failing, so a truncated upload would otherwise be
/// stored. Inside scan data an FF byte is always followed by 00 or a
/// restart marker, so neither marker can appear there by chance; an EXIF
/// thumbnail's own scan and EOI come before the main picture's scan.
fn jpeg_is_complete(path: &Path) -> Result<bool> {
    let bytes = std::fs::read(path)
        .map_err(|e| DomainError::Internal(format!("reading an upload: {e}")))?;
    let Some(last_scan) = bytes.windows(2).rposition(|w| w == [0xff, 0xda]) else {
        return Ok(false);
    };
    Ok(bytes[last_scan..].windows(2).any(|w| w == [0xff, 0xd9]))
}

/// Encodes the shown copy in the upload's own format.
fn encode_shown(
    picture: &DynamicImage,
    format: ImageFormat,
    out: &mut dyn Write,
) -> image::ImageResult<()> {
    match format {
        ImageFormat::Jpeg => {
            flatten(picture).write_with_encoder(JpegEncoder::new_with_quality(out, SHOWN_QUALITY))
        }
        ImageFormat::Png => picture.write_with_encoder(PngEncoder::new(out)),
        _ => {
            let pixels = if picture.color().has_alpha() {
                DynamicImage::ImageRgba8(picture.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(picture.to_rgb8())
            };
            pixels.write_with_encoder(WebPEncoder::new_lossless(out))
        }
    }
}

/// RGB pixels for JPEG: transparent parts become white (as chat
/// backgrounds are), not black.
pub(crate) fn flatten(picture: &DynamicImage) -> DynamicImage {
    if !picture.color().has_alpha() {
        return DynamicImage::ImageRgb8(picture.to_rgb8());
    }
    let rgba = picture.to_rgba8();
    let rgb = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    });
    DynamicImage::ImageRgb8(rgb)
}

/// Writes a temporary file with `encode`; removed again if encoding fails.
pub(crate) fn write_temp(
    files: &MediaFiles,
    encode: impl FnOnce(&mut dyn Write) -> image::ImageResult<()>,
) -> Result<TempPath> {
    let (file, path) = files.temp()?.into_parts();
    let mut out = BufWriter::new(file);
    encode(&mut out).map_err(|e| DomainError::Internal(format!("encoding a picture: {e}")))?;
    out.flush()
        .map_err(|e| DomainError::Internal(format!("writing a picture: {e}")))?;
    Ok(path)
}

/// What the client is told about a picture that does not decode.
fn refusal(e: ImageError) -> DomainError {
    match e {
        ImageError::Limits(l) => match l.kind() {
            LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory => {
                DomainError::code(ErrorCode::MediaDimensionsTooLarge)
            }
            _ => DomainError::Internal(format!("decoder limits: {l}")),
        },
        ImageError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
            DomainError::Internal(format!("reading an upload: {e}"))
        }
        _ => DomainError::code(ErrorCode::MediaUndecodable),
    }
}
