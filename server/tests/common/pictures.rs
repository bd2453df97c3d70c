//! Pictures the media and avatar suites upload: encoded test images, a
//! camera-style EXIF block (orientation 6 and a planted "GPS" text), and a
//! decompression bomb.

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, ImageFormat};

/// Text planted in a photo's EXIF, as a camera puts its GPS position.
pub const SECRET: &str = "GPS 52.5200N 13.4050E";

/// `img` encoded as `format`.
pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A TIFF-style EXIF block: orientation 6 (turn 90° clockwise to show) and
/// an ImageDescription holding [`SECRET`].
pub fn exif() -> Vec<u8> {
    let mut text = SECRET.as_bytes().to_vec();
    text.push(0);
    let mut e = b"II*\0".to_vec();
    e.extend_from_slice(&8u32.to_le_bytes());
    e.extend_from_slice(&2u16.to_le_bytes());
    // ImageDescription, ASCII, count, offset of the text (after the IFD).
    e.extend_from_slice(&0x010eu16.to_le_bytes());
    e.extend_from_slice(&2u16.to_le_bytes());
    e.extend_from_slice(&(text.len() as u32).to_le_bytes());
    e.extend_from_slice(&38u32.to_le_bytes());
    // Orientation, SHORT, 1, value 6.
    e.extend_from_slice(&0x0112u16.to_le_bytes());
    e.extend_from_slice(&3u16.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&6u16.to_le_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_le_bytes());
    e.extend_from_slice(&text);
    e
}

/// `img` as a JPEG of `quality` carrying [`exif`].
pub fn camera_jpeg_of(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    enc.set_exif_metadata(exif()).unwrap();
    img.write_with_encoder(enc).unwrap();
    out
}

/// `img` as a small JPEG whose header claims 60000×60000 pixels (3.6
/// gigapixels).
pub fn bomb_of(img: &DynamicImage) -> Vec<u8> {
    let mut jpeg = encode(img, ImageFormat::Jpeg);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("a baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    jpeg[sof + 5..sof + 7].copy_from_slice(&60000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60000u16.to_be_bytes());
    jpeg
}
