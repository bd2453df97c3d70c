//! Media messages in the browser, the parts that are not components:
//!
//! - here, pure rules shared by server rendering and the browser (unit
//!   tested on the host): how big an image or video bubble is before its
//!   file loads, how wide a voice bar is for its duration, which voice clips
//!   were played, which recording format to ask MediaRecorder for, and the
//!   upload URL of each kind;
//! - [`upload`] (browser only): the upload of a file with progress, over
//!   `XMLHttpRequest` (fetch and gloo-net report no upload progress);
//! - [`recorder`] (browser only): voice recording with `MediaRecorder`;
//! - [`player`]: plays one voice clip at a time and remembers which were
//!   played (the audio itself in the browser only).

pub mod player;
#[cfg(feature = "hydrate")]
pub mod recorder;
#[cfg(feature = "hydrate")]
pub mod upload;

/// The code that runs only when someone sends media (recording, uploading)
/// as `#[lazy]` functions: each is a wasm chunk of its own, fetched the
/// first time it is called, so the first page load does not carry it.
#[cfg(feature = "hydrate")]
pub mod on_demand {
    use leptos::prelude::lazy;
    use teahouse_protocol::MediaRef;
    use wasm_bindgen::JsValue;
    use web_sys::Blob;

    use super::recorder::{Clip, Recording};
    use super::{Failure, MediaKind};

    /// [`upload::upload`](super::upload::upload), loaded on first use.
    #[lazy]
    pub async fn upload(
        file: Blob,
        kind: MediaKind,
        duration_ms: Option<u32>,
        on_progress: Box<dyn Fn(u32)>,
    ) -> Result<MediaRef, Failure> {
        super::upload::upload(&file, kind, duration_ms, on_progress).await
    }

    /// [`upload::upload_avatar`](super::upload::upload_avatar), loaded on
    /// first use.
    #[lazy]
    pub async fn upload_avatar(
        file: Blob,
        on_progress: Box<dyn Fn(u32)>,
    ) -> Result<teahouse_protocol::UserBrief, Failure> {
        super::upload::upload_avatar(&file, on_progress).await
    }

    /// [`recorder::start`](super::recorder::start), loaded on first use.
    #[lazy]
    pub async fn start_recording() -> Result<Recording, JsValue> {
        super::recorder::start().await
    }

    /// [`Recording::finish`], loaded on first use.
    #[lazy]
    pub async fn finish_recording(recording: Recording) -> Option<Clip> {
        recording.finish().await
    }
}

use teahouse_protocol::{ErrorCode, Lang, MediaId};

/// The kind of file an upload is (the `{kind}` of `POST /api/upload/{kind}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Voice,
    Video,
}

impl MediaKind {
    /// The path segment of the upload route.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
        }
    }

    /// What a picked, pasted or dropped file is sent as, by the type the
    /// browser guesses for it: videos as video, anything else as an image
    /// (the server sniffs the bytes and refuses what is neither, with its own
    /// message; the browser's guess decides nothing else).
    pub fn of_file_type(mime: &str) -> MediaKind {
        if mime.starts_with("video/") {
            MediaKind::Video
        } else {
            MediaKind::Image
        }
    }
}

/// Where a file of `kind` is uploaded: voice and video say how long they
/// play (the server checks it against its limit).
pub fn upload_url(kind: MediaKind, duration_ms: Option<u32>) -> String {
    match (kind, duration_ms) {
        (MediaKind::Image, _) | (_, None) => format!("/api/upload/{}", kind.as_str()),
        (_, Some(ms)) => format!("/api/upload/{}?duration_ms={ms}", kind.as_str()),
    }
}

/// The URL of a stored file.
pub fn media_url(id: &MediaId) -> String {
    format!("/media/{id}")
}

/// The URL of an image's thumbnail (longest side at most 480 px).
pub fn thumb_url(id: &MediaId) -> String {
    format!("/media/{id}/thumb")
}

/// The box an image bubble fits in, in CSS pixels (WeChat shows photos at
/// about this size; the thumbnail's 480 px covers it at 2x).
pub const IMAGE_BOX: (u32, u32) = (200, 200);
/// The box a video bubble fits in.
pub const VIDEO_BOX: (u32, u32) = (240, 240);
/// The shortest side a bubble is given, so that a panorama or a thin strip
/// stays tappable (the picture is cropped to it: `object-fit: cover`).
pub const MIN_SIDE: u32 = 48;

