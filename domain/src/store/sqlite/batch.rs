//! The message writer's [`BatchAppender`] on SQLite: its own rusqlite
//! connection, driven synchronously on the writer's thread, storing a batch
//! of sends inside one transaction.
//!
//! The writer's connection is driven synchronously on its own thread, so a
//! statement costs a call into SQLite, not a round trip to another thread:
//! each send is checked and inserted with small cached statements.
//!
//! 1. check each send: does the room exist, is the sender a member, is its
//!    `client_id` already stored;
//! 2. bump each room's `last_seq` by its number of new messages;
//! 3. insert every new event (and attach a media message's upload to it,
//!    index a text message for search, note whom it mentions).
//!
//! The transaction makes the batch all-or-nothing. Sequence numbers follow
//! batch order within each room, so they stay gap-free and increasing.
//!
//! Why rusqlite and not sqlx here: through sqlx each statement is a round
//! trip to SQLite's worker thread and back (a futex wake and a context switch
//! each way on a busy core), and rows come back one by one through a
//! channel. Here a statement is a call into SQLite.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use teahouse_protocol::{
    ConversationEvent, ConversationId, ErrorCode, EventBody, Message, MessageContent, Quote, Seq,
    UserId,
};
use tokio::sync::Mutex;

use super::conversations::{membership_columns, membership_verdict};
use super::events::{
    body_columns, find_by_client_id, search_rowid, StoredQuote, INDEX_TEXT_SQL, INSERT_EVENT_SQL,
};
use super::media;
use crate::log::Sent;
use crate::store::{BatchAppender, PendingSend as Send, WriteTurn};
use crate::{now_ms, DomainError, Result};

/// The writer thread's connection and the process's write turn.
pub(crate) struct SqliteAppender {
    /// Its own connection to the database file.
    pub(crate) conn: Connection,
    /// The process's write turn (shared with the sqlx writer).
    pub(crate) turn: Arc<Mutex<()>>,
}

impl BatchAppender for SqliteAppender {
    fn write_turn(&self) -> WriteTurn {
        WriteTurn::held(self.turn.clone().blocking_lock_owned())
    }

