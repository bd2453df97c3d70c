//! SQLite storage of private groups: a `rooms` row of kind 'group' (not
//! public) with its announcement and invite setting, its `members` (with
//! their mutes), `group_bans`, and the events of every act. Each act checks
//! in its own write transaction that the actor owns the group at that
//! moment, so it cannot race a transfer of ownership.

use async_trait::async_trait;
use sqlx::{Connection, Row, SqliteConnection};
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationKind, ConversationSummary, ErrorCode, EventBody,
    GroupInfo, MediaId, MemberRole, MutedMember, UserBrief, UserId,
};

use super::conversations::require_member;
use super::events as log;
use super::SqliteStore;
use crate::store::{GroupAct, GroupStore};
use crate::{now_ms, DomainError, Result};

/// What an act needs to know about the conversation.
struct GroupRow {
    /// Its kind tag.
    kind: String,
    /// Its owner now.
    owner_id: UserId,
    /// Whether only the owner may add members.
    owner_only_invite: bool,
}

/// `not_found` or `not_group` unless `room` is a private group.
pub(crate) async fn require_group(conn: &mut SqliteConnection, room: ConversationId) -> Result<()> {
    group_row(conn, room).await.map(|_| ())
}

/// The group's row: `not_found`, `not_group`.
async fn group_row(conn: &mut SqliteConnection, room: ConversationId) -> Result<GroupRow> {
    let row = sqlx::query("SELECT kind, owner_id, owner_only_invite FROM rooms WHERE id = ?")
        .bind(room)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    let group = GroupRow {
        kind: row.try_get("kind")?,
        owner_id: row.try_get("owner_id")?,
        owner_only_invite: row.try_get("owner_only_invite")?,
    };
    if group.kind != ConversationKind::Group.as_str() {
        return Err(DomainError::code(ErrorCode::NotGroup));
    }
    Ok(group)
}

/// The public face of account `id`: `not_found`.
async fn brief(conn: &mut SqliteConnection, id: UserId) -> Result<UserBrief> {
    let row = sqlx::query(
        "SELECT id, username, nickname, avatar, avatar_url, bot FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    Ok(UserBrief {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        nickname: row.try_get("nickname")?,
        avatar: row.try_get::<Option<String>, _>("avatar")?.map(MediaId),
        avatar_url: row.try_get("avatar_url")?,
        bot: row.try_get("bot")?,
    })
}

