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
    MessageContent, MsgType, Quote, Seq, UserBrief, UserId,
};

use super::Db;
use crate::log::Page;
use crate::{now_ms, DomainError, Result};

/// Columns every event query selects, in the order [`StoredEvent`] reads
/// (`q`/`qu`: the quoted message and its sender, see [`EVENT_FROM`]).
pub(crate) const EVENT_COLUMNS: &str =
    "e.room_id, e.seq, e.at_ms, e.kind, e.msgtype, e.body, e.client_id, \
     e.reply_to, e.mentions, \
     u.id AS actor_id, u.username AS actor_username, u.nickname AS actor_nickname, \
     u.avatar AS actor_avatar, u.avatar_url AS actor_avatar_url, u.bot AS actor_bot, \
     q.seq AS q_seq, q.kind AS q_kind, q.msgtype AS q_msgtype, q.body AS q_body, \
     qu.id AS q_actor_id, qu.username AS q_actor_username, qu.nickname AS q_actor_nickname";

/// The joins [`EVENT_COLUMNS`] reads from: the event `e`, its actor `u`,
/// and the message it quotes `q` (same conversation) with its sender `qu`.
pub(crate) const EVENT_JOINS: &str = "JOIN users u ON u.id = e.actor_id \
     LEFT JOIN events q ON q.room_id = e.room_id AND q.seq = e.reply_to \
     LEFT JOIN users qu ON qu.id = q.actor_id";

/// The one statement that stores an event, for both writers (the sqlx one
/// for membership events, the message writer for batches). Bound in order:
/// room, seq, at_ms, actor, kind, msgtype, body, client_id, reply_to,
/// mentions.
pub(crate) const INSERT_EVENT_SQL: &str =
    "INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id,
                         reply_to, mentions)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// The rowid of a text message in `message_search` (migration 0060): its
/// conversation in the high 32 bits and its seq in the low ones, both
/// counted down, so that ascending rowid order is the order results are
/// shown in (newest conversation first, then newest message first).
pub(crate) fn search_rowid(room: ConversationId, seq: Seq) -> i64 {
    ((0x7FFF_FFFF - (room.0 & 0x7FFF_FFFF)) << 32) | (0xFFFF_FFFF - (seq & 0xFFFF_FFFF))
}

/// Indexes a text message for search (in the transaction that stores it).
pub(crate) const INDEX_TEXT_SQL: &str = "INSERT INTO message_search (rowid, body) VALUES (?1, ?2)";

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
    /// The quoted message's seq (replies).
    pub reply_to: Option<Seq>,
    /// The mentioned members' ids, as a JSON array (None: no mentions).
    pub mentions: Option<String>,
}

