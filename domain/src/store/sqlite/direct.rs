//! SQLite storage of private 1:1 chats: the `direct_pairs` table (one
//! conversation per pair of users, lowest id first), the direct
//! conversation's row in `rooms` with its two members, the event that opens
//! its log, and the contact search (people who share a conversation with
//! you).

use sqlx::{Connection, Row};
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationKind, EventBody, MediaId, MemberRole, UserBrief,
    UserId,
};

use super::events as log;
use super::Db;
use crate::error::violates_unique;
use crate::{now_ms, Result};

/// A pair as `direct_pairs` keys it: lowest id first.
fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a.0 < b.0 {
        (a, b)
    } else {
        (b, a)
    }
}

/// The direct conversation between `a` and `b`, if one was opened.
pub async fn between(db: &Db, a: UserId, b: UserId) -> Result<Option<ConversationId>> {
    let (low, high) = ordered(a, b);
    Ok(
        sqlx::query_scalar("SELECT room_id FROM direct_pairs WHERE low_id = ? AND high_id = ?")
            .bind(low)
            .bind(high)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// Whether `a` and `b` are both members of at least one conversation.
pub async fn share_conversation(db: &Db, a: UserId, b: UserId) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS(SELECT 1 FROM members x JOIN members y ON y.room_id = x.room_id
                       WHERE x.user_id = ? AND y.user_id = ?)",
    )
    .bind(a)
    .bind(b)
    .fetch_one(db.reader())
    .await?)
}

/// Opens the direct conversation of `opener` and `peer`, or finds it: in one
/// write transaction, the pair is looked up and, if missing, the
/// conversation, its two members, the pair row and the `direct_opened`
/// event (seq 1) are stored together. Whoever loses a race to open the same
/// pair gets the winner's conversation and no event.
pub async fn open(
    db: &Db,
    opener: &UserBrief,
    peer: UserId,
) -> Result<(ConversationId, Option<ConversationEvent>)> {
    let (low, high) = ordered(opener.id, peer);
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let existing: Option<ConversationId> =
        sqlx::query_scalar("SELECT room_id FROM direct_pairs WHERE low_id = ? AND high_id = ?")
            .bind(low)
            .bind(high)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = existing {
        tx.rollback().await?;
        return Ok((id, None));
    }
    let now = now_ms();
    let id: ConversationId = sqlx::query_scalar(
        "INSERT INTO rooms (kind, name, name_folded, description, owner_id, is_public, is_default,
                            created_ms, member_count)
         VALUES (?, '', '', '', ?, 0, 0, ?, 2) RETURNING id",
    )
    .bind(ConversationKind::Direct.as_str())
    .bind(opener.id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    for user in [opener.id, peer] {
        sqlx::query("INSERT INTO members (room_id, user_id, joined_ms, role) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(user)
            .bind(now)
            .bind(MemberRole::Member.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let paired =
        sqlx::query("INSERT INTO direct_pairs (low_id, high_id, room_id) VALUES (?, ?, ?)")
            .bind(low)
            .bind(high)
            .bind(id)
            .execute(&mut *tx)
            .await;
    match paired {
        Ok(_) => {}
        // Another writer of the same file stored the pair first (the write
        // transaction above rules this out within one process): theirs wins.
        Err(e) if violates_unique(&e, "direct_pairs", "low_id") => {
            tx.rollback().await?;
            drop(writer);
            let winner = between(db, low, high).await?;
            return winner
                .map(|id| (id, None))
                .ok_or_else(|| crate::DomainError::Db(e));
        }
        Err(e) => return Err(e.into()),
    }
    let event = log::append(&mut tx, id, opener, EventBody::DirectOpened).await?;
    tx.commit().await?;
    Ok((id, Some(event)))
}

/// People who share a conversation with `me` (not `me`, not accounts that
/// cannot sign in such as the system user) whose username or nickname
/// contains `query` (already validated; ASCII letters compared without
/// case; empty: everyone), by nickname, at most `limit`.
pub async fn contacts(db: &Db, me: UserId, query: &str, limit: u32) -> Result<Vec<UserBrief>> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.nickname, u.avatar, u.avatar_url, u.bot FROM users u
         WHERE u.id IN (SELECT y.user_id FROM members x JOIN members y ON y.room_id = x.room_id
                        WHERE x.user_id = ?)
           AND u.id <> ? AND u.password_hash <> '!'
           AND (? = '' OR instr(lower(u.username), lower(?)) > 0
                       OR instr(lower(u.nickname), lower(?)) > 0)
         ORDER BY u.nickname, u.id
         LIMIT ?",
    )
    .bind(me)
    .bind(me)
    .bind(query)
    .bind(query)
    .bind(query)
    .bind(i64::from(limit))
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserBrief {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                nickname: r.try_get("nickname")?,
                avatar: r.try_get::<Option<String>, _>("avatar")?.map(MediaId),
                avatar_url: r.try_get("avatar_url")?,
                bot: r.try_get("bot")?,
            })
        })
        .collect()
}
