//! SQLite storage of conversation logs: the one place that knows how an
//! event is laid out in the `events` table (its columns, how a body maps to
//! them and back), appends inside another aggregate's transaction, the
//! history pages, and the idempotency lookup of the message writer.
//!
//! Every event gets the next sequence number of its conversation in the
//! same transaction that stores it (`rooms.last_seq` is bumped first, which
//! also takes SQLite's write lock), so a log has no gaps, no repeats and
//! never goes back.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::borrow::Cow;

use teahouse_protocol::{
    ConversationEvent, ConversationId, ErrorCode, EventBody, MediaId, MediaRef, Message,
    MessageContent, MsgType, Seq, UserBrief, UserId,
};

use super::Db;
use crate::log::Page;
use crate::{now_ms, DomainError, Result};

/// Columns every event query selects, in the order [`StoredEvent`] reads.
const EVENT_COLUMNS: &str = "e.room_id, e.seq, e.at_ms, e.kind, e.msgtype, e.body, e.client_id, \
     u.id AS actor_id, u.username AS actor_username, u.nickname AS actor_nickname, \
     u.avatar AS actor_avatar";

/// The one statement that stores an event, for both writers (the sqlx one
/// for membership events, the message writer for batches). Bound in order:
/// room, seq, at_ms, actor, kind, msgtype, body, client_id.
pub(crate) const INSERT_EVENT_SQL: &str =
    "INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// How an event is laid out in its row's columns.
pub(crate) struct BodyColumns<'a> {
    /// `room_created`, `message`, `member_joined`, `member_left`,
    /// `direct_opened`.
    pub kind: &'static str,
    /// For messages: their [`MsgType`] tag.
    pub msgtype: Option<&'static str>,
    /// A text message's text, a media message's [`MediaRef`] as JSON (a
    /// snapshot: the log never changes when a file's row does), or the
    /// room name.
    pub body: Option<Cow<'a, str>>,
    /// The sender's idempotency key (messages).
    pub client_id: Option<&'a str>,
}

/// How an event body is stored. The inverse of [`StoredEvent::into_event`];
/// the only place that knows it.
pub(crate) fn body_columns(body: &EventBody) -> Result<BodyColumns<'_>> {
    let only = |kind| BodyColumns {
        kind,
        msgtype: None,
        body: None,
        client_id: None,
    };
    Ok(match body {
        EventBody::RoomCreated { name } => BodyColumns {
            body: Some(Cow::Borrowed(name)),
            ..only("room_created")
        },
        EventBody::Message(Message { content, client_id }) => BodyColumns {
            kind: "message",
            msgtype: Some(content.msgtype().as_str()),
            body: Some(match content {
                MessageContent::Text(text) => Cow::Borrowed(text.as_str()),
                MessageContent::Image(m) | MessageContent::Voice(m) | MessageContent::Video(m) => {
                    Cow::Owned(serde_json::to_string(m).map_err(|e| {
                        DomainError::Internal(format!("encoding a media reference: {e}"))
                    })?)
                }
            }),
            client_id: Some(client_id),
        },
        EventBody::MemberJoined => only("member_joined"),
        EventBody::MemberLeft => only("member_left"),
        EventBody::DirectOpened => only("direct_opened"),
    })
}

/// An event row as selected with [`EVENT_COLUMNS`], read by either driver;
/// [`StoredEvent::into_event`] is the one mapping back to the wire type.
pub(crate) struct StoredEvent {
    /// The conversation whose log the row belongs to.
    conversation_id: ConversationId,
    /// Its position in that log.
    seq: Seq,
    /// When it was stored.
    at_ms: i64,
    /// `room_created`, `message`, `member_joined`, `member_left`,
    /// `direct_opened`.
    kind: String,
    /// For messages: `text`, `image`, `voice`, `video`.
    msgtype: Option<String>,
    /// Message text or the room name.
    body: Option<String>,
    /// The sender's idempotency key (messages).
    client_id: Option<String>,
    /// Who caused it.
    actor: UserBrief,
}

impl StoredEvent {
    /// Reads a row of the sqlx connections.
    pub(crate) fn from_sqlx(row: &SqliteRow) -> sqlx::Result<StoredEvent> {
        Ok(StoredEvent {
            conversation_id: row.try_get("room_id")?,
            seq: row.try_get("seq")?,
            at_ms: row.try_get("at_ms")?,
            kind: row.try_get("kind")?,
            msgtype: row.try_get("msgtype")?,
            body: row.try_get("body")?,
            client_id: row.try_get("client_id")?,
            actor: UserBrief {
                id: row.try_get("actor_id")?,
                username: row.try_get("actor_username")?,
                nickname: row.try_get("actor_nickname")?,
                avatar: row
                    .try_get::<Option<String>, _>("actor_avatar")?
                    .map(MediaId),
            },
        })
    }

