//! SQLite storage of recalls: in one transaction the message's row becomes
//! `recalled` (text, media reference, mentions and quote cleared), its
//! search row and mention rows go, its media row goes (the files are the
//! caller's to delete next), and the `message_recalled` event is logged.

use sqlx::{Connection, Row};
use teahouse_protocol::{
    ConversationId, ConversationKind, ErrorCode, EventBody, MediaRef, MemberRole, MsgType, Seq,
    UserBrief,
};

use super::conversations::require_member;
use super::events::{self as log, search_rowid};
use super::Db;
use crate::recall::{judge, RecallDone, RecallRule, RecallTarget};
use crate::{DomainError, Result};

/// Recalls the message at `room`/`seq` on behalf of `actor`, if
/// [`judge`] allows it under `rule`.
pub async fn recall(
    db: &Db,
    actor: &UserBrief,
    room: ConversationId,
    seq: Seq,
    rule: RecallRule,
) -> Result<RecallDone> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    if rule.as_group_owner {
        // As `group_delete_message` always answered: not a group first,
        // whoever asks (members or not).
        super::groups::require_group(&mut tx, room).await?;
    }
    require_member(&mut tx, room, actor.id).await?;
    let row = sqlx::query(
        "SELECT e.kind, e.actor_id, e.at_ms, e.msgtype, e.body, r.kind AS room_kind, m.role
         FROM events e
         JOIN rooms r ON r.id = e.room_id
         JOIN members m ON m.room_id = e.room_id AND m.user_id = ?1
         WHERE e.room_id = ?2 AND e.seq = ?3",
    )
    .bind(actor.id)
    .bind(room)
    .bind(seq)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| DomainError::field(ErrorCode::MessageNotFound, "seq"))?;
    let stored = |what: &str, value: String| {
        DomainError::Internal(format!(
            "event {room}/{seq} has an unknown {what} {value:?}"
        ))
    };
    let room_kind: String = row.try_get("room_kind")?;
    let role: String = row.try_get("role")?;
    let target = RecallTarget {
        kind: row.try_get("kind")?,
        sender: row.try_get("actor_id")?,
        at_ms: row.try_get("at_ms")?,
        conversation: ConversationKind::parse(&room_kind)
            .ok_or_else(|| stored("conversation kind", room_kind.clone()))?,
        role: MemberRole::parse(&role).ok_or_else(|| stored("role", role.clone()))?,
    };
    judge(&target, actor.id, rule)?;

    let msgtype: Option<String> = row.try_get("msgtype")?;
    let body: Option<String> = row.try_get("body")?;
    let media = match msgtype.as_deref().and_then(MsgType::parse) {
        Some(MsgType::Text) | Some(MsgType::Notice) | None => None,
        Some(_) => {
            let raw = body.unwrap_or_default();
            let media: MediaRef =
                serde_json::from_str(&raw).map_err(|_| stored("media reference", raw))?;
            Some(media.id)
        }
    };
    sqlx::query(
        "UPDATE events SET kind = 'recalled', msgtype = NULL, body = ?1, mentions = NULL,
                reply_to = NULL
         WHERE room_id = ?2 AND seq = ?3",
    )
    .bind(actor.id.to_string())
    .bind(room)
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM mentions WHERE room_id = ? AND seq = ?")
        .bind(room)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM message_search WHERE rowid = ?")
        .bind(search_rowid(room, seq))
        .execute(&mut *tx)
        .await?;
    if let Some(id) = &media {
        sqlx::query("DELETE FROM media WHERE id = ?")
            .bind(&id.0)
            .execute(&mut *tx)
            .await?;
    }
    let event = log::append(&mut tx, room, actor, EventBody::MessageRecalled { seq }).await?;
    tx.commit().await?;
    Ok(RecallDone { event, media })
}