/// How an event body is stored. The inverse of [`StoredEvent::into_event`];
/// the only place that knows it.
pub(crate) fn body_columns(body: &EventBody) -> Result<BodyColumns<'_>> {
    let only = |kind| BodyColumns {
        kind,
        msgtype: None,
        body: None,
        client_id: None,
        reply_to: None,
        mentions: None,
    };
    if let Some((kind, json)) = super::access_events::columns(body)? {
        return Ok(BodyColumns {
            body: Some(json),
            ..only(kind)
        });
    }
    Ok(match body {
        EventBody::RoomCreated { name } => BodyColumns {
            body: Some(Cow::Borrowed(name)),
            ..only("room_created")
        },
        EventBody::Message(Message {
            content,
            client_id,
            reply_to,
            mentions,
        }) => BodyColumns {
            kind: "message",
            msgtype: Some(content.msgtype().as_str()),
            body: Some(match content {
                MessageContent::Text(text) | MessageContent::Notice(text) => {
                    Cow::Borrowed(text.as_str())
                }
                MessageContent::Image(m) | MessageContent::Voice(m) | MessageContent::Video(m) => {
                    Cow::Owned(serde_json::to_string(m).map_err(|e| {
                        DomainError::Internal(format!("encoding a media reference: {e}"))
                    })?)
                }
            }),
            client_id: Some(client_id),
            reply_to: reply_to.as_ref().map(|q| q.seq),
            mentions: match mentions.is_empty() {
                true => None,
                false => Some(
                    serde_json::to_string(mentions)
                        .map_err(|e| DomainError::Internal(format!("encoding mentions: {e}")))?,
                ),
            },
        },
        EventBody::MemberJoined => only("member_joined"),
        EventBody::MemberLeft => only("member_left"),
        EventBody::DirectOpened => only("direct_opened"),
        EventBody::MessageRecalled { seq } => BodyColumns {
            body: Some(Cow::Owned(seq.to_string())),
            ..only("message_recalled")
        },
        EventBody::Recalled { by } => BodyColumns {
            body: Some(Cow::Owned(by.to_string())),
            ..only("recalled")
        },
        // Stored by `access_events` (returned above). Listed, not `_`, so
        // that a new kind must be given its columns here or there.
        EventBody::GroupCreated { .. }
        | EventBody::MemberAdded { .. }
        | EventBody::MemberRemoved { .. }
        | EventBody::MemberMuted { .. }
        | EventBody::MemberBanned { .. }
        | EventBody::GroupRenamed { .. }
        | EventBody::AnnouncementSet { .. }
        | EventBody::InvitePolicySet { .. }
        | EventBody::OwnerChanged { .. }
        | EventBody::SupportOpened
        | EventBody::SupportAssigned { .. }
        | EventBody::SupportReturned { .. }
        | EventBody::SupportClosed
        | EventBody::SupportReopened => {
            return Err(DomainError::Internal("event kind without columns".into()))
        }
    })
}

/// The quoted message of a reply, as selected with [`EVENT_COLUMNS`].
pub(crate) struct StoredQuote {
    /// Its seq.
    seq: Seq,
    /// `message` or `recalled` (anything else is not quotable).
    kind: String,
    /// Its msgtype while it is a message.
    msgtype: Option<String>,
    /// Its text (text messages).
    body: Option<String>,
    /// Its sender.
    sender: UserBrief,
}

impl StoredQuote {
    /// The wire quote; None for a row that is not a message.
    pub(crate) fn into_quote(self) -> Option<Quote> {
        let recalled = match self.kind.as_str() {
            "message" => false,
            "recalled" => true,
            _ => return None,
        };
        let msgtype = if recalled {
            None
        } else {
            self.msgtype.as_deref().and_then(MsgType::parse)
        };
        let excerpt = match msgtype {
            Some(MsgType::Text) => Quote::excerpt_of(self.body.as_deref().unwrap_or("")),
            _ => String::new(),
        };
        Some(Quote {
            seq: self.seq,
            sender: self.sender,
            msgtype,
            excerpt,
            recalled,
        })
    }

