//! SQLite storage of read positions (`read_positions`, migration 0008) and
//! the unread counts computed from them.
//!
//! A position only moves forward: every write is an upsert keeping the
//! larger seq. Unread = others' `message` events after it (recalled ones
//! are no longer `message`s, own ones never count), counted through the
//! log's primary key and capped at [`UNREAD_MAX`] so one conversation with
//! a huge backlog costs a bounded number of steps; mentioned = a row of
//! `mentions` for the user after it.

use sqlx::{Connection, Row, SqliteConnection};
use teahouse_protocol::limits::UNREAD_MAX;
use teahouse_protocol::{ConversationId, ReadState, Seq, UserId};

use super::Db;
use crate::Result;

/// The read state of every conversation of `?1` (or, with `AND m.room_id =
/// ?2` appended, of one).
const STATE_SQL: &str = "SELECT m.room_id AS room_id, COALESCE(rp.seq, 0) AS read_seq,
        (SELECT COUNT(*) FROM (
            SELECT 1 FROM events e
            WHERE e.room_id = m.room_id AND e.seq > COALESCE(rp.seq, 0)
              AND e.kind = 'message' AND e.actor_id <> m.user_id
            LIMIT ?3)) AS unread,
        EXISTS(SELECT 1 FROM mentions x
               WHERE x.user_id = m.user_id AND x.room_id = m.room_id
                 AND x.seq > COALESCE(rp.seq, 0)) AS mentioned
     FROM members m
     LEFT JOIN read_positions rp ON rp.user_id = m.user_id AND rp.room_id = m.room_id
     WHERE m.user_id = ?1";

fn state_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ReadState> {
    Ok(ReadState {
        room_id: row.try_get("room_id")?,
        read_seq: row.try_get("read_seq")?,
        unread: row.try_get("unread")?,
        mentioned: row.try_get("mentioned")?,
    })
}

/// Moves `user`'s position in `room` up to `seq` inside the caller's
/// transaction (never back). True if it moved.
pub(crate) async fn advance_in(
    conn: &mut SqliteConnection,
    user: UserId,
    room: ConversationId,
    seq: Seq,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO read_positions (user_id, room_id, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, room_id) DO UPDATE SET seq = excluded.seq
         WHERE excluded.seq > read_positions.seq",
    )
    .bind(user)
    .bind(room)
    .bind(seq)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves `user`'s position in `room` up to `seq` (at most the log's last
/// seq) and returns whether it moved and the state after. The caller has
/// checked membership.
pub async fn advance(
    db: &Db,
    user: UserId,
    room: ConversationId,
    seq: Seq,
) -> Result<(bool, ReadState)> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let last: Seq = sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = ?")
        .bind(room)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
    let moved = advance_in(&mut tx, user, room, seq.clamp(0, last)).await?;
    let state = state_in(&mut tx, user, room).await?;
    tx.commit().await?;
    Ok((moved, state))
}

async fn state_in(
    conn: &mut SqliteConnection,
    user: UserId,
    room: ConversationId,
) -> Result<ReadState> {
    let row = sqlx::query(&format!("{STATE_SQL} AND m.room_id = ?2"))
        .bind(user)
        .bind(room)
        .bind(UNREAD_MAX)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => state_from_row(&row),
        None => Ok(ReadState {
            room_id: room,
            ..ReadState::default()
        }),
    }
}

/// `user`'s read state in `room` (all zero if not a member).
pub async fn state(db: &Db, user: UserId, room: ConversationId) -> Result<ReadState> {
    let mut conn = db.reader().acquire().await?;
    state_in(&mut conn, user, room).await
}

/// `user`'s read state in every conversation they are in, one query.
pub async fn states(db: &Db, user: UserId) -> Result<Vec<ReadState>> {
    let rows = sqlx::query(STATE_SQL)
        .bind(user)
        .bind(ConversationId(0))
        .bind(UNREAD_MAX)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(state_from_row).collect()
}
