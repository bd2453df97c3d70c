//! Where media files live: `<dir>/<id>` (the file as served) and, for
//! images, `<dir>/<id>.thumb.jpg`; avatars in `<dir>/avatars/<id>-<side>.jpg`
//! (one square JPEG per size); uploads in progress and files being
//! processed are temporary files in `<dir>/tmp/`, on the same file system,
//! so keeping one is a rename. A temporary file is removed when dropped;
//! whatever a crash left in `tmp/` is removed at start.
//!
//! Ids are checked for shape ([`MediaId::is_well_formed`]) before any path
//! is built from one, so no id can name a file outside `<dir>`.

use std::path::{Path, PathBuf};

use rand::Rng;
use teahouse_protocol::MediaId;
use tempfile::{NamedTempFile, TempPath};

use crate::{DomainError, Result};

/// The media directory.
#[derive(Clone, Debug)]
pub struct MediaFiles {
    /// Final files.
    dir: PathBuf,
    /// Temporary files.
    tmp: PathBuf,
}

/// Lowercase base32 (RFC 4648), the alphabet of media ids.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

impl MediaFiles {
    /// The media directory at `dir`, with `tmp/` emptied. The directories
    /// are made by the first upload (a server that never gets one has none).
    pub fn open(dir: &Path) -> Result<MediaFiles> {
        let tmp = dir.join("tmp");
        let leftovers = match std::fs::read_dir(&tmp) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(MediaFiles {
                    dir: dir.to_path_buf(),
                    tmp,
                })
            }
            Err(e) => return Err(io("listing", &tmp, e)),
        };
        for entry in leftovers.flatten() {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove a leftover upload");
            }
        }
        Ok(MediaFiles {
            dir: dir.to_path_buf(),
            tmp,
        })
    }

    /// A fresh, unguessable id: 130 random bits.
    pub fn new_id() -> MediaId {
        let mut rng = rand::rng();
        let id: String = (0..MediaId::LEN)
            .map(|_| BASE32[rng.random_range(0..32)] as char)
            .collect();
        MediaId(id)
    }

    /// A new temporary file, removed when dropped unless kept.
    pub fn temp(&self) -> Result<NamedTempFile> {
        std::fs::create_dir_all(&self.tmp).map_err(|e| io("creating", &self.tmp, e))?;
        NamedTempFile::new_in(&self.tmp).map_err(|e| io("creating a file in", &self.tmp, e))
    }

    /// The file as served.
    pub fn path(&self, id: &MediaId) -> PathBuf {
        self.dir.join(&id.0)
    }

    /// The thumbnail.
    pub fn thumb_path(&self, id: &MediaId) -> PathBuf {
        self.dir.join(format!("{}.thumb.jpg", id.0))
    }

    /// Keeps `temp` as the file of `id` (and `thumb` as its thumbnail).
    pub fn keep(&self, id: &MediaId, temp: TempPath, thumb: Option<TempPath>) -> Result<()> {
        if let Some(thumb) = thumb {
            thumb
                .persist(self.thumb_path(id))
                .map_err(|e| io("keeping", &e.path, e.error))?;
        }
        if let Err(e) = temp.persist(self.path(id)) {
            self.remove(id);
            return Err(io("keeping", &e.path, e.error));
        }
        Ok(())
    }

    /// Removes the files of `id` (those that exist).
    pub fn remove(&self, id: &MediaId) {
        for path in [self.path(id), self.thumb_path(id)] {
            remove_quietly(&path);
        }
    }

    /// The folder of avatar files (`avatars/` beside the media files).
    fn avatars(&self) -> PathBuf {
        self.dir.join("avatars")
    }

    /// The square JPEG of avatar `id` at `side` pixels.
    pub fn avatar_path(&self, id: &MediaId, side: u32) -> PathBuf {
        self.avatars().join(format!("{}-{side}.jpg", id.0))
    }

    /// Keeps `sizes` (side, temporary file) as the files of avatar `id`:
    /// all of them, or (on a failure) none.
    pub fn keep_avatar(&self, id: &MediaId, sizes: Vec<(u32, TempPath)>) -> Result<()> {
        let dir = self.avatars();
        std::fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        for (side, temp) in sizes {
            if let Err(e) = temp.persist(self.avatar_path(id, side)) {
                self.remove_avatar(id);
                return Err(io("keeping", &e.path, e.error));
            }
        }
        Ok(())
    }

    /// Removes the files of avatar `id` (those that exist).
    pub fn remove_avatar(&self, id: &MediaId) {
        for side in teahouse_protocol::limits::AVATAR_SIDES {
            remove_quietly(&self.avatar_path(id, side));
        }
    }

    /// The avatar ids that have files, each once (for the sweep of files a
    /// crash left without their row).
    pub fn avatar_ids(&self) -> Vec<MediaId> {
        let Ok(entries) = std::fs::read_dir(self.avatars()) else {
            return Vec::new();
        };
        let mut ids: Vec<MediaId> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.split('-').next()?;
                MediaId::is_well_formed(id).then(|| MediaId(id.to_owned()))
            })
            .collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0));
        ids.dedup();
        ids
    }
}

/// Removes a file if it exists; a failure is logged (a leftover file is
/// not the client's problem).
fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::error!(path = %path.display(), error = %e, "cannot remove a media file"),
    }
}

/// An I/O failure on `path`, for the log (the client is told `internal`).
fn io(what: &str, path: &Path, e: std::io::Error) -> DomainError {
    DomainError::Internal(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_well_formed_and_differ() {
        let a = MediaFiles::new_id();
        let b = MediaFiles::new_id();
        assert!(MediaId::is_well_formed(&a.0), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn leftovers_of_a_crash_are_removed_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let files = MediaFiles::open(dir.path()).unwrap();
        let (_, path) = files.temp().unwrap().into_parts();
        let kept = path.keep().unwrap();
        assert!(kept.exists());
        MediaFiles::open(dir.path()).unwrap();
        assert!(!kept.exists());
    }
}