/// The size an image or video bubble is laid out at before its file loads:
/// the file's own size scaled down (never up) into `max`, each side at
/// least [`MIN_SIDE`]. Without a known size (a video the server could not
/// measure) it is a 16:9 box as wide as `max`.
pub fn fit_in_box(size: Option<(u32, u32)>, max: (u32, u32)) -> (u32, u32) {
    let (w, h) = match size {
        Some((w, h)) if w > 0 && h > 0 => (w, h),
        _ => return (max.0, max.0 * 9 / 16),
    };
    // Integer arithmetic, the same on server and browser (the rendered
    // attributes must match for hydration).
    let (w, h, mw, mh) = (
        u64::from(w),
        u64::from(h),
        u64::from(max.0),
        u64::from(max.1),
    );
    let (fw, fh) = if w <= mw && h <= mh {
        (w, h)
    } else if w * mh >= h * mw {
        // Wider than the box: the width decides.
        (mw, (h * mw + w / 2) / w)
    } else {
        ((w * mh + h / 2) / h, mh)
    };
    let side = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).max(MIN_SIDE);
    (side(fw), side(fh))
}

/// How many widths a voice bar has (classes `voice-w0` … `voice-w9` in the
/// style sheet: the Content-Security-Policy allows no inline styles).
pub const VOICE_WIDTHS: u32 = 10;

/// Which width a voice bar of `duration_ms` gets, as WeChat does it: it grows
/// by a step every 2 s up to 10 s, then every 10 s up to 60 s, and stays
/// at the widest beyond.
pub fn voice_width(duration_ms: u32) -> u32 {
    let secs = duration_ms.div_ceil(1000).max(1);
    let step = if secs <= 10 {
        (secs - 1) / 2
    } else {
        5 + (secs - 11) / 10
    };
    step.min(VOICE_WIDTHS - 1)
}

/// A voice clip's length as its bubble shows it: whole seconds, rounded
/// up, with WeChat's second mark (`7″`); a minute or more as `1′05″`.
pub fn voice_label(duration_ms: u32) -> String {
    let secs = duration_ms.div_ceil(1000);
    if secs < 60 {
        format!("{secs}″")
    } else {
        format!("{}′{:02}″", secs / 60, secs % 60)
    }
}

/// The voice clips this browser has played, newest last, so that their
/// unplayed dot stays gone after a reload. Kept in `localStorage` as the
/// ids joined by spaces; only the newest [`PlayedClips::KEEP`] are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayedClips {
    /// Played clip ids, oldest first.
    ids: Vec<MediaId>,
}

impl PlayedClips {
    /// How many played clips are remembered (older ones show their dot
    /// again, which only matters for clips nobody scrolls back to).
    pub const KEEP: usize = 500;
    /// The `localStorage` key.
    pub const STORAGE_KEY: &'static str = "teahouse.played_voice";

    /// Reads the stored form; anything that is not a media id is dropped
    /// (the value may have been edited by hand).
    pub fn parse(stored: &str) -> PlayedClips {
        let mut ids: Vec<MediaId> = stored
            .split_whitespace()
            .filter(|s| MediaId::is_well_formed(s))
            .map(|s| MediaId(s.to_owned()))
            .collect();
        let extra = ids.len().saturating_sub(Self::KEEP);
        ids.drain(..extra);
        PlayedClips { ids }
    }

    /// The stored form.
    pub fn serialize(&self) -> String {
        let ids: Vec<&str> = self.ids.iter().map(|id| id.0.as_str()).collect();
        ids.join(" ")
    }

    pub fn contains(&self, id: &MediaId) -> bool {
        self.ids.contains(id)
    }

    /// Marks `id` played; true if it was not already.
    pub fn insert(&mut self, id: MediaId) -> bool {
        if self.contains(&id) {
            return false;
        }
        self.ids.push(id);
        if self.ids.len() > Self::KEEP {
            self.ids.remove(0);
        }
        true
    }
}

/// Recording formats in the order they are asked for: Opus in WebM
/// (Chromium, Firefox), Opus in Ogg, then AAC in MP4 (Safari and iOS
/// webviews record only that). All are formats the server accepts.
pub const RECORDING_TYPES: [&str; 4] = [
    "audio/webm;codecs=opus",
    "audio/ogg;codecs=opus",
    "audio/mp4",
    "audio/webm",
];