    fn append(&mut self, sends: &[Send<'_>]) -> Result<Vec<Result<Sent>>> {
        // Rolled back when dropped uncommitted.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcomes = store(&tx, sends)?;
        tx.commit()?;
        Ok(outcomes)
    }
}

/// What the check found for one send.
enum Verdict {
    /// Store it as a new event (quoting this, if it is a reply).
    Fresh(Option<Box<Quote>>),
    /// The same send was already stored (by an earlier batch).
    Stored,
    /// Refused; the others in the batch go on.
    Rejected(ErrorCode),
}

/// Stores `sends` inside the caller's write transaction. Each send gets its
/// own outcome (a rejection does not disturb the others); a storage error
/// fails the whole call and the caller rolls back.
pub(crate) fn store(conn: &Connection, sends: &[Send<'_>]) -> Result<Vec<Result<Sent>>> {
    let mut verdicts = check(conn, sends)?;
    // A client id repeated inside the batch is stored once: the first copy
    // decides, the later ones repeat its answer.
    let mut first_of: HashMap<(ConversationId, UserId, &str), usize> = HashMap::new();
    let mut repeat_of: Vec<Option<usize>> = vec![None; sends.len()];
    for (i, (sender, msg)) in sends.iter().enumerate() {
        let key = (msg.conversation_id, sender.id, msg.client_id.as_str());
        match first_of.get(&key) {
            Some(&first) => repeat_of[i] = Some(first),
            None => {
                first_of.insert(key, i);
            }
        }
    }

    // An upload is sent once: a second fresh send of it in the same batch
    // (another client id) is refused like one in a later batch.
    let mut claimed = std::collections::HashSet::new();
    for (i, (_, msg)) in sends.iter().enumerate() {
        if let (None, Verdict::Fresh(_), Some(m)) =
            (repeat_of[i], &verdicts[i], msg.content.media())
        {
            if !claimed.insert(&m.id) {
                verdicts[i] = Verdict::Rejected(ErrorCode::MediaAlreadySent);
            }
        }
    }

    // Sequence numbers: each room's new messages in batch order.
    let mut per_room: HashMap<ConversationId, i64> = HashMap::new();
    for (i, (_, msg)) in sends.iter().enumerate() {
        if repeat_of[i].is_none() && matches!(verdicts[i], Verdict::Fresh(_)) {
            *per_room.entry(msg.conversation_id).or_default() += 1;
        }
    }
    let mut next_seq = bump_seqs(conn, &per_room)?;

    let at_ms = now_ms();
    let mut insert = conn.prepare_cached(INSERT_EVENT_SQL)?;
    let mut index = conn.prepare_cached(INDEX_TEXT_SQL)?;
    let mut mention = conn.prepare_cached(
        "INSERT OR IGNORE INTO mentions (user_id, room_id, seq) VALUES (?1, ?2, ?3)",
    )?;
    let mut outcomes: Vec<Option<Result<Sent>>> = Vec::with_capacity(sends.len());
    // The batch's rows of the search index, written last in ascending
    // rowid order: FTS5 writes its pending rows out as a new segment
    // whenever a rowid is lower than the one before, and a conversation's
    // newer messages have lower rowids (see `search_rowid`). Written in
    // batch order, a batch of 30 messages to one room made 30 segments;
    // sorted, it makes one.
    let mut indexed: Vec<(i64, &str)> = Vec::new();
    for (i, (sender, msg)) in sends.iter().enumerate() {
        let outcome = match (repeat_of[i], &mut verdicts[i]) {
            (Some(first), _) => repeat(&outcomes[first]),
            (None, Verdict::Rejected(code)) => Some(Err(DomainError::code(*code))),
            (None, Verdict::Stored) => {
                let stored =
                    find_by_client_id(conn, msg.conversation_id, sender.id, &msg.client_id)?
                        .ok_or_else(|| DomainError::Internal("stored event vanished".into()))?;
                Some(Ok(Sent {
                    event: stored,
                    fresh: false,
                }))
            }
            (None, Verdict::Fresh(quote)) => {
                let seq = next_seq
                    .get_mut(&msg.conversation_id)
                    .map(|seq| {
                        *seq += 1;
                        *seq - 1
                    })
                    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
                let body = EventBody::Message(Message {
                    content: msg.content.clone(),
                    client_id: msg.client_id.clone(),
                    reply_to: quote.take(),
                    mentions: msg.mentions.clone(),
                });
                let columns = body_columns(&body)?;
                insert.execute(params![
                    msg.conversation_id,
                    seq,
                    at_ms,
                    sender.id,
                    columns.kind,
                    columns.msgtype,
                    columns.body.as_deref(),
                    columns.client_id,
                    columns.reply_to,
                    columns.mentions.as_deref(),
                ])?;
                if let Some(m) = msg.content.media() {
                    media::attach(conn, &m.id, msg.conversation_id, seq)?;
                }
                if let MessageContent::Text(text) = &msg.content {
                    indexed.push((search_rowid(msg.conversation_id, seq), text));
                }
                for user in msg.mentions.iter().filter(|u| **u != sender.id) {
                    mention.execute(params![user, msg.conversation_id, seq])?;
                }
                Some(Ok(Sent {
                    event: ConversationEvent {
                        conversation_id: msg.conversation_id,
                        seq,
                        at_ms,
                        actor: (*sender).clone(),
                        body,
                    },
                    fresh: true,
                }))
            }
        };
        outcomes.push(outcome);
    }
    indexed.sort_unstable_by_key(|(rowid, _)| *rowid);
    for (rowid, text) in indexed {
        index.execute(params![rowid, text])?;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(DomainError::Internal("send without outcome".into()))))
        .collect())
}

/// The answer for a repeat of an earlier send in the same batch: the same
/// event, marked as not fresh (it is pushed once, by the first copy).
fn repeat(first: &Option<Result<Sent>>) -> Option<Result<Sent>> {
    Some(match first {
        Some(Ok(sent)) => Ok(Sent {
            event: sent.event.clone(),
            fresh: false,
        }),
        Some(Err(DomainError::Rejected(e))) => Err(DomainError::Rejected(e.clone())),
        _ => Err(DomainError::Internal("repeat of a failed send".into())),
    })
}