/// Adds `user` as a member with `role` and counts them.
async fn insert_member(
    conn: &mut SqliteConnection,
    room: ConversationId,
    user: UserId,
    role: MemberRole,
) -> Result<()> {
    sqlx::query("INSERT INTO members (room_id, user_id, joined_ms, role) VALUES (?, ?, ?, ?)")
        .bind(room)
        .bind(user)
        .bind(now_ms())
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE rooms SET member_count = member_count + 1 WHERE id = ?")
        .bind(room)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes `user`'s membership (if any) and uncounts them; true if they were one.
pub(crate) async fn delete_member(
    conn: &mut SqliteConnection,
    room: ConversationId,
    user: UserId,
) -> Result<bool> {
    let gone = sqlx::query("DELETE FROM members WHERE room_id = ? AND user_id = ?")
        .bind(room)
        .bind(user)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        > 0;
    if gone {
        sqlx::query("UPDATE rooms SET member_count = member_count - 1 WHERE id = ?")
            .bind(room)
            .execute(&mut *conn)
            .await?;
    }
    Ok(gone)
}

#[async_trait]
impl GroupStore for SqliteStore {
    async fn create_group(
        &self,
        owner: &UserBrief,
        name: &str,
        members: &[UserBrief],
    ) -> Result<(ConversationSummary, Vec<ConversationEvent>)> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let id: ConversationId = sqlx::query_scalar(
            "INSERT INTO rooms (kind, name, name_folded, description, owner_id, is_public,
                                is_default, created_ms, member_count)
             VALUES (?, ?, ?, '', ?, 0, 0, ?, 0) RETURNING id",
        )
        .bind(ConversationKind::Group.as_str())
        .bind(name)
        .bind(crate::directory::fold(name))
        .bind(owner.id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        insert_member(&mut tx, id, owner.id, MemberRole::Owner).await?;
        let mut events = vec![
            log::append(
                &mut tx,
                id,
                owner,
                EventBody::GroupCreated { name: name.into() },
            )
            .await?,
        ];
        for member in members {
            insert_member(&mut tx, id, member.id, MemberRole::Member).await?;
            events.push(
                log::append(
                    &mut tx,
                    id,
                    owner,
                    EventBody::MemberAdded {
                        user: member.clone(),
                    },
                )
                .await?,
            );
        }
        tx.commit().await?;
        drop(writer);
        let summary = super::conversations::summary(&self.db, owner.id, id).await?;
        Ok((summary, events))
    }

    async fn add_members(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        users: &[UserBrief],
    ) -> Result<Vec<ConversationEvent>> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let group = group_row(&mut tx, room).await?;
        require_member(&mut tx, room, actor.id).await?;
        if group.owner_only_invite && group.owner_id != actor.id {
            return Err(DomainError::code(ErrorCode::OwnerOnly));
        }
        let mut events = Vec::new();
        for user in users {
            let (banned, member): (bool, bool) = sqlx::query_as(
                "SELECT EXISTS(SELECT 1 FROM group_bans WHERE room_id = ?1 AND user_id = ?2),
                        EXISTS(SELECT 1 FROM members WHERE room_id = ?1 AND user_id = ?2)",
            )
            .bind(room)
            .bind(user.id)
            .fetch_one(&mut *tx)
            .await?;
            if banned {
                return Err(DomainError::code(ErrorCode::Banned));
            }
            if member {
                continue;
            }
            insert_member(&mut tx, room, user.id, MemberRole::Member).await?;
            let added = log::append(
                &mut tx,
                room,
                actor,
                EventBody::MemberAdded { user: user.clone() },
            )
            .await?;
            // As on joining a room: what was said before is not unread.
            super::reads::advance_in(&mut tx, user.id, room, added.seq).await?;
            events.push(added);
        }
        if events.is_empty() {
            return Err(DomainError::code(ErrorCode::AlreadyMember));
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn moderate(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        act: GroupAct,
    ) -> Result<ConversationEvent> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let group = group_row(&mut tx, room).await?;
        require_member(&mut tx, room, actor.id).await?;
        if group.owner_id != actor.id {
            return Err(DomainError::code(ErrorCode::OwnerOnly));
        }
        let target = match &act {
            GroupAct::Remove(u)
            | GroupAct::Ban(u)
            | GroupAct::Mute { user: u, .. }
            | GroupAct::Transfer(u) => {
                if *u == actor.id {
                    return Err(DomainError::field(ErrorCode::CannotModerateSelf, "user_id"));
                }
                Some(brief(&mut tx, *u).await?)
            }
            _ => None,
        };
        let body = match act {
            GroupAct::Rename(name) => {
                sqlx::query("UPDATE rooms SET name = ?, name_folded = ? WHERE id = ?")
                    .bind(&name)
                    .bind(crate::directory::fold(&name))
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                EventBody::GroupRenamed { name }
            }
            GroupAct::Announce(text) => {
                sqlx::query("UPDATE rooms SET announcement = ? WHERE id = ?")
                    .bind(&text)
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                EventBody::AnnouncementSet { text }
            }
            GroupAct::InvitePolicy { owner_only } => {
                sqlx::query("UPDATE rooms SET owner_only_invite = ? WHERE id = ?")
                    .bind(owner_only)
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                EventBody::InvitePolicySet { owner_only }
            }
            GroupAct::Remove(user) => {
                if !delete_member(&mut tx, room, user).await? {
                    return Err(DomainError::field(ErrorCode::NotMember, "user_id"));
                }
                EventBody::MemberRemoved {
                    user: target.unwrap_or_else(|| actor.clone()),
                }
            }
            GroupAct::Ban(user) => {
                sqlx::query(
                    "INSERT OR IGNORE INTO group_bans (room_id, user_id, banned_ms) VALUES (?, ?, ?)",
                )
                .bind(room)
                .bind(user)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                delete_member(&mut tx, room, user).await?;
                EventBody::MemberBanned {
                    user: target.unwrap_or_else(|| actor.clone()),
                }
            }
            GroupAct::Mute { user, until_ms } => {
                let changed = sqlx::query(
                    "UPDATE members SET muted_until_ms = ? WHERE room_id = ? AND user_id = ?",
                )
                .bind(until_ms)
                .bind(room)
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(DomainError::field(ErrorCode::NotMember, "user_id"));
                }
                EventBody::MemberMuted {
                    user: target.unwrap_or_else(|| actor.clone()),
                    until_ms,
                }
            }
            GroupAct::Transfer(user) => {
                let changed = sqlx::query(
                    "UPDATE members SET role = 'owner', muted_until_ms = 0
                     WHERE room_id = ? AND user_id = ?",
                )
                .bind(room)
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(DomainError::field(ErrorCode::NotMember, "user_id"));
                }
                sqlx::query("UPDATE members SET role = 'member' WHERE room_id = ? AND user_id = ?")
                    .bind(room)
                    .bind(actor.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE rooms SET owner_id = ? WHERE id = ?")
                    .bind(user)
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                EventBody::OwnerChanged {
                    owner: target.unwrap_or_else(|| actor.clone()),
                }
            }
        };
        let event = log::append(&mut tx, room, actor, body).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn group_info(&self, room: ConversationId, now_ms: i64) -> Result<GroupInfo> {
        let mut conn = self.db.reader().acquire().await?;
        group_row(&mut conn, room).await?;
        let (announcement, owner_only_invite): (String, bool) =
            sqlx::query_as("SELECT announcement, owner_only_invite FROM rooms WHERE id = ?")
                .bind(room)
                .fetch_one(&mut *conn)
                .await?;
        let muted = sqlx::query(
            "SELECT u.id, u.username, u.nickname, u.avatar, u.avatar_url, u.bot, m.muted_until_ms FROM members m
             JOIN users u ON u.id = m.user_id
             WHERE m.room_id = ? AND m.muted_until_ms > ? ORDER BY u.nickname, u.id",
        )
        .bind(room)
        .bind(now_ms)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(MutedMember {
                user: UserBrief {
                    id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    nickname: r.try_get("nickname")?,
                    avatar: r.try_get::<Option<String>, _>("avatar")?.map(MediaId),
                avatar_url: r.try_get("avatar_url")?,
                bot: r.try_get("bot")?,
                },
                until_ms: r.try_get("muted_until_ms")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let banned = sqlx::query(
            "SELECT u.id, u.username, u.nickname, u.avatar, u.avatar_url, u.bot FROM group_bans b
             JOIN users u ON u.id = b.user_id
             WHERE b.room_id = ? ORDER BY u.nickname, u.id",
        )
        .bind(room)
        .fetch_all(&mut *conn)
        .await?
        .iter()
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
        .collect::<Result<Vec<_>>>()?;
        Ok(GroupInfo {
            id: room,
            announcement,
            owner_only_invite,
            muted,
            banned,
        })
    }

    async fn mutes_in_force(&self, now_ms: i64) -> Result<Vec<(ConversationId, UserId, i64)>> {
        Ok(sqlx::query_as(
            "SELECT room_id, user_id, muted_until_ms FROM members WHERE muted_until_ms > ?",
        )
        .bind(now_ms)
        .fetch_all(self.db.reader())
        .await?)
    }
}
