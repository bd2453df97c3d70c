//! The chat operations on media: receiving an upload, sending it as a
//! message, finding the file a user may fetch, and sweeping uploads never
//! sent. [`MediaState`] is what [`Chat`] keeps for them.

use std::path::PathBuf;
use std::sync::Arc;

use teahouse_protocol::{
    ConversationEvent, ConversationId, ErrorCode, MediaId, MediaRef, MessageContent, UserBrief,
    UserId,
};

use super::upload::UploadGate;
use super::{container, picture, sniff, MediaConfig, MediaFiles, MediaKind, MediaRecord, Upload};
use crate::log::NewMessage;
use crate::workers::WorkerPool;
use crate::{now_ms, validate, Chat, DomainError, Result};

/// What the chat service keeps for media.
/// Pictures that may wait for a decode thread; beyond that an upload is
/// refused (`rate_limited`) rather than held (each waiting one is a file
/// on disk and an open request).
const DECODE_QUEUE: usize = 64;

#[derive(Debug)]
pub(crate) struct MediaState {
    /// Limits and the directory.
    pub(crate) config: MediaConfig,
    /// The files.
    pub(crate) files: MediaFiles,
    /// Per-user upload limits.
    pub(crate) gate: Arc<UploadGate>,
    /// The decode pool: `decode_threads` threads at a lower priority than
    /// the runtime and the message writer (see [`crate::workers`]).
    pub(crate) decode: WorkerPool,
}

impl MediaState {
    /// Opens the media directory (emptying its `tmp/`).
    pub(crate) fn open(config: MediaConfig) -> Result<MediaState> {
        Ok(MediaState {
            files: MediaFiles::open(&config.dir)?,
            gate: UploadGate::new(&config),
            decode: WorkerPool::new(
                "picture",
                config.decode_threads,
                DECODE_QUEUE,
                config.decode_nice,
            ),
            config,
        })
    }
}

/// A file a user may fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its sniffed type (`image/jpeg` for thumbnails).
    pub mime: String,
    /// A strong validator: files never change under their id.
    pub etag: String,
}

/// `not_found`, for every media request that may not see the file (also
/// when it exists: its existence is not revealed).
fn not_found() -> DomainError {
    DomainError::code(ErrorCode::NotFound)
}

impl Chat {
    /// Starts receiving an upload of `kind` from `user` (see
    /// [`Upload::start`] for what is checked before the first byte).
    pub fn start_upload(
        &self,
        user: &UserBrief,
        kind: MediaKind,
        declared_len: Option<u64>,
        duration_ms: Option<u32>,
    ) -> Result<Upload> {
        let media = &self.media;
        Upload::start(
            &media.gate,
            &media.files,
            &media.config,
            user.id,
            kind,
            declared_len,
            duration_ms,
        )
    }

    /// Checks a fully received upload (type from its bytes, decodes,
    /// containers), processes pictures on the decode pool, and stores it
    /// unsent. Anything refused leaves no file and no row.
    pub async fn finish_upload(&self, mut upload: Upload) -> Result<MediaRef> {
        let received = upload.finish().await?;
        let mime = sniff::sniff(upload.kind, &upload.head)?;
        let media = &self.media;
        let (file, thumb, width, height) = match upload.kind {
            MediaKind::Image => {
                let src = upload.path.to_path_buf();
                let (config, files) = (media.config.clone(), media.files.clone());
                let pic = media
                    .decode
                    .run(move || picture::process(&src, mime, &config, &files))
                    .await??;
                let file = pic.shown.unwrap_or(upload.path);
                (file, Some(pic.thumb), Some(pic.width), Some(pic.height))
            }
            MediaKind::Voice | MediaKind::Video => {
                if mime.ends_with("/mp4") {
                    let src = upload.path.to_path_buf();
                    tokio::task::spawn_blocking(move || container::check_mp4(&src, received))
                        .await
                        .map_err(|e| DomainError::Internal(format!("checking a file: {e}")))??;
                }
                (upload.path, None, None, None)
            }
        };
        let bytes = std::fs::metadata(&file)
            .map_err(|e| DomainError::Internal(format!("reading a media file: {e}")))?
            .len();
        let record = MediaRecord {
            media: MediaRef {
                id: MediaFiles::new_id(),
                mime: mime.to_owned(),
                bytes,
                width,
                height,
                duration_ms: upload.duration_ms,
            },
            kind: upload.kind,
            uploader: upload.uploader,
            has_thumb: thumb.is_some(),
            sent_in: None,
        };
        // The row first: a crash before the rename leaves a row without a
        // file, which the sweep removes; never a file nobody knows about.
        self.store.insert_media(&record, now_ms()).await?;
        if let Err(e) = media.files.keep(record.id(), file, thumb) {
            if let Err(e) = self.store.delete_unsent_media(record.id()).await {
                tracing::error!(error = %e, "cannot remove the row of an upload not kept");
            }
            return Err(e);
        }
        tracing::debug!(id = %record.id(), kind = record.kind.as_str(), bytes, "upload stored");
        Ok(record.media)
    }