/// The first of [`RECORDING_TYPES`] the browser can record
/// (`MediaRecorder.isTypeSupported`); `None` lets it choose.
pub fn pick_recording_type(supported: impl Fn(&str) -> bool) -> Option<&'static str> {
    RECORDING_TYPES.into_iter().find(|t| supported(t))
}

/// Shorter voice clips are not sent (WeChat: "说话时间太短").
pub const VOICE_MIN_MS: u32 = 1_000;
/// Recording stops by itself at this length (the server's default limit).
pub const VOICE_MAX_MS: u32 = 60_000;

/// How far (CSS px) a finger holding the talk button must slide up to
/// cancel the recording.
pub const CANCEL_SLIDE_PX: i32 = 60;

/// Why an upload or a send did not go through, as the failed bubble says it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// A code this build knows: localized here.
    Code(ErrorCode),
    /// A code this build does not know yet (e.g. a new upload limit): the
    /// server's own message in each language.
    Server {
        /// The stable code, as sent.
        code: String,
        /// The English message.
        en: String,
        /// The Chinese message.
        zh: String,
    },
}

impl Failure {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Failure::Code(code) => code.message(lang).to_owned(),
            Failure::Server { en, zh, .. } => match lang {
                Lang::Zh => zh.clone(),
                Lang::En => en.clone(),
            },
        }
    }

    /// The stable code (for `data-code`, as error notices carry it).
    pub fn code(&self) -> String {
        match self {
            Failure::Code(code) => code.as_str().to_owned(),
            Failure::Server { code, .. } => code.clone(),
        }
    }

    /// Reads an error answer of the upload route: the app's one error shape
    /// `{code, field?, message, message_zh}`; `status` decides when the body
    /// is not that shape (a proxy's page, an empty answer).
    pub fn from_answer(status: u16, body: &str) -> Failure {
        #[derive(serde::Deserialize)]
        struct Shape {
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            message_zh: String,
        }
        let Ok(shape) = serde_json::from_str::<Shape>(body) else {
            return Failure::Code(match status {
                401 => ErrorCode::Unauthenticated,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                429 => ErrorCode::RateLimited,
                400..=499 => ErrorCode::BadRequest,
                _ => ErrorCode::Internal,
            });
        };
        // The code as a JSON string, read as an `ErrorCode` (without
        // `serde_json::Value`, whose code the wasm does not otherwise need).
        let quoted = serde_json::to_string(&shape.code).unwrap_or_default();
        match serde_json::from_str::<ErrorCode>(&quoted) {
            Ok(code) => Failure::Code(code),
            Err(_) => Failure::Server {
                en: if shape.message.is_empty() {
                    shape.code.clone()
                } else {
                    shape.message
                },
                zh: if shape.message_zh.is_empty() {
                    shape.code.clone()
                } else {
                    shape.message_zh
                },
                code: shape.code,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_scale_down_into_the_box_keeping_their_shape() {
        // Landscape and portrait photos: the longer side meets the box.
        assert_eq!(fit_in_box(Some((4000, 3000)), (200, 200)), (200, 150));
        assert_eq!(fit_in_box(Some((3000, 4000)), (200, 200)), (150, 200));
        assert_eq!(fit_in_box(Some((1080, 1920)), (200, 200)), (113, 200));
        // Small pictures are not blown up.
        assert_eq!(fit_in_box(Some((64, 32)), (200, 200)), (64, 48));
        assert_eq!(fit_in_box(Some((120, 90)), (200, 200)), (120, 90));
        // A panorama keeps a tappable height (cropped by CSS).
        assert_eq!(fit_in_box(Some((10_000, 100)), (200, 200)), (200, MIN_SIDE));
        // Huge claimed sizes do not overflow.
        assert_eq!(
            fit_in_box(Some((u32::MAX, u32::MAX)), (200, 200)),
            (200, 200)
        );
    }

    #[test]
    fn an_unknown_size_gets_a_16_by_9_box() {
        assert_eq!(fit_in_box(None, (240, 240)), (240, 135));
        assert_eq!(fit_in_box(Some((0, 100)), (240, 240)), (240, 135));
    }

    #[test]
    fn voice_bars_grow_with_duration_and_stop_at_the_widest() {
        assert_eq!(voice_width(0), 0);
        assert_eq!(voice_width(1_000), 0);
        assert_eq!(voice_width(2_000), 0);
        assert_eq!(voice_width(2_001), 1);
        assert_eq!(voice_width(10_000), 4);
        assert_eq!(voice_width(11_000), 5);
        assert_eq!(voice_width(60_000), 9);
        assert_eq!(voice_width(600_000), VOICE_WIDTHS - 1);
        let widths: Vec<u32> = (0..=70).map(|s| voice_width(s * 1000)).collect();
        assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
        assert!(
            widths[5] < widths[40],
            "a 40 s clip is wider than a 5 s one"
        );
    }

    #[test]
    fn voice_labels_count_whole_seconds_up() {
        assert_eq!(voice_label(6_100), "7″");
        assert_eq!(voice_label(59_000), "59″");
        assert_eq!(voice_label(65_000), "1′05″");
    }

    #[test]
    fn played_clips_survive_their_stored_form_and_keep_the_newest() {
        let a = MediaId("a".repeat(26));
        let b = MediaId("b".repeat(26));
        let mut played = PlayedClips::default();
        assert!(played.insert(a.clone()));
        assert!(!played.insert(a.clone()), "already played");
        played.insert(b.clone());
        let back = PlayedClips::parse(&played.serialize());
        assert_eq!(back, played);
        assert!(back.contains(&a) && back.contains(&b));
        // Garbage in the stored value is dropped, not trusted.
        let edited = PlayedClips::parse(&format!("{} <script> {}", a.0, "x"));
        assert!(edited.contains(&a));
        assert_eq!(edited.serialize(), a.0);
        // Only the newest KEEP are remembered.
        let mut many = PlayedClips::default();
        let id = |n: usize| MediaId(format!("{:a>26}", to_base32(n)));
        for n in 0..PlayedClips::KEEP + 3 {
            many.insert(id(n));
        }
        assert!(!many.contains(&id(0)) && !many.contains(&id(2)));
        assert!(many.contains(&id(3)) && many.contains(&id(PlayedClips::KEEP + 2)));
        let reparsed = PlayedClips::parse(&many.serialize());
        assert_eq!(reparsed, many);
    }

    fn to_base32(mut n: usize) -> String {
        const DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut s = Vec::new();
        loop {
            s.push(DIGITS[n % 32]);
            n /= 32;
            if n == 0 {
                break;
            }
        }
        s.reverse();
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn recording_prefers_opus_and_falls_back_to_mp4_on_safari() {
        let chromium = |t: &str| t.starts_with("audio/webm");
        assert_eq!(
            pick_recording_type(chromium),
            Some("audio/webm;codecs=opus")
        );
        let safari = |t: &str| t == "audio/mp4";
        assert_eq!(pick_recording_type(safari), Some("audio/mp4"));
        assert_eq!(pick_recording_type(|_| false), None);
    }

    #[test]
    fn upload_urls_carry_the_duration_of_clips() {
        assert_eq!(upload_url(MediaKind::Image, None), "/api/upload/image");
        assert_eq!(upload_url(MediaKind::Image, Some(5)), "/api/upload/image");
        assert_eq!(
            upload_url(MediaKind::Voice, Some(7_250)),
            "/api/upload/voice?duration_ms=7250"
        );
        assert_eq!(
            upload_url(MediaKind::Video, Some(1)),
            "/api/upload/video?duration_ms=1"
        );
        assert_eq!(MediaKind::of_file_type("video/mp4"), MediaKind::Video);
        assert_eq!(MediaKind::of_file_type("image/png"), MediaKind::Image);
        assert_eq!(MediaKind::of_file_type(""), MediaKind::Image);
    }

    #[test]
    fn upload_errors_keep_the_servers_message_for_codes_this_build_does_not_know() {
        let known = r#"{"code":"forbidden","message":"x","message_zh":"y"}"#;
        assert_eq!(
            Failure::from_answer(403, known),
            Failure::Code(ErrorCode::Forbidden)
        );
        let new = r#"{"code":"media_from_the_future","field":"file","message":"The file is too large","message_zh":"文件太大"}"#;
        let f = Failure::from_answer(413, new);
        assert_eq!(f.code(), "media_from_the_future");
        assert_eq!(f.message(Lang::En), "The file is too large");
        assert_eq!(f.message(Lang::Zh), "文件太大");
        // Not the app's shape: the status decides.
        assert_eq!(
            Failure::from_answer(413, "<html>too big</html>"),
            Failure::Code(ErrorCode::BadRequest)
        );
        assert_eq!(
            Failure::from_answer(502, ""),
            Failure::Code(ErrorCode::Internal)
        );
    }
}
