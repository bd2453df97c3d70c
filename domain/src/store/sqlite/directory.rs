//! SQLite side of the public room directory (see [`crate::directory`]):
//! keyset pages over the `rooms_directory` index, search in `name_folded`.

use sqlx::Row;
use teahouse_protocol::{limits, ConversationId, RoomPage, UserId};

use super::conversations::{summary_from_row, SUMMARY_SELECT};
use super::Db;
use crate::directory::{fold, Cursor};
use crate::Result;

/// Fills `name_folded` for rooms stored before it existed (idempotent; run
/// at start-up).
pub async fn fold_missing_names(db: &Db) -> Result<()> {
    let rows = sqlx::query("SELECT id, name FROM rooms WHERE name_folded IS NULL")
        .fetch_all(db.reader())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut writer = db.writer().await?;
    for row in rows {
        let name: String = row.try_get("name")?;
        sqlx::query("UPDATE rooms SET name_folded = ? WHERE id = ?")
            .bind(fold(&name))
            .bind(row.try_get::<ConversationId, _>("id")?)
            .execute(&mut *writer)
            .await?;
    }
    Ok(())
}

/// One page of public rooms as seen by `user_id` (joined or not): those
/// whose name contains the (validated) `query` (all when it is empty), after `cursor`.
/// `limit` is clamped to 1..=[`limits::ROOM_PAGE_MAX`].
pub async fn page(
    db: &Db,
    user_id: UserId,
    query: &str,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<RoomPage> {
    let query = fold(query);
    let limit = limit.clamp(1, limits::ROOM_PAGE_MAX);
    let after = cursor.unwrap_or(Cursor {
        member_count: i64::MAX,
        id: ConversationId(i64::MIN),
    });
    let sql = format!(
        "{SUMMARY_SELECT}
         WHERE r.is_public = 1
           AND (? = '' OR instr(r.name_folded, ?) > 0)
           AND (r.member_count < ? OR (r.member_count = ? AND r.id > ?))
         ORDER BY r.member_count DESC, r.id ASC
         LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(user_id)
        .bind(&query)
        .bind(&query)
        .bind(after.member_count)
        .bind(after.member_count)
        .bind(after.id)
        // One more than asked: whether it exists says if there is a next page.
        .bind(i64::from(limit) + 1)
        .fetch_all(db.reader())
        .await?;
    let mut rooms = rows
        .iter()
        .map(summary_from_row)
        .collect::<Result<Vec<_>>>()?;
    let more = rooms.len() > limit as usize;
    rooms.truncate(limit as usize);
    let next_cursor = more.then(|| rooms.last()).flatten().map(|last| {
        Cursor {
            member_count: last.member_count,
            id: last.id,
        }
        .encode()
    });
    Ok(RoomPage { rooms, next_cursor })
}