    /// Reads a row of the message writer's connection.
    fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
        Ok(StoredEvent {
            conversation_id: row.get("room_id")?,
            seq: row.get("seq")?,
            at_ms: row.get("at_ms")?,
            kind: row.get("kind")?,
            msgtype: row.get("msgtype")?,
            body: row.get("body")?,
            client_id: row.get("client_id")?,
            actor: UserBrief {
                id: row.get("actor_id")?,
                username: row.get("actor_username")?,
                nickname: row.get("actor_nickname")?,
                avatar: row.get::<_, Option<String>>("actor_avatar")?.map(MediaId),
            },
        })
    }

    /// The wire event. A kind or msgtype this build does not know (a newer
    /// build's row, a damaged file) is an internal error with a log line,
    /// never silently shown as something else.
    pub(crate) fn into_event(self) -> Result<ConversationEvent> {
        let unknown = |what: &str, value: &str| {
            tracing::error!(
                conversation_id = %self.conversation_id,
                seq = self.seq,
                "stored event has an unknown {what} {value:?}"
            );
            DomainError::Internal(format!(
                "event {}/{} has unknown {what} {value:?}",
                self.conversation_id, self.seq
            ))
        };
        let body = match self.kind.as_str() {
            "room_created" => EventBody::RoomCreated {
                name: self.body.clone().unwrap_or_default(),
            },
            "member_joined" => EventBody::MemberJoined,
            "member_left" => EventBody::MemberLeft,
            "direct_opened" => EventBody::DirectOpened,
            "message" => {
                let raw = self.msgtype.as_deref().unwrap_or_default();
                let msgtype = MsgType::parse(raw).ok_or_else(|| unknown("msgtype", raw))?;
                let body = self.body.clone().unwrap_or_default();
                let content = if msgtype == MsgType::Text {
                    MessageContent::Text(body)
                } else {
                    let media: MediaRef = serde_json::from_str(&body)
                        .map_err(|_| unknown("media reference", &body))?;
                    MessageContent::from_parts(msgtype, String::new(), Some(media))
                        .ok_or_else(|| unknown("msgtype", raw))?
                };
                EventBody::Message(Message {
                    content,
                    client_id: self.client_id.clone().unwrap_or_default(),
                })
            }
            other => return Err(unknown("kind", other)),
        };
        Ok(ConversationEvent {
            conversation_id: self.conversation_id,
            seq: self.seq,
            at_ms: self.at_ms,
            actor: self.actor,
            body,
        })
    }
}

/// Rebuilds a [`ConversationEvent`] from a row selected with [`EVENT_COLUMNS`].
pub(crate) fn event_from_row(row: &SqliteRow) -> Result<ConversationEvent> {
    StoredEvent::from_sqlx(row)?.into_event()
}

/// Appends `body` to room `room_id`'s log inside the caller's transaction and
/// returns the stored event. Fails with `not_found` if the room is missing.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    room_id: ConversationId,
    actor: &UserBrief,
    body: EventBody,
) -> Result<ConversationEvent> {
    let seq: Option<Seq> = sqlx::query_scalar(
        "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
    )
    .bind(room_id)
    .fetch_optional(&mut *conn)
    .await?;
    let seq = seq.ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    let at_ms = now_ms();
    let columns = body_columns(&body)?;
    sqlx::query(INSERT_EVENT_SQL)
        .bind(room_id)
        .bind(seq)
        .bind(at_ms)
        .bind(actor.id)
        .bind(columns.kind)
        .bind(columns.msgtype)
        .bind(columns.body.as_deref())
        .bind(columns.client_id)
        .execute(&mut *conn)
        .await?;
    Ok(ConversationEvent {
        conversation_id: room_id,
        seq,
        at_ms,
        actor: actor.clone(),
        body,
    })
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
    room_id: ConversationId,
    actor_id: UserId,
    client_id: &str,
) -> Result<Option<ConversationEvent>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&find_by_client_id_sql())?
        .query_row(
            rusqlite::params![room_id, actor_id, client_id],
            StoredEvent::from_rusqlite,
        )
        .optional()?
        .map(StoredEvent::into_event)
        .transpose()
}

/// Reads a page of room `room_id`'s log, always in ascending seq order.
/// The caller checks membership.
pub async fn read(db: &Db, room_id: ConversationId, page: Page) -> Result<Vec<ConversationEvent>> {
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
        .fetch_all(db.reader())
        .await?;
    let mut events = rows
        .iter()
        .map(event_from_row)
        .collect::<Result<Vec<ConversationEvent>>>()?;
    if reverse {
        events.reverse();
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, msgtype: Option<&str>) -> StoredEvent {
        StoredEvent {
            conversation_id: ConversationId(1),
            seq: 2,
            at_ms: 3,
            kind: kind.into(),
            msgtype: msgtype.map(Into::into),
            body: Some("hi".into()),
            client_id: Some("c".into()),
            actor: UserBrief {
                id: UserId(4),
                username: "u".into(),
                nickname: "n".into(),
                avatar: None,
            },
        }
    }

    #[test]
    fn every_body_reads_back_as_it_was_stored() {
        for body in [
            EventBody::RoomCreated { name: "r".into() },
            EventBody::MemberJoined,
            EventBody::MemberLeft,
            EventBody::DirectOpened,
            EventBody::Message(Message::text("t", "c")),
            EventBody::Message(Message {
                content: MessageContent::Voice(MediaRef {
                    id: teahouse_protocol::MediaId("abcdefghijklmnopqrstuvwxyz".into()),
                    mime: "audio/webm".into(),
                    bytes: 2048,
                    width: None,
                    height: None,
                    duration_ms: Some(7_000),
                }),
                client_id: "c".into(),
            }),
        ] {
            let columns = body_columns(&body).unwrap();
            let stored = StoredEvent {
                body: columns.body.map(Into::into),
                client_id: columns.client_id.map(Into::into),
                ..row(columns.kind, columns.msgtype)
            };
            assert_eq!(stored.into_event().unwrap().body, body);
        }
    }

    #[test]
    fn unknown_stored_kinds_are_internal_errors_not_text_messages() {
        for stored in [
            row("sticker", None),
            row("message", Some("hologram")),
            // A media message whose reference does not parse.
            row("message", Some("image")),
        ] {
            match stored.into_event() {
                Err(DomainError::Internal(_)) => {}
                other => panic!("expected an internal error, got {other:?}"),
            }
        }
    }
}
