//! Avatars: a user's own picture instead of the generated initial. An
//! upload goes through the image pipeline (streamed with the image size
//! limit, sniffed, decoded with limits on the bounded decode pool, turned by
//! its EXIF orientation), is cropped to its centre square and stored as a
//! square JPEG at each of [`AVATAR_SIDES`] (re-encoded: no metadata
//! survives). Each upload gets a new id, so the file behind an avatar URL
//! never changes; the previous avatar's files are removed once the new one
//! is recorded, and a refused upload changes nothing.
//!
//! Who may fetch an avatar: anyone signed in. Avatars are drawn next to
//! every message, member and search result, to people who can reach the
//! user in many ways (shared rooms, the lobby, contact search); an id is
//! 130 random bits, known only to those who were shown the user.

use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use teahouse_protocol::limits::AVATAR_SIDES;
use teahouse_protocol::{ErrorCode, MediaId, UserBrief, UserId};
use tempfile::TempPath;

use super::service::ServedFile;
use super::{picture, sniff, MediaConfig, MediaFiles, MediaKind, Upload};
use crate::{Chat, DomainError, Result};

/// JPEG quality of avatar files (small pictures; artefacts are hidden by
/// the downscale).
const AVATAR_QUALITY: u8 = 85;

/// Decodes the picture at `src` (sniffed as `mime`) within `config`'s
/// limits, crops its centre square and writes it at each of
/// [`AVATAR_SIDES`] as a temporary JPEG (transparency on white). Small
/// pictures are scaled up, so every file has exactly its side.
pub fn process(
    src: &Path,
    mime: &str,
    config: &MediaConfig,
    files: &MediaFiles,
) -> Result<Vec<(u32, TempPath)>> {
    let (picture, _) = picture::decode(src, mime, config)?;
    let (w, h) = (picture.width(), picture.height());
    let side = w.min(h);
    if side == 0 {
        return Err(DomainError::code(ErrorCode::MediaUndecodable));
    }
    let square = picture.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let square = picture::flatten(&square);
    AVATAR_SIDES
        .iter()
        .map(|&target| {
            let sized = square.resize_exact(target, target, FilterType::Lanczos3);
            let file = picture::write_temp(files, |out| {
                sized.write_with_encoder(JpegEncoder::new_with_quality(out, AVATAR_QUALITY))
            })?;
            Ok((target, file))
        })
        .collect()
}

impl Chat {
    /// Starts receiving `user`'s new avatar: an image upload (its size
    /// limit, the uploader's upload limits; see [`Upload::start`]).
    pub fn start_avatar_upload(
        &self,
        user: &UserBrief,
        declared_len: Option<u64>,
    ) -> Result<Upload> {
        let media = &self.media;
        Upload::start(
            &media.gate,
            &media.files,
            &media.config,
            user.id,
            MediaKind::Image,
            declared_len,
            None,
        )
    }

    /// Checks and processes a fully received avatar (on the decode pool),
    /// makes it the uploader's avatar and removes the previous one's files;
    /// everyone sharing a conversation with them (and their other tabs)
    /// sees it at once. Returns the user as they now are. A refused upload
    /// leaves no file and keeps the avatar they had.
    pub async fn finish_avatar_upload(&self, mut upload: Upload) -> Result<UserBrief> {
        upload.finish().await?;
        let mime = sniff::sniff(MediaKind::Image, &upload.head)?;
        let media = &self.media;
        let (src, uploader) = (upload.path.to_path_buf(), upload.uploader);
        let (config, files) = (media.config.clone(), media.files.clone());
        let sizes = media
            .decode
            .run(move || process(&src, mime, &config, &files))
            .await??;
        drop(upload);
        let id = MediaFiles::new_id();
        // The files first: a crash before the row is written leaves files
        // no account names, which the next start removes.
        media.files.keep_avatar(&id, sizes)?;
        match self.set_avatar(uploader, Some(&id)).await {
            Ok(user) => Ok(user),
            Err(e) => {
                media.files.remove_avatar(&id);
                Err(e)
            }
        }
    }

    /// Goes back to the generated avatar (the files are removed); pushed
    /// like a new one. Returns the user as they now are.
    pub async fn remove_avatar(&self, user: &UserBrief) -> Result<UserBrief> {
        self.set_avatar(user.id, None).await
    }

    /// Records `avatar` as `user`'s, removes the previous one's files and
    /// tells everyone who shares a conversation with them.
    async fn set_avatar(&self, user: UserId, avatar: Option<&MediaId>) -> Result<UserBrief> {
        let (updated, before) = self.store.set_avatar(user, avatar).await?;
        if let Some(old) = before.filter(|old| Some(old) != avatar) {
            self.media.files.remove_avatar(&old);
        }
        self.profile_changed(&updated).await?;
        tracing::debug!(user = %user, avatar = ?avatar.map(|a| &a.0), "avatar changed");
        Ok(updated)
    }

    /// The avatar file of `avatar_id` at `side` pixels, for anyone signed
    /// in (`user`); everyone else, a size that is not stored, and an avatar
    /// that is gone get `not_found`.
    pub async fn avatar_file(
        &self,
        user: Option<UserId>,
        avatar_id: &str,
        side: &str,
    ) -> Result<ServedFile> {
        let not_found = || DomainError::code(ErrorCode::NotFound);
        if user.is_none() || !MediaId::is_well_formed(avatar_id) {
            return Err(not_found());
        }
        let side: u32 = side.parse().map_err(|_| not_found())?;
        if !AVATAR_SIDES.contains(&side) {
            return Err(not_found());
        }
        let id = MediaId(avatar_id.to_owned());
        let path = self.media.files.avatar_path(&id, side);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(not_found()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
            Err(e) => return Err(DomainError::Internal(format!("reading an avatar: {e}"))),
        }
        Ok(ServedFile {
            path,
            mime: "image/jpeg".into(),
            etag: format!("\"{id}-{side}\""),
        })
    }

    /// Removes avatar files no account names (left by a crash between
    /// keeping the files and recording them); returns how many avatars.
    pub(crate) async fn sweep_orphan_avatars(&self) -> Result<usize> {
        let mut removed = 0;
        for id in self.media.files.avatar_ids() {
            if !self.store.avatar_in_use(&id).await? {
                self.media.files.remove_avatar(&id);
                removed += 1;
            }
        }
        Ok(removed)
    }
}
