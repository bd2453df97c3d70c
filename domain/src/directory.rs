//! The public room directory: every public room, largest first, in pages
//! that follow a cursor, optionally narrowed by a search in room names.
//!
//! Order: `member_count` descending, then room id ascending — both columns
//! of `rooms`, so the sort runs over the `rooms_directory` index, and the
//! cursor is the (member_count, id) of the last room of a page. Keyset paging
//! means a page starts strictly after that key: every room whose member
//! count does not change while someone pages is listed exactly once, however
//! many rooms are created, joined or left meanwhile. A room whose count
//! changes between two pages moves in the order, so it may show up twice
//! (the UI drops repeats by id) or only after a reload.
//!
//! Search: case-insensitive substring of the room name. Names and queries
//! are compared in Unicode lower case (`name_folded`, kept by the server as
//! SQLite folds ASCII only), with `instr`, so `%` and `_` are plain
//! characters and Chinese matches as typed.

use sqlx::Row;
use teahouse_protocol::{limits, ErrorCode, RoomId, RoomPage, UserId};

use crate::rooms::{summary_from_row, SUMMARY_SELECT};
use crate::{validate, Db, DomainError, Result};

/// Where a directory page starts: just after the room with this key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last listed room's member count (the primary sort key).
    pub member_count: i64,
    /// The last listed room's id (breaks ties).
    pub id: RoomId,
}

impl Cursor {
    /// Parses the wire form `<member_count>.<id>`; anything else is
    /// `bad_request` on the `cursor` field.
    pub fn parse(raw: &str) -> Result<Cursor> {
        let bad = || DomainError::field(ErrorCode::BadRequest, "cursor");
        let (count, id) = raw.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            member_count: count.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    /// The wire form, opaque to clients.
    pub fn encode(self) -> String {
        format!("{}.{}", self.member_count, self.id)
    }
}

/// The form names and queries are compared in.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// Fills `name_folded` for rooms stored before it existed (idempotent; run
/// at start-up).
pub async fn fold_missing_names(db: &Db) -> Result<()> {
    let rows = sqlx::query("SELECT id, name FROM rooms WHERE name_folded IS NULL")
        .fetch_all(&db.read)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut writer = db.writer().await?;
    for row in rows {
        let name: String = row.get("name");
        sqlx::query("UPDATE rooms SET name_folded = ? WHERE id = ?")
            .bind(fold(&name))
            .bind(row.get::<RoomId, _>("id"))
            .execute(&mut *writer)
            .await?;
    }
    Ok(())
}

/// One page of public rooms as seen by `user_id` (joined or not): those
/// whose name contains `query` (all when it is empty), after `cursor`.
/// `limit` is clamped to 1..=[`limits::ROOM_PAGE_MAX`].
pub async fn page(
    db: &Db,
    user_id: UserId,
    query: &str,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<RoomPage> {
    let query = fold(&validate::room_query(query)?);
    let limit = limit.clamp(1, limits::ROOM_PAGE_MAX);
    let after = cursor.unwrap_or(Cursor {
        member_count: i64::MAX,
        id: RoomId::MIN,
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
        .bind(&query)
        .bind(&query)
        .bind(after.member_count)
        .bind(after.member_count)
        .bind(after.id)
        // One more than asked: whether it exists says if there is a next page.
        .bind(i64::from(limit) + 1)
        .fetch_all(&db.read)
        .await?;
    let mut rooms: Vec<_> = rows.iter().map(summary_from_row).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_bad_request() {
        let c = Cursor {
            member_count: 12,
            id: 345,
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        for raw in [
            "",
            "12",
            "12.",
            ".3",
            "a.b",
            "1.2.3",
            "1,2",
            "99999999999999999999.1",
        ] {
            let e = Cursor::parse(raw).unwrap_err().to_api();
            assert_eq!(e.code, ErrorCode::BadRequest, "{raw:?}");
            assert_eq!(e.field.as_deref(), Some("cursor"), "{raw:?}");
        }
    }

    #[test]
    fn folding_lowers_every_script_and_leaves_chinese_alone() {
        assert_eq!(fold("Green TEA 绿茶"), "green tea 绿茶");
        assert_eq!(fold("ÄRGER Ωμέγα"), "ärger ωμέγα");
        assert_eq!(fold("100%_x"), "100%_x");
    }
}
