//! Storing a batch of messages in a fixed number of statements.
//!
//! The writer hands over every send that is waiting. Storing them one at a
//! time costs four statements per message, each a round trip to SQLite's
//! worker thread (and, on a busy core, two context switches). Here the whole
//! batch travels as one JSON parameter through three statements, whatever its
//! size:
//!
//! 1. check each send: does the room exist, is the sender a member, is its
//!    `client_id` already stored;
//! 2. bump each room's `last_seq` by its number of new messages;
//! 3. insert every new event.
//!
//! The caller's transaction makes the batch all-or-nothing. Sequence numbers
//! follow batch order within each room, so they stay gap-free and increasing.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{Row, SqliteConnection};
use teahouse_protocol::{ErrorCode, EventBody, RoomEvent, RoomId, Seq, UserBrief, UserId};

use crate::log::{find_by_client_id, msgtype_str, NewMessage, Sent};
use crate::{now_ms, DomainError, Result};

/// One send of a batch: who sends what.
pub(crate) type Send<'a> = (&'a UserBrief, &'a NewMessage);

/// What the check statement found for one send.
enum Verdict {
    /// Store it as a new event (in this room, at this position of the batch).
    Fresh,
    /// The same send was already stored (earlier, or earlier in this batch).
    Stored,
    /// Refused; the others in the batch go on.
    Rejected(ErrorCode),
}

/// Stores `sends` inside the caller's write transaction. Each send gets its
/// own outcome (a rejection does not disturb the others); a storage error
/// fails the whole call and the caller rolls back.
pub(crate) async fn store(
    conn: &mut SqliteConnection,
    sends: &[Send<'_>],
) -> Result<Vec<Result<Sent>>> {
    let verdicts = check(conn, sends).await?;
    // A client id repeated inside the batch is stored once: the first copy
    // decides, the later ones repeat its answer.
    let mut first_of: HashMap<(RoomId, UserId, &str), usize> = HashMap::new();
    let mut repeat_of: Vec<Option<usize>> = vec![None; sends.len()];
    for (i, (sender, msg)) in sends.iter().enumerate() {
        let key = (msg.room_id, sender.id, msg.client_id.as_str());
        match first_of.get(&key) {
            Some(&first) => repeat_of[i] = Some(first),
            None => {
                first_of.insert(key, i);
            }
        }
    }

    // Sequence numbers: each room's new messages in batch order.
    let mut per_room: HashMap<RoomId, i64> = HashMap::new();
    for (i, (_, msg)) in sends.iter().enumerate() {
        if repeat_of[i].is_none() && matches!(verdicts[i], Verdict::Fresh) {
            *per_room.entry(msg.room_id).or_default() += 1;
        }
    }
    let mut next_seq = bump_seqs(conn, &per_room).await?;

    let at_ms = now_ms();
    let mut outcomes: Vec<Option<Result<Sent>>> = Vec::with_capacity(sends.len());
    let mut rows = Vec::new();
    for (i, (sender, msg)) in sends.iter().enumerate() {
        let outcome = match (repeat_of[i], &verdicts[i]) {
            (Some(first), _) => repeat(&outcomes[first]),
            (None, Verdict::Rejected(code)) => Some(Err(DomainError::code(*code))),
            (None, Verdict::Stored) => {
                let stored = find_by_client_id(conn, msg.room_id, sender.id, &msg.client_id)
                    .await?
                    .ok_or_else(|| DomainError::Internal("stored event vanished".into()))?;
                Some(Ok(Sent {
                    event: stored,
                    fresh: false,
                }))
            }
            (None, Verdict::Fresh) => {
                let seq = next_seq
                    .get_mut(&msg.room_id)
                    .map(|seq| {
                        *seq += 1;
                        *seq - 1
                    })
                    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
                rows.push(json!([
                    msg.room_id,
                    seq,
                    at_ms,
                    sender.id,
                    msgtype_str(msg.msgtype),
                    msg.text,
                    msg.client_id
                ]));
                Some(Ok(Sent {
                    event: RoomEvent {
                        room_id: msg.room_id,
                        seq,
                        at_ms,
                        actor: (*sender).clone(),
                        body: EventBody::Message {
                            msgtype: msg.msgtype,
                            text: msg.text.clone(),
                            client_id: msg.client_id.clone(),
                        },
                    },
                    fresh: true,
                }))
            }
        };
        outcomes.push(outcome);
    }
    if !rows.is_empty() {
        sqlx::query(
            "INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id)
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
                    'message', j.value ->> 4, j.value ->> 5, j.value ->> 6
             FROM json_each(?) AS j",
        )
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *conn)
        .await?;
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

/// Statement 1: room exists / sender is a member / client id already stored,
/// for every send at once.
async fn check(conn: &mut SqliteConnection, sends: &[Send<'_>]) -> Result<Vec<Verdict>> {
    let keys: Vec<_> = sends
        .iter()
        .map(|(sender, msg)| json!([msg.room_id, sender.id, msg.client_id]))
        .collect();
    let rows = sqlx::query(
        "SELECT j.key AS i,
                EXISTS(SELECT 1 FROM rooms r WHERE r.id = j.value ->> 0) AS room,
                EXISTS(SELECT 1 FROM members m
                       WHERE m.room_id = j.value ->> 0 AND m.user_id = j.value ->> 1) AS member,
                EXISTS(SELECT 1 FROM events e
                       WHERE e.room_id = j.value ->> 0 AND e.actor_id = j.value ->> 1
                         AND e.client_id = j.value ->> 2) AS stored
         FROM json_each(?) AS j",
    )
    .bind(serde_json::Value::Array(keys).to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut verdicts: Vec<Option<Verdict>> = (0..sends.len()).map(|_| None).collect();
    for row in rows {
        let i: i64 = row.get("i");
        let verdict = if !row.get::<bool, _>("room") {
            Verdict::Rejected(ErrorCode::NotFound)
        } else if !row.get::<bool, _>("member") {
            Verdict::Rejected(ErrorCode::NotMember)
        } else if row.get::<bool, _>("stored") {
            Verdict::Stored
        } else {
            Verdict::Fresh
        };
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| verdicts.get_mut(i)) {
            *slot = Some(verdict);
        }
    }
    // json_each yields one row per send; a gap would be a storage fault, so
    // the whole batch fails (and is logged) rather than guess.
    verdicts
        .into_iter()
        .map(|v| v.ok_or_else(|| DomainError::Internal("batch check skipped a send".into())))
        .collect()
}

/// Statement 2: adds each room's count of new messages to its `last_seq`
/// and returns the first new seq of each room.
async fn bump_seqs(
    conn: &mut SqliteConnection,
    per_room: &HashMap<RoomId, i64>,
) -> Result<HashMap<RoomId, Seq>> {
    if per_room.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<_> = per_room.iter().map(|(room, n)| json!([room, n])).collect();
    let rows = sqlx::query(
        "UPDATE rooms SET last_seq = last_seq + (c.value ->> 1)
         FROM json_each(?) AS c
         WHERE rooms.id = c.value ->> 0
         RETURNING rooms.id AS id, rooms.last_seq AS last_seq",
    )
    .bind(serde_json::Value::Array(counts).to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut first = HashMap::with_capacity(rows.len());
    for row in rows {
        let room: RoomId = row.get("id");
        let last: Seq = row.get("last_seq");
        let n = per_room.get(&room).copied().unwrap_or(0);
        first.insert(room, last - n + 1);
    }
    Ok(first)
}
