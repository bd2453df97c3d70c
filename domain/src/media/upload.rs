//! An upload in progress: its bytes streamed to a temporary file (through a
//! buffer, never held whole in memory) with its kind's size limit, its
//! first bytes kept for sniffing, and its place in the uploader's limits
//! (uploads at once, uploads per minute). Dropping an [`Upload`] removes
//! its file and frees its place: an aborted or refused upload leaves
//! nothing.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teahouse_protocol::{ErrorCode, UserId};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::sniff::HEAD_LEN;
use super::{MediaConfig, MediaFiles, MediaKind};
use crate::{DomainError, Result};

/// Bytes gathered before each write to the file: few system calls per
/// upload, and a bounded amount of memory per upload.
const WRITE_BUFFER: usize = 256 * 1024;

/// An upload is synced to disk every this many bytes. Left to the kernel,
/// a few large videos pile up hundreds of MB of dirty pages, and the
/// message writer's next fsync (ext4 commits its journal for every file)
/// waits for all of them: text p99 went from 14 ms to 850 ms while 4
/// videos streamed (`server/examples/media_bench.rs`; 187 ms with the data
/// directory on tmpfs). Synced as it arrives, each upload keeps at most
/// this much unwritten, and only the upload itself waits for its disk.
const SYNC_EVERY: u64 = 4 * 1024 * 1024;

/// Per-user upload limits.
#[derive(Debug)]
pub(crate) struct UploadGate {
    /// Uploads streaming now, per user (entries removed at zero).
    active: Mutex<HashMap<UserId, usize>>,
    /// How many one user may stream at once.
    per_user: usize,
    /// Uploads started per user per minute (None: unlimited).
    rate: Option<DefaultKeyedRateLimiter<UserId>>,
}

impl UploadGate {
    pub(crate) fn new(config: &MediaConfig) -> Arc<UploadGate> {
        let rate = NonZeroU32::new(config.uploads_per_minute)
            .map(|n| RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)));
        Arc::new(UploadGate {
            active: Mutex::new(HashMap::new()),
            per_user: config.uploads_per_user.max(1),
            rate,
        })
    }

    /// A place for one more upload of `user`, or `rate_limited`.
    fn enter(self: &Arc<Self>, user: UserId) -> Result<Slot> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let now = active.get(&user).copied().unwrap_or(0);
        if now >= self.per_user {
            return Err(DomainError::code(ErrorCode::RateLimited));
        }
        if let Some(rate) = &self.rate {
            if rate.check_key(&user).is_err() {
                return Err(DomainError::code(ErrorCode::RateLimited));
            }
        }
        active.insert(user, now + 1);
        Ok(Slot {
            gate: self.clone(),
            user,
        })
    }
}

/// One user's place in the gate, freed on drop.
#[derive(Debug)]
struct Slot {
    /// The gate it belongs to.
    gate: Arc<UploadGate>,
    /// Whose place it is.
    user: UserId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut active = self.gate.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = active.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                active.remove(&self.user);
            }
        }
    }
}

/// An upload being received.
#[derive(Debug)]
pub struct Upload {
    /// Who uploads it.
    pub(crate) uploader: UserId,
    /// What it is for.
    pub(crate) kind: MediaKind,
    /// The playing time the client measured (voice, video), already checked
    /// against the limit.
    pub(crate) duration_ms: Option<u32>,
    /// Its size limit.
    max_bytes: u64,
    /// Bytes received so far.
    received: u64,
    /// `received` when the file was last synced to disk.
    synced: u64,
    /// The first bytes, for sniffing.
    pub(crate) head: Vec<u8>,
    /// The temporary file, buffered.
    file: tokio::io::BufWriter<tokio::fs::File>,
    /// Its path; the file is removed when this drops.
    pub(crate) path: TempPath,
    /// The uploader's place in the limits.
    _slot: Slot,
}

impl Upload {
    /// Starts an upload: checks the uploader's limits, the declared size
    /// (`declared_len`, from `Content-Length`, refused at once when over the
    /// limit) and the duration, and opens its temporary file.
    pub(crate) fn start(
        gate: &Arc<UploadGate>,
        files: &MediaFiles,
        config: &MediaConfig,
        uploader: UserId,
        kind: MediaKind,
        declared_len: Option<u64>,
        duration_ms: Option<u32>,
    ) -> Result<Upload> {
        let max_bytes = config.max_bytes(kind);
        if declared_len.is_some_and(|n| n > max_bytes) {
            return Err(DomainError::code(ErrorCode::MediaTooLarge));
        }
        if declared_len == Some(0) {
            return Err(DomainError::code(ErrorCode::MediaEmpty));
        }
        let duration_ms = match config.max_ms(kind) {
            None => None,
            Some(max) => match duration_ms {
                None => return Err(DomainError::field(ErrorCode::BadRequest, "duration_ms")),
                Some(ms) if ms > max => return Err(DomainError::code(ErrorCode::MediaTooLong)),
                Some(ms) => Some(ms),
            },
        };
        let slot = gate.enter(uploader)?;
        let (file, path) = files.temp()?.into_parts();
        Ok(Upload {
            uploader,
            kind,
            duration_ms,
            max_bytes,
            received: 0,
            synced: 0,
            head: Vec::with_capacity(HEAD_LEN),
            file: tokio::io::BufWriter::with_capacity(
                WRITE_BUFFER,
                tokio::fs::File::from_std(file),
            ),
            path,
            _slot: slot,
        })
    }

    /// Appends the next piece; `media_too_large` as soon as the limit is
    /// passed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.received += chunk.len() as u64;
        if self.received > self.max_bytes {
            return Err(DomainError::code(ErrorCode::MediaTooLarge));
        }
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| DomainError::Internal(format!("writing an upload: {e}")))?;
        if self.received - self.synced >= SYNC_EVERY {
            self.sync().await?;
        }
        Ok(())
    }

    /// Writes what is buffered and waits until the disk has it.
    async fn sync(&mut self) -> Result<()> {
        let io = |e: std::io::Error| DomainError::Internal(format!("writing an upload: {e}"));
        self.file.flush().await.map_err(io)?;
        self.file.get_ref().sync_data().await.map_err(io)?;
        self.synced = self.received;
        Ok(())
    }

    /// Writes the file out to disk (a message may refer to it once this
    /// returns: acknowledged means stored, for files too); its size.
    pub(crate) async fn finish(&mut self) -> Result<u64> {
        self.sync().await?;
        if self.received == 0 {
            return Err(DomainError::code(ErrorCode::MediaEmpty));
        }
        Ok(self.received)
    }
}
