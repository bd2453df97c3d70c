//! Cheap structural checks of voice and video containers, so that a
//! truncated file is refused (`media_undecodable`) instead of stored.
//!
//! MP4 (ISO BMFF): the top-level boxes must tile the file exactly (a box
//! that runs past the end means the upload was cut short) and a `moov` box
//! must be among them. WebM: as browsers record it (MediaRecorder) the
//! Segment has an unknown size and no cues, so a cut file is still a valid
//! prefix; only the EBML header is checked (by [`super::sniff`]) and the
//! file is bounded by its size limit. Durations are not read from the
//! containers: the client's `duration_ms` is checked against the limit.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use teahouse_protocol::ErrorCode;

use crate::{DomainError, Result};

/// Checks the MP4 file at `path` (of `len` bytes) box by box.
pub fn check_mp4(path: &Path, len: u64) -> Result<()> {
    let undecodable = || DomainError::code(ErrorCode::MediaUndecodable);
    let mut file = std::fs::File::open(path)
        .map_err(|e| DomainError::Internal(format!("opening an upload: {e}")))?;
    let mut at = 0u64;
    let mut has_moov = false;
    // Bounded: a box is at least 8 bytes, and a file has few top-level boxes.
    for _ in 0..100_000 {
        if at == len {
            return if has_moov { Ok(()) } else { Err(undecodable()) };
        }
        let mut header = [0u8; 16];
        file.seek(SeekFrom::Start(at))
            .map_err(|e| DomainError::Internal(format!("reading an upload: {e}")))?;
        let avail = (len - at).min(16) as usize;
        if avail < 8 {
            return Err(undecodable());
        }
        file.read_exact(&mut header[..avail])
            .map_err(|_| undecodable())?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = &header[4..8];
        let size = match size32 {
            // To the end of the file.
            0 => len - at,
            // A 64-bit size follows the type.
            1 => {
                if avail < 16 {
                    return Err(undecodable());
                }
                let mut big = [0u8; 8];
                big.copy_from_slice(&header[8..16]);
                u64::from_be_bytes(big)
            }
            n => u64::from(n),
        };
        if size < 8 || size > len - at {
            return Err(undecodable());
        }
        if kind == b"moov" {
            has_moov = true;
        }
        at += size;
    }
    Err(undecodable())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MP4-like file of boxes of the given types and total sizes.
    pub(crate) fn boxes(parts: &[(&[u8; 4], u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, size) in parts {
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(&kind[..]);
            out.resize(out.len() + *size as usize - 8, 0);
        }
        out
    }

    fn check(bytes: &[u8]) -> Result<()> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.mp4");
        std::fs::write(&path, bytes).unwrap();
        check_mp4(&path, bytes.len() as u64)
    }

    #[test]
    fn whole_files_pass_and_cut_ones_do_not() {
        let whole = boxes(&[(b"ftyp", 24), (b"moov", 100), (b"mdat", 1000)]);
        check(&whole).unwrap();
        for cut in [whole.len() - 1, 500, 130, 30, 4] {
            assert!(check(&whole[..cut]).is_err(), "cut at {cut}");
        }
        // No moov: not a playable file.
        assert!(check(&boxes(&[(b"ftyp", 24), (b"mdat", 100)])).is_err());
        // Fragmented, as MediaRecorder writes it.
        check(&boxes(&[
            (b"ftyp", 24),
            (b"moov", 100),
            (b"moof", 50),
            (b"mdat", 60),
        ]))
        .unwrap();
    }
}
