//! The per-room event log.
//!
//! Every event gets the next sequence number of its room in the same
//! transaction that stores it (`rooms.last_seq` is bumped first, which also
//! takes SQLite's write lock), so a log has no gaps, no repeats and never goes
//! back. Messages carry the sender's `client_id`; a retry with the same id
//! returns the stored event instead of storing a second copy.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use teahouse_protocol::{ErrorCode, EventBody, MsgType, RoomEvent, RoomId, Seq, UserBrief};

use crate::{now_ms, Db, DomainError, Result};

/// Columns every event query selects, in the order [`event_from_row`] reads.
const EVENT_COLUMNS: &str = "e.room_id, e.seq, e.at_ms, e.kind, e.msgtype, e.body, e.client_id, \
     u.id AS actor_id, u.username AS actor_username, u.nickname AS actor_nickname";

pub(crate) fn msgtype_str(t: MsgType) -> &'static str {
    match t {
        MsgType::Text => "text",
        MsgType::Image => "image",
        MsgType::Voice => "voice",
        MsgType::Video => "video",
    }
}

fn msgtype_parse(s: &str) -> MsgType {
    match s {
        "image" => MsgType::Image,
        "voice" => MsgType::Voice,
        "video" => MsgType::Video,
        _ => MsgType::Text,
    }
}

/// An event's body from its stored columns.
fn body_from_columns(
    kind: &str,
    msgtype: Option<&str>,
    body: Option<String>,
    client_id: Option<String>,
) -> EventBody {
    match kind {
        "room_created" => EventBody::RoomCreated {
            name: body.unwrap_or_default(),
        },
        "member_joined" => EventBody::MemberJoined,
        "member_left" => EventBody::MemberLeft,
        _ => EventBody::Message {
            msgtype: msgtype_parse(msgtype.unwrap_or("text")),
            text: body.unwrap_or_default(),
            client_id: client_id.unwrap_or_default(),
        },
    }
}

/// Rebuilds a [`RoomEvent`] from a row selected with [`EVENT_COLUMNS`].
pub(crate) fn event_from_row(row: &SqliteRow) -> RoomEvent {
    let kind: String = row.get("kind");
    let msgtype: Option<String> = row.get("msgtype");
    RoomEvent {
        room_id: row.get("room_id"),
        seq: row.get("seq"),
        at_ms: row.get("at_ms"),
        actor: UserBrief {
            id: row.get("actor_id"),
            username: row.get("actor_username"),
            nickname: row.get("actor_nickname"),
        },
        body: body_from_columns(
            &kind,
            msgtype.as_deref(),
            row.get("body"),
            row.get("client_id"),
        ),
    }
}

/// The same as [`event_from_row`], for the message writer's connection.
fn event_from_sync_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RoomEvent> {
    let kind: String = row.get("kind")?;
    let msgtype: Option<String> = row.get("msgtype")?;
    Ok(RoomEvent {
        room_id: row.get("room_id")?,
        seq: row.get("seq")?,
        at_ms: row.get("at_ms")?,
        actor: UserBrief {
            id: row.get("actor_id")?,
            username: row.get("actor_username")?,
            nickname: row.get("actor_nickname")?,
        },
        body: body_from_columns(
            &kind,
            msgtype.as_deref(),
            row.get("body")?,
            row.get("client_id")?,
        ),
    })
}

/// Appends `body` to room `room_id`'s log inside the caller's transaction and
/// returns the stored event. Fails with `not_found` if the room is missing.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    room_id: RoomId,
    actor: &UserBrief,
    body: EventBody,
) -> Result<RoomEvent> {
    let seq: Option<Seq> = sqlx::query_scalar(
        "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
    )
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?;
    let seq = seq.ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    let at_ms = now_ms();
    let (kind, msgtype, text, client_id) = match &body {
        EventBody::RoomCreated { name } => ("room_created", None, Some(name.as_str()), None),
        EventBody::Message {
            msgtype,
            text,
            client_id,
        } => (
            "message",
            Some(msgtype_str(*msgtype)),
            Some(text.as_str()),
            Some(client_id.as_str()),
        ),
        EventBody::MemberJoined => ("member_joined", None, None, None),
        EventBody::MemberLeft => ("member_left", None, None, None),
    };
    sqlx::query(
        "INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(room_id)
    .bind(seq)
    .bind(at_ms)
    .bind(actor.id)
    .bind(kind)
    .bind(msgtype)
    .bind(text)
    .bind(client_id)
    .execute(&mut *conn)
    .await?;
    Ok(RoomEvent {
        room_id,
        seq,
        at_ms,
        actor: actor.clone(),
        body,
    })
}

/// A validated message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub room_id: RoomId,
    pub client_id: String,
    pub msgtype: MsgType,
    pub text: String,
}

/// The result of a send: the stored event, and whether this call stored it
/// (false when it was a retry of an already stored `client_id`).
#[derive(Clone, Debug)]
pub struct Sent {
    pub event: RoomEvent,
    pub fresh: bool,
}

/// The query of [`find_by_client_id`] (?1 room, ?2 sender, ?3 client id).
pub(crate) fn find_by_client_id_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN users u ON u.id = e.actor_id
         WHERE e.room_id = ?1 AND e.actor_id = ?2 AND e.client_id = ?3"
    )
}

/// The message `actor_id` stored in `room_id` under `client_id`, if any
/// (a retried send), read on the message writer's connection.
pub(crate) fn find_by_client_id(
    conn: &rusqlite::Connection,
    room_id: RoomId,
    actor_id: i64,
    client_id: &str,
) -> rusqlite::Result<Option<RoomEvent>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&find_by_client_id_sql())?
        .query_row(rusqlite::params![room_id, actor_id, client_id], |row| {
            event_from_sync_row(row)
        })
        .optional()
}

/// Which part of a log to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` events with seq < `before` (None: the very newest).
    Before { before: Option<Seq>, limit: u32 },
    /// The oldest `limit` events with seq > `after` (catch-up after a gap).
    After { after: Seq, limit: u32 },
}

/// Reads a page of room `room_id`'s log, always in ascending seq order.
/// The caller checks membership.
pub async fn read(db: &Db, room_id: RoomId, page: Page) -> Result<Vec<RoomEvent>> {
    let (sql, bound, limit, reverse) = match page {
        Page::Before { before, limit } => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN users u ON u.id = e.actor_id
                 WHERE e.room_id = ? AND e.seq < ? ORDER BY e.seq DESC LIMIT ?"
            ),
            before.unwrap_or(i64::MAX),
            limit,
            true,
        ),
        Page::After { after, limit } => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN users u ON u.id = e.actor_id
                 WHERE e.room_id = ? AND e.seq > ? ORDER BY e.seq ASC LIMIT ?"
            ),
            after,
            limit,
            false,
        ),
    };
    let rows = sqlx::query(&sql)
        .bind(room_id)
        .bind(bound)
        .bind(limit.min(teahouse_protocol::limits::HISTORY_PAGE_MAX))
        .fetch_all(&db.read)
        .await?;
    let mut events: Vec<RoomEvent> = rows.iter().map(event_from_row).collect();
    if reverse {
        events.reverse();
    }
    Ok(events)
}