    /// Sends `sender`'s upload `media_id` to `conversation` as a message of
    /// its kind, through the same group-commit writer as text: stored and
    /// attached to the conversation in one transaction, then pushed. Only
    /// the uploader may send it, and only once; a retry with the same
    /// `client_id` returns the stored event.
    pub async fn send_media(
        &self,
        sender: &UserBrief,
        conversation: ConversationId,
        client_id: &str,
        media_id: &str,
    ) -> Result<ConversationEvent> {
        let client_id = validate::client_id(client_id)?;
        if !MediaId::is_well_formed(media_id) {
            return Err(DomainError::field(ErrorCode::NotFound, "media_id"));
        }
        self.check_muted(conversation, sender.id)?;
        if let Some(limiter) = &self.send_limiter {
            if limiter.check_key(&sender.id).is_err() {
                return Err(DomainError::code(ErrorCode::RateLimited));
            }
        }
        let record = self
            .store
            .media(&MediaId(media_id.to_owned()))
            .await?
            .filter(|r| r.uploader == sender.id)
            .ok_or_else(|| DomainError::field(ErrorCode::NotFound, "media_id"))?;
        let content =
            MessageContent::from_parts(record.kind.msgtype(), String::new(), Some(record.media))
                .ok_or_else(|| DomainError::Internal("media kind without msgtype".into()))?;
        let msg = NewMessage {
            conversation_id: conversation,
            client_id,
            content,
            reply_to: None,
            mentions: Vec::new(),
        };
        let sent = self.sends.send(sender.clone(), msg).await?;
        Ok(sent.event)
    }

    /// The file of `media_id` (or its thumbnail) if `user` may fetch it:
    /// a member of the conversation it was sent in, staff who may see that
    /// support conversation, or its uploader before it is sent. Everyone else (signed out included) gets `not_found`.
    pub async fn media_file(
        &self,
        user: Option<UserId>,
        media_id: &str,
        thumb: bool,
    ) -> Result<ServedFile> {
        let Some(user) = user else {
            return Err(not_found());
        };
        if !MediaId::is_well_formed(media_id) {
            return Err(not_found());
        }
        let id = MediaId(media_id.to_owned());
        let record = self.store.media(&id).await?.ok_or_else(not_found)?;
        match record.sent_in {
            Some(conversation) => match self.store.check_member(conversation, user).await {
                Ok(()) => {}
                Err(DomainError::Rejected(_)) => {
                    if !self.staff_sees_support(user, conversation).await? {
                        return Err(not_found());
                    }
                }
                Err(e) => return Err(e),
            },
            None if record.uploader == user => {}
            None => return Err(not_found()),
        }
        let files = &self.media.files;
        Ok(match thumb {
            false => ServedFile {
                path: files.path(&id),
                mime: record.media.mime,
                etag: format!("\"{id}\""),
            },
            true if record.has_thumb => ServedFile {
                path: files.thumb_path(&id),
                mime: "image/jpeg".into(),
                etag: format!("\"{id}-thumb\""),
            },
            true => return Err(not_found()),
        })
    }

    /// Removes uploads older than the configured time that were never sent
    /// (rows, then files); returns how many. Run periodically.
    pub async fn sweep_unsent_media(&self) -> Result<usize> {
        let ttl_ms = i64::try_from(self.media.config.unsent_ttl.as_millis()).unwrap_or(i64::MAX);
        let before = now_ms().saturating_sub(ttl_ms);
        let mut removed = 0;
        loop {
            let ids = self.store.unsent_media_before(before, 500).await?;
            if ids.is_empty() {
                return Ok(removed);
            }
            for id in ids {
                // Skipped if it was sent meanwhile.
                if self.store.delete_unsent_media(&id).await? {
                    self.media.files.remove(&id);
                    removed += 1;
                }
            }
        }
    }

    /// The media limits (for the web layer's answers and docs).
    pub fn media_config(&self) -> &MediaConfig {
        &self.media.config
    }
}
