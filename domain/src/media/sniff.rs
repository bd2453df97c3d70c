//! The type of an upload, from its first bytes (the `infer` crate's magic
//! number matchers), for the kind of upload it came as. The client's
//! `Content-Type` and file name are never looked at.
//!
//! Accepted: images JPEG, PNG, GIF, WebP; voice WebM (Opus), Ogg Opus and
//! MP4/AAC (`audio/mp4`, what iOS webviews record); video MP4 and WebM. The
//! same WebM bytes are `audio/webm` as voice and `video/webm` as video.
//! Everything else (SVG, HTML, PDF, ZIP, plain Ogg Vorbis, …) is
//! `media_type_unsupported`.

use teahouse_protocol::ErrorCode;

use super::MediaKind;
use crate::{DomainError, Result};

/// How many leading bytes [`sniff`] needs (WebM's doctype may sit up to
/// 256 bytes in).
pub const HEAD_LEN: usize = 4096;

/// The MIME type of an upload of `kind` whose file starts with `head`.
pub fn sniff(kind: MediaKind, head: &[u8]) -> Result<&'static str> {
    use infer::{audio, image, video};
    let mime = match kind {
        MediaKind::Image => {
            if image::is_jpeg(head) {
                Some("image/jpeg")
            } else if image::is_png(head) {
                Some("image/png")
            } else if image::is_gif(head) {
                Some("image/gif")
            } else if image::is_webp(head) {
                Some("image/webp")
            } else {
                None
            }
        }
        MediaKind::Voice => {
            if video::is_webm(head) {
                Some("audio/webm")
            } else if audio::is_ogg_opus(head) {
                Some("audio/ogg")
            } else if audio::is_m4a(head) || video::is_mp4(head) {
                Some("audio/mp4")
            } else {
                None
            }
        }
        MediaKind::Video => {
            if video::is_mp4(head) || video::is_m4v(head) {
                Some("video/mp4")
            } else if video::is_webm(head) {
                Some("video/webm")
            } else {
                None
            }
        }
    };
    mime.ok_or_else(|| DomainError::code(ErrorCode::MediaTypeUnsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(kind: MediaKind, bytes: &[u8]) -> bool {
        matches!(sniff(kind, bytes), Err(DomainError::Rejected(e)) if e.code == ErrorCode::MediaTypeUnsupported)
    }

    /// An EBML header with the given doctype, padded past infer's 256 bytes.
    fn ebml(doctype: &[u8]) -> Vec<u8> {
        let mut v = vec![
            0x1a,
            0x45,
            0xdf,
            0xa3,
            0x9f,
            0x42,
            0x82,
            0x80 | doctype.len() as u8,
        ];
        v.extend_from_slice(doctype);
        v.resize(300, 0);
        v
    }

    #[test]
    fn the_bytes_decide_not_the_name() {
        assert_eq!(
            sniff(MediaKind::Image, b"\x89PNG\r\n\x1a\n0000").unwrap(),
            "image/png"
        );
        assert_eq!(
            sniff(MediaKind::Image, b"\xff\xd8\xff\xe0000").unwrap(),
            "image/jpeg"
        );
        assert_eq!(
            sniff(MediaKind::Image, b"GIF89a000000").unwrap(),
            "image/gif"
        );
        for hostile in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"[..],
            b"<!DOCTYPE html><html><script>alert(1)</script>",
            b"%PDF-1.7\n",
            b"PK\x03\x04zip",
            b"",
        ] {
            assert!(refused(MediaKind::Image, hostile));
            assert!(refused(MediaKind::Voice, hostile));
            assert!(refused(MediaKind::Video, hostile));
        }
    }

    #[test]
    fn webm_is_audio_as_voice_and_video_as_video() {
        let webm = ebml(b"webm");
        assert_eq!(sniff(MediaKind::Voice, &webm).unwrap(), "audio/webm");
        assert_eq!(sniff(MediaKind::Video, &webm).unwrap(), "video/webm");
        assert!(refused(MediaKind::Image, &webm));
        // Matroska that is not WebM is not accepted.
        assert!(refused(MediaKind::Video, &ebml(b"matroska")));
    }

    #[test]
    fn mp4_recordings_are_audio_mp4_as_voice() {
        let mut m4a = b"\0\0\0\x1cftypM4A \0\0\0\0".to_vec();
        m4a.resize(64, 0);
        let mut mp4 = b"\0\0\0\x1cftypisom\0\0\x02\0".to_vec();
        mp4.resize(64, 0);
        assert_eq!(sniff(MediaKind::Voice, &m4a).unwrap(), "audio/mp4");
        assert_eq!(sniff(MediaKind::Voice, &mp4).unwrap(), "audio/mp4");
        assert_eq!(sniff(MediaKind::Video, &mp4).unwrap(), "video/mp4");
    }

    #[test]
    fn only_opus_in_ogg() {
        let mut opus = b"OggS\0\x02".to_vec();
        opus.resize(28, 0);
        opus.extend_from_slice(b"OpusHead\x01\x01");
        let mut vorbis = b"OggS\0\x02".to_vec();
        vorbis.resize(28, 0);
        vorbis.extend_from_slice(b"\x01vorbis\0\0\0");
        assert_eq!(sniff(MediaKind::Voice, &opus).unwrap(), "audio/ogg");
        assert!(refused(MediaKind::Voice, &vorbis));
    }
}