/// Does the room exist, is the sender a member (the same columns as every
/// other membership check), is the client id stored already? One statement
/// per send. (?1 room, ?2 sender, ?3 client id.)
const CHECK_SQL: &str = concat!(
    "SELECT ",
    membership_columns!(),
    ", EXISTS(SELECT 1 FROM events WHERE room_id = ?1 AND actor_id = ?2 AND client_id = ?3)"
);

/// Step 1: room exists / sender is a member / client id already stored.
fn check(conn: &Connection, sends: &[Send<'_>]) -> Result<Vec<Verdict>> {
    let mut stmt = conn.prepare_cached(CHECK_SQL)?;
    sends
        .iter()
        .map(|(sender, msg)| {
            let (room, member, stored): (bool, bool, bool) = stmt.query_row(
                params![msg.conversation_id, sender.id, msg.client_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            Ok(match membership_verdict(room, member) {
                Err(DomainError::Rejected(e)) => Verdict::Rejected(e.code),
                Err(e) => return Err(e),
                Ok(()) if stored => Verdict::Stored,
                Ok(()) => {
                    let media = match msg.content.media() {
                        Some(m) => media::claim_refusal(conn, &m.id, sender.id)?,
                        None => None,
                    };
                    match media {
                        Some(code) => Verdict::Rejected(code),
                        None => match references(conn, msg)? {
                            Ok(quote) => Verdict::Fresh(quote),
                            Err(code) => Verdict::Rejected(code),
                        },
                    }
                }
            })
        })
        .collect()
}

/// A send's references: the message it quotes must be a message (or a
/// recalled one) of the same conversation, and everyone it mentions a
/// member of it. Returns the quote, or why the send is refused.
fn references(
    conn: &Connection,
    msg: &crate::log::NewMessage,
) -> Result<std::result::Result<Option<Box<Quote>>, ErrorCode>> {
    let quote = match msg.reply_to {
        Some(seq) => match StoredQuote::load(conn, msg.conversation_id, seq)?
            .and_then(StoredQuote::into_quote)
        {
            Some(q) => Some(Box::new(q)),
            None => return Ok(Err(ErrorCode::ReplyNotFound)),
        },
        None => None,
    };
    let mut member = conn.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM members WHERE room_id = ?1 AND user_id = ?2)",
    )?;
    for user in &msg.mentions {
        let is_member: bool =
            member.query_row(params![msg.conversation_id, user], |row| row.get(0))?;
        if !is_member {
            return Ok(Err(ErrorCode::MentionNotMember));
        }
    }
    Ok(Ok(quote))
}

/// Step 2: adds each room's count of new messages to its `last_seq` and
/// returns the first new seq of each room.
fn bump_seqs(
    conn: &Connection,
    per_room: &HashMap<ConversationId, i64>,
) -> Result<HashMap<ConversationId, Seq>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE rooms SET last_seq = last_seq + ?2 WHERE id = ?1 RETURNING last_seq",
    )?;
    let mut first = HashMap::with_capacity(per_room.len());
    for (&room, &n) in per_room {
        // A room that is gone gets no entry: its sends answer `not_found`.
        let last: Option<Seq> = stmt
            .query_row(params![room, n], |row| row.get(0))
            .optional()?;
        if let Some(last) = last {
            first.insert(room, last - n + 1);
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::Db;

    /// What SQLite plans for `sql` (bound to `params`), one step per line.
    fn plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps: Vec<String> = stmt
            .query_map(params, |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        steps.join("\n")
    }

    /// Every send looks up its client id, so that lookup must be an index
    /// seek (a scan would cost a send the size of the room's whole log).
    #[tokio::test]
    async fn the_duplicate_check_seeks_the_idempotency_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::open(&url).await.unwrap();
        let conn = db.open_sync_writer().unwrap();
        let check = plan(
            &conn,
            CHECK_SQL,
            params![1, 2, "019a5c3e-0000-7000-8000-000000000000"],
        );
        let seek = "INDEX events_idempotency (room_id=? AND client_id=? AND actor_id=?)";
        assert!(check.contains(seek), "{check}");
        let find = plan(
            &conn,
            &super::super::events::find_by_client_id_sql(),
            params![1, 2, "019a5c3e-0000-7000-8000-000000000000"],
        );
        assert!(find.contains(seek), "{find}");
    }
}