    /// Reads the message at `room`/`seq` as a quote on the message writer's
    /// connection (a reply being stored); None if there is no such row.
    pub(crate) fn load(
        conn: &rusqlite::Connection,
        room: ConversationId,
        seq: Seq,
    ) -> rusqlite::Result<Option<StoredQuote>> {
        use rusqlite::OptionalExtension;
        conn.prepare_cached(
            "SELECT e.seq, e.kind, e.msgtype, e.body, u.id, u.username, u.nickname
             FROM events e JOIN users u ON u.id = e.actor_id
             WHERE e.room_id = ?1 AND e.seq = ?2",
        )?
        .query_row(rusqlite::params![room, seq], |row| {
            Ok(StoredQuote {
                seq: row.get(0)?,
                kind: row.get(1)?,
                msgtype: row.get(2)?,
                body: row.get(3)?,
                sender: UserBrief {
                    id: row.get(4)?,
                    username: row.get(5)?,
                    nickname: row.get(6)?,
                    // A quote shows the name, not the picture.
                    avatar: None,
                    avatar_url: None,
                    bot: false,
                },
            })
        })
        .optional()
    }
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
    /// The quoted message's seq (replies).
    reply_to: Option<Seq>,
    /// Mentioned ids as a JSON array.
    mentions: Option<String>,
    /// The quoted message as it is now (replies).
    quote: Option<StoredQuote>,
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
            reply_to: row.try_get("reply_to")?,
            mentions: row.try_get("mentions")?,
            quote: match row.try_get::<Option<Seq>, _>("q_seq")? {
                Some(seq) => Some(StoredQuote {
                    seq,
                    kind: row.try_get("q_kind")?,
                    msgtype: row.try_get("q_msgtype")?,
                    body: row.try_get("q_body")?,
                    sender: UserBrief {
                        id: row.try_get("q_actor_id")?,
                        username: row.try_get("q_actor_username")?,
                        nickname: row.try_get("q_actor_nickname")?,
                        // A quote shows the name, not the picture.
                        avatar: None,
                        avatar_url: None,
                        bot: false,
                    },
                }),
                None => None,
            },
            actor: UserBrief {
                id: row.try_get("actor_id")?,
                username: row.try_get("actor_username")?,
                nickname: row.try_get("actor_nickname")?,
                avatar: row
                    .try_get::<Option<String>, _>("actor_avatar")?
                    .map(MediaId),
                avatar_url: row.try_get("actor_avatar_url")?,
                bot: row.try_get("actor_bot")?,
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
            reply_to: row.get("reply_to")?,
            mentions: row.get("mentions")?,
            quote: match row.get::<_, Option<Seq>>("q_seq")? {
                Some(seq) => Some(StoredQuote {
                    seq,
                    kind: row.get("q_kind")?,
                    msgtype: row.get("q_msgtype")?,
                    body: row.get("q_body")?,
                    sender: UserBrief {
                        id: row.get("q_actor_id")?,
                        username: row.get("q_actor_username")?,
                        nickname: row.get("q_actor_nickname")?,
                        // A quote shows the name, not the picture.
                        avatar: None,
                        avatar_url: None,
                        bot: false,
                    },
                }),
                None => None,
            },
            actor: UserBrief {
                id: row.get("actor_id")?,
                username: row.get("actor_username")?,
                nickname: row.get("actor_nickname")?,
                avatar: row.get::<_, Option<String>>("actor_avatar")?.map(MediaId),
                avatar_url: row.get("actor_avatar_url")?,
                bot: row.get("actor_bot")?,
            },
        })
    }

    /// The wire event. A kind or msgtype this build does not know (a newer
    /// build's row, a damaged file) is an internal error with a log line,
    /// never silently shown as something else.
    pub(crate) fn into_event(mut self) -> Result<ConversationEvent> {
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
        if let Some(read) = super::access_events::read(&self.kind, self.body.as_deref()) {
            let body = read.map_err(|()| unknown("body of", &self.kind))?;
            return Ok(ConversationEvent {
                conversation_id: self.conversation_id,
                seq: self.seq,
                at_ms: self.at_ms,
                actor: self.actor,
                body,
            });
        }
        let body = match self.kind.as_str() {
            "room_created" => EventBody::RoomCreated {
                name: self.body.clone().unwrap_or_default(),
            },
            "member_joined" => EventBody::MemberJoined,
            "member_left" => EventBody::MemberLeft,
            "direct_opened" => EventBody::DirectOpened,
            "message_recalled" => {
                let raw = self.body.as_deref().unwrap_or_default();
                let seq = raw.parse().map_err(|_| unknown("recalled seq", raw))?;
                EventBody::MessageRecalled { seq }
            }
            "recalled" => {
                let raw = self.body.as_deref().unwrap_or_default();
                let by = raw.parse().map_err(|_| unknown("recaller", raw))?;
                EventBody::Recalled { by }
            }
            "message" => {
                let raw = self.msgtype.as_deref().unwrap_or_default();
                let msgtype = MsgType::parse(raw).ok_or_else(|| unknown("msgtype", raw))?;
                let body = self.body.clone().unwrap_or_default();
                let content = if msgtype == MsgType::Text {
                    MessageContent::Text(body)
                } else if msgtype == MsgType::Notice {
                    MessageContent::Notice(body)
                } else {
                    let media: MediaRef = serde_json::from_str(&body)
                        .map_err(|_| unknown("media reference", &body))?;
                    MessageContent::from_parts(msgtype, String::new(), Some(media))
                        .ok_or_else(|| unknown("msgtype", raw))?
                };
                let mentions = match self.mentions.as_deref() {
                    Some(raw) => serde_json::from_str(raw).map_err(|_| unknown("mentions", raw))?,
                    None => Vec::new(),
                };
                let reply_to = match (self.reply_to, self.quote.take()) {
                    (Some(_), Some(q)) => q.into_quote().map(Box::new),
                    _ => None,
                };
                EventBody::Message(Message {
                    content,
                    client_id: self.client_id.clone().unwrap_or_default(),
                    reply_to,
                    mentions,
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
        .bind(columns.reply_to)
        .bind(columns.mentions.as_deref())
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
        "SELECT {EVENT_COLUMNS} FROM events e {EVENT_JOINS}
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
    let Page::Around { seq, limit } = page else {
        return read_one_way(db, room_id, page).await;
    };
    // `seq` itself and the older half, then the newer half.
    let limit = limit.clamp(1, teahouse_protocol::limits::HISTORY_PAGE_MAX);
    let older = limit.div_ceil(2);
    let mut events = read_one_way(
        db,
        room_id,
        Page::Before {
            before: Some(seq.saturating_add(1)),
            limit: older,
        },
    )
    .await?;
    if limit > older {
        let newer = Page::After {
            after: seq,
            limit: limit - older,
        };
        events.extend(read_one_way(db, room_id, newer).await?);
    }
    Ok(events)
}

/// [`read`] of a page that goes one way from its cursor.
async fn read_one_way(
    db: &Db,
    room_id: ConversationId,
    page: Page,
) -> Result<Vec<ConversationEvent>> {
    let (sql, bound, limit, reverse) = match page {
        Page::Before { before, limit } => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e {EVENT_JOINS}
                 WHERE e.room_id = ? AND e.seq < ? ORDER BY e.seq DESC LIMIT ?"
            ),
            before.unwrap_or(i64::MAX),
            limit,
            true,
        ),
        Page::After { after, limit } => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e {EVENT_JOINS}
                 WHERE e.room_id = ? AND e.seq > ? ORDER BY e.seq ASC LIMIT ?"
            ),
            after,
            limit,
            false,
        ),
        Page::Around { .. } => {
            return Err(DomainError::Internal(
                "read_one_way of an around page".into(),
            ))
        }
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
            reply_to: None,
            mentions: None,
            quote: None,
            actor: UserBrief {
                id: UserId(4),
                username: "u".into(),
                nickname: "n".into(),
                avatar: None,
                avatar_url: None,
                bot: false,
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
            EventBody::MessageRecalled { seq: 12 },
            EventBody::Recalled { by: UserId(3) },
            EventBody::Message(Message::text("t", "c")),
            EventBody::Message(Message::of(MessageContent::Notice("n".into()), "c")),
            EventBody::Message(Message {
                mentions: vec![UserId(5), UserId(6)],
                ..Message::text("@x @y", "c")
            }),
            EventBody::Message(Message::of(
                MessageContent::Voice(MediaRef {
                    id: teahouse_protocol::MediaId("abcdefghijklmnopqrstuvwxyz".into()),
                    mime: "audio/webm".into(),
                    bytes: 2048,
                    width: None,
                    height: None,
                    duration_ms: Some(7_000),
                }),
                "c",
            )),
        ] {
            let columns = body_columns(&body).unwrap();
            let stored = StoredEvent {
                body: columns.body.map(Into::into),
                client_id: columns.client_id.map(Into::into),
                mentions: columns.mentions,
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
