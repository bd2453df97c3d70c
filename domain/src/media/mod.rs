//! Media files (images, voice clips, videos): what an upload may be, how its
//! bytes are checked, where the files live, and the chat operations on them.
//!
//! A file's type is what its bytes say ([`sniff`]), never the client's
//! claim. An upload is streamed to a temporary file with a size limit
//! ([`upload`]); a picture is decoded with limits on a bounded pool, turned
//! the way it is shown (EXIF orientation), re-encoded without its metadata
//! and given a thumbnail ([`picture`]). Only then does it get an id, a row
//! (through [`crate::store::MediaStore`]) and its final name ([`files`]). A
//! refused or abandoned upload leaves nothing: its temporary file is removed
//! when dropped. Uploads never sent are swept after
//! [`MediaConfig::unsent_ttl`]. The operations the web layer calls are on
//! [`crate::Chat`] ([`service`]; avatars, which take the same pipeline to
//! square JPEGs of fixed sizes, in [`avatar`]).

pub mod avatar;
pub mod container;
pub mod files;
pub mod picture;
pub mod service;
pub mod sniff;
pub mod upload;

use std::path::PathBuf;
use std::time::Duration;

use teahouse_protocol::{limits, ConversationId, MediaId, MediaRef, MsgType, UserId};

pub use files::MediaFiles;
pub use service::ServedFile;
pub use upload::Upload;

/// What an upload is for: the route it came through (`/api/upload/{kind}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Voice,
    Video,
}

impl MediaKind {
    /// The tag as stored and in the upload path.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
        }
    }

    /// The tag read back; `None` for anything else.
    pub fn parse(tag: &str) -> Option<MediaKind> {
        Some(match tag {
            "image" => MediaKind::Image,
            "voice" => MediaKind::Voice,
            "video" => MediaKind::Video,
            _ => return None,
        })
    }

    /// The message type a file of this kind is sent as.
    pub fn msgtype(self) -> MsgType {
        match self {
            MediaKind::Image => MsgType::Image,
            MediaKind::Voice => MsgType::Voice,
            MediaKind::Video => MsgType::Video,
        }
    }
}

/// A stored upload as the domain sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRecord {
    /// What a message carrying it shows (id, sniffed type, size, pixels or
    /// duration).
    pub media: MediaRef,
    /// Which route it came through (decides the message type).
    pub kind: MediaKind,
    /// Who uploaded it: the only one who may send it, and see it unsent.
    pub uploader: UserId,
    /// Whether a thumbnail file lies beside it (images).
    pub has_thumb: bool,
    /// The conversation it was sent in, once sent (then its members may
    /// fetch it).
    pub sent_in: Option<ConversationId>,
}

impl MediaRecord {
    /// Its id.
    pub fn id(&self) -> &MediaId {
        &self.media.id
    }
}

/// Limits and places of media handling, set by the server's flags.
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// Where files live (`<data-dir>/media`); temporary files in `tmp/`
    /// under it, so that keeping one is a rename.
    pub dir: PathBuf,
    /// Largest image upload, in bytes.
    pub image_max_bytes: u64,
    /// Largest voice clip, in bytes.
    pub voice_max_bytes: u64,
    /// Longest voice clip, in milliseconds.
    pub voice_max_ms: u32,
    /// Largest video, in bytes.
    pub video_max_bytes: u64,
    /// Longest video, in milliseconds.
    pub video_max_ms: u32,
    /// Most pixels a picture may have (width × height); more is refused as
    /// a decompression bomb before anything is decoded.
    pub image_max_pixels: u64,
    /// Longest side a picture may have, in pixels.
    pub image_max_side: u32,
    /// Most memory the decoder may allocate for one picture, in bytes.
    pub decode_max_alloc: u64,
    /// Pictures decoded at once (each on a dedicated thread, never on the
    /// async runtime's).
    pub decode_threads: usize,
    /// The decode threads' `nice` value (0: the process's priority). Above
    /// zero, a core busy decoding photos still serves sends first (see
    /// [`crate::workers`]).
    pub decode_nice: i32,
    /// Longest side of a thumbnail, in pixels.
    pub thumb_side: u32,
    /// How long an upload may stay unsent before it is removed.
    pub unsent_ttl: Duration,
    /// Uploads one user may have streaming at once.
    pub uploads_per_user: usize,
    /// Uploads one user may start per minute (sustained; 0 disables).
    pub uploads_per_minute: u32,
}

impl MediaConfig {
    /// The defaults, with files under `dir`.
    pub fn new(dir: PathBuf) -> MediaConfig {
        MediaConfig {
            dir,
            image_max_bytes: limits::IMAGE_MAX_BYTES_DEFAULT,
            voice_max_bytes: limits::VOICE_MAX_BYTES_DEFAULT,
            voice_max_ms: limits::VOICE_MAX_MS_DEFAULT,
            video_max_bytes: limits::VIDEO_MAX_BYTES_DEFAULT,
            video_max_ms: limits::VIDEO_MAX_MS_DEFAULT,
            image_max_pixels: 50_000_000,
            image_max_side: 16_384,
            decode_max_alloc: 512 * 1024 * 1024,
            decode_threads: 2,
            decode_nice: 10,
            thumb_side: limits::THUMB_SIDE,
            unsent_ttl: Duration::from_secs(3600),
            uploads_per_user: 3,
            uploads_per_minute: 30,
        }
    }

    /// The size limit of `kind`, in bytes.
    pub fn max_bytes(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image_max_bytes,
            MediaKind::Voice => self.voice_max_bytes,
            MediaKind::Video => self.video_max_bytes,
        }
    }

    /// The duration limit of `kind`, in milliseconds (none for images).
    pub fn max_ms(&self, kind: MediaKind) -> Option<u32> {
        match kind {
            MediaKind::Image => None,
            MediaKind::Voice => Some(self.voice_max_ms),
            MediaKind::Video => Some(self.video_max_ms),
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig::new(PathBuf::from("data/media"))
    }
}
