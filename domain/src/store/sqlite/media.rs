//! SQLite storage of uploads: the `media` table (migration 0005). Rows are
//! written by the sqlx writer (new uploads, the sweep) and attached to the
//! message that carries them on the message writer's connection, inside the
//! batch transaction that stores that message ([`claim_refusal`],
//! [`attach`]).

use rusqlite::OptionalExtension;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use teahouse_protocol::{ConversationId, ErrorCode, MediaId, MediaRef, Seq, UserId};

use super::Db;
use crate::media::{MediaKind, MediaRecord};
use crate::{DomainError, Result};

/// Stores a checked, unsent upload.
pub async fn insert(db: &Db, record: &MediaRecord, created_ms: i64) -> Result<()> {
    let m = &record.media;
    let bytes = i64::try_from(m.bytes)
        .map_err(|_| DomainError::Internal("media size out of range".into()))?;
    let mut conn = db.writer().await?;
    sqlx::query(
        "INSERT INTO media (id, uploader_id, kind, mime, bytes, width, height, duration_ms,
                            has_thumb, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&m.id.0)
    .bind(record.uploader)
    .bind(record.kind.as_str())
    .bind(&m.mime)
    .bind(bytes)
    .bind(m.width)
    .bind(m.height)
    .bind(m.duration_ms)
    .bind(record.has_thumb)
    .bind(created_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The upload with this id.
pub async fn get(db: &Db, id: &MediaId) -> Result<Option<MediaRecord>> {
    let row = sqlx::query(
        "SELECT id, uploader_id, kind, mime, bytes, width, height, duration_ms, has_thumb, room_id
         FROM media WHERE id = ?",
    )
    .bind(&id.0)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| record(&r)).transpose()
}

/// Reads a row selected by [`get`].
fn record(row: &SqliteRow) -> Result<MediaRecord> {
    let kind: String = row.try_get("kind")?;
    let kind = MediaKind::parse(&kind)
        .ok_or_else(|| DomainError::Internal(format!("media row with unknown kind {kind:?}")))?;
    let bytes: i64 = row.try_get("bytes")?;
    Ok(MediaRecord {
        media: MediaRef {
            id: MediaId(row.try_get("id")?),
            mime: row.try_get("mime")?,
            bytes: u64::try_from(bytes).unwrap_or(0),
            width: row.try_get("width")?,
            height: row.try_get("height")?,
            duration_ms: row.try_get("duration_ms")?,
        },
        kind,
        uploader: row.try_get("uploader_id")?,
        has_thumb: row.try_get("has_thumb")?,
        sent_in: row.try_get("room_id")?,
    })
}

/// Unsent uploads stored before `before_ms`, oldest first.
pub async fn unsent_before(db: &Db, before_ms: i64, limit: u32) -> Result<Vec<MediaId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM media WHERE room_id IS NULL AND created_ms < ?
         ORDER BY created_ms LIMIT ?",
    )
    .bind(before_ms)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(ids.into_iter().map(MediaId).collect())
}

/// Deletes an unsent upload's row; false if it is gone or was sent.
pub async fn delete_unsent(db: &Db, id: &MediaId) -> Result<bool> {
    let mut conn = db.writer().await?;
    let done = sqlx::query("DELETE FROM media WHERE id = ? AND room_id IS NULL")
        .bind(&id.0)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Why `sender` may not send upload `id` now, if they may not: gone or
/// someone else's (`not_found`, not revealing it), or in a message already
/// (`media_already_sent`). On the message writer's connection, inside its
/// transaction.
pub(crate) fn claim_refusal(
    conn: &rusqlite::Connection,
    id: &MediaId,
    sender: UserId,
) -> Result<Option<ErrorCode>> {
    let row: Option<(UserId, Option<ConversationId>)> = conn
        .prepare_cached("SELECT uploader_id, room_id FROM media WHERE id = ?1")?
        .query_row([&id.0], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(match row {
        None => Some(ErrorCode::NotFound),
        Some((uploader, _)) if uploader != sender => Some(ErrorCode::NotFound),
        Some((_, Some(_))) => Some(ErrorCode::MediaAlreadySent),
        Some((_, None)) => None,
    })
}

/// Attaches upload `id` to the message at `room`/`seq`, in the batch
/// transaction that stores it.
pub(crate) fn attach(
    conn: &rusqlite::Connection,
    id: &MediaId,
    room: ConversationId,
    seq: Seq,
) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE media SET room_id = ?2, seq = ?3 WHERE id = ?1 AND room_id IS NULL",
        )?
        .execute(rusqlite::params![&id.0, room, seq])?;
    if changed != 1 {
        // The check in the same transaction said it was free.
        return Err(DomainError::Internal(format!(
            "upload {id} could not be attached"
        )));
    }
    Ok(())
}
