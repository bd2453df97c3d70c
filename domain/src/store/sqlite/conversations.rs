//! SQLite storage of conversations and their members. Every membership
//! change is stored with the event that records it, and moves the room's
//! `member_count`, in one transaction.

use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row, SqliteConnection};
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationKind, ConversationSummary, ErrorCode, EventBody,
    MediaId, Member, MemberRole, UserBrief, UserId,
};

use super::events as log;
use super::Db;
use crate::store::NewRoom;
use crate::{now_ms, DomainError, Result};

/// Columns for [`summary_from_row`]; needs its two `?` both bound to the
/// asking user id (whether they are a member; who their peer is in a
/// direct chat: the other participant).
pub(crate) const SUMMARY_SELECT: &str =
    "SELECT r.id, r.kind AS conversation_kind, r.name, r.description, r.owner_id, r.last_seq,
        r.member_count,
        EXISTS(SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = ?) AS joined,
        p.id AS peer_id, p.username AS peer_username, p.nickname AS peer_nickname,
        p.avatar AS peer_avatar, p.avatar_url AS peer_avatar_url, p.bot AS peer_bot,
        e.room_id AS room_id, e.seq AS seq, e.at_ms, e.kind, e.msgtype, e.body, e.client_id,
        e.reply_to, e.mentions,
        u.id AS actor_id, u.username AS actor_username, u.nickname AS actor_nickname,
        u.avatar AS actor_avatar, u.avatar_url AS actor_avatar_url, u.bot AS actor_bot,
        q.seq AS q_seq, q.kind AS q_kind, q.msgtype AS q_msgtype, q.body AS q_body,
        qu.id AS q_actor_id, qu.username AS q_actor_username, qu.nickname AS q_actor_nickname
     FROM rooms r
     LEFT JOIN users p ON r.kind = 'direct' AND p.id = (
        SELECT pm.user_id FROM members pm WHERE pm.room_id = r.id AND pm.user_id <> ?
        ORDER BY pm.user_id LIMIT 1)
     LEFT JOIN events e ON e.room_id = r.id AND e.seq = r.last_seq
     LEFT JOIN users u ON u.id = e.actor_id
     LEFT JOIN events q ON q.room_id = e.room_id AND q.seq = e.reply_to
     LEFT JOIN users qu ON qu.id = q.actor_id";

pub(crate) fn summary_from_row(row: &SqliteRow) -> Result<ConversationSummary> {
    let has_event = row.get::<Option<i64>, _>("seq").is_some();
    let last_event = has_event.then(|| log::event_from_row(row)).transpose()?;
    let kind: String = row.try_get("conversation_kind")?;
    let kind = ConversationKind::parse(&kind).ok_or_else(|| {
        tracing::error!(kind, "stored conversation has an unknown kind");
        DomainError::Internal(format!("unknown conversation kind {kind:?}"))
    })?;
    let peer = match row.try_get::<Option<UserId>, _>("peer_id")? {
        Some(id) => Some(UserBrief {
            id,
            username: row.try_get("peer_username")?,
            nickname: row.try_get("peer_nickname")?,
            avatar: row
                .try_get::<Option<String>, _>("peer_avatar")?
                .map(MediaId),
            avatar_url: row.try_get("peer_avatar_url")?,
            bot: row.try_get("peer_bot")?,
        }),
        None => None,
    };
    // A direct chat is named after the other participant, as each side sees it.
    let name = match &peer {
        Some(p) => p.nickname.clone(),
        None => row.try_get("name")?,
    };
    Ok(ConversationSummary {
        id: row.get("id"),
        kind,
        name,
        description: row.get("description"),
        owner_id: row.get("owner_id"),
        member_count: row.get("member_count"),
        last_seq: row.get("last_seq"),
        last_event,
        joined: row.get::<bool, _>("joined"),
        peer,
        // Filled in for members by the chat service (the read store).
        read_seq: 0,
        unread: 0,
        mentioned: false,
    })
}

/// The membership check's two columns: does the room exist, is the user a
/// member? (?1 room, ?2 user.) A macro so that the message writer's batch
/// check can extend the same text into one statement.
macro_rules! membership_columns {
    () => {
        "EXISTS(SELECT 1 FROM rooms WHERE id = ?1),
         EXISTS(SELECT 1 FROM members WHERE room_id = ?1 AND user_id = ?2)"
    };
}
pub(crate) use membership_columns;

/// Every membership check outside the message writer.
const MEMBERSHIP_SQL: &str = concat!("SELECT ", membership_columns!());

/// The answer to [`MEMBERSHIP_SQL`]: `not_found`, `not_member`, or fine.
pub(crate) fn membership_verdict(room_exists: bool, is_member: bool) -> Result<()> {
    if !room_exists {
        Err(DomainError::code(ErrorCode::NotFound))
    } else if !is_member {
        Err(DomainError::code(ErrorCode::NotMember))
    } else {
        Ok(())
    }
}

/// Fails with `not_found` if the room does not exist, `not_member` if the
/// user is not in it.
pub(crate) async fn require_member(
    conn: &mut SqliteConnection,
    room_id: ConversationId,
    user_id: UserId,
) -> Result<()> {
    let row = sqlx::query(MEMBERSHIP_SQL)
        .bind(room_id)
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    membership_verdict(row.try_get(0)?, row.try_get(1)?)
}

/// Membership check on the read pool.
pub async fn check_member(db: &Db, room_id: ConversationId, user_id: UserId) -> Result<()> {
    let mut conn = db.reader().acquire().await?;
    require_member(&mut conn, room_id, user_id).await
}

/// Creates a room owned by `owner`, who becomes its first member.
pub async fn create(
    db: &Db,
    owner: &UserBrief,
    room: NewRoom<'_>,
) -> Result<(ConversationSummary, ConversationEvent)> {
    let (name, description) = (room.name.to_owned(), room.description.to_owned());
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let id = insert_room(&mut tx, owner.id, &name, &description, false).await?;
    let event = log::append(
        &mut tx,
        id,
        owner,
        EventBody::RoomCreated { name: name.clone() },
    )
    .await?;
    tx.commit().await?;
    let summary = ConversationSummary {
        id,
        kind: ConversationKind::Room,
        name,
        description,
        owner_id: owner.id,
        member_count: 1,
        last_seq: event.seq,
        last_event: Some(event.clone()),
        joined: true,
        peer: None,
        read_seq: event.seq,
        unread: 0,
        mentioned: false,
    };
    Ok((summary, event))
}

pub(crate) async fn insert_room(
    conn: &mut SqliteConnection,
    owner_id: UserId,
    name: &str,
    description: &str,
    is_default: bool,
) -> Result<ConversationId> {
    let now = now_ms();
    let id: ConversationId = sqlx::query_scalar(
        "INSERT INTO rooms (name, name_folded, description, owner_id, is_default, created_ms, member_count)
         VALUES (?, ?, ?, ?, ?, ?, 1) RETURNING id",
    )
    .bind(name)
    .bind(crate::directory::fold(name))
    .bind(description)
    .bind(owner_id)
    .bind(is_default)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO members (room_id, user_id, joined_ms, role) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(owner_id)
        .bind(now)
        .bind(MemberRole::Owner.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Creates the lobby on first start (owned by the system user). Idempotent.
pub async fn ensure_lobby(
    db: &Db,
    system: &UserBrief,
    room: NewRoom<'_>,
) -> Result<ConversationId> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let existing: Option<ConversationId> =
        sqlx::query_scalar("SELECT id FROM rooms WHERE is_default = 1 ORDER BY id LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = existing {
        tx.rollback().await?;
        return Ok(id);
    }
    let id = insert_room(&mut tx, system.id, room.name, room.description, true).await?;
    log::append(
        &mut tx,
        id,
        system,
        EventBody::RoomCreated {
            name: room.name.into(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The default room(s) new accounts join.
pub async fn default_rooms(db: &Db) -> Result<Vec<ConversationId>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM rooms WHERE is_default = 1 ORDER BY id")
            .fetch_all(db.reader())
            .await?,
    )
}

/// Adds `user` to a public room and logs `member_joined`.
pub async fn join(db: &Db, user: &UserBrief, room_id: ConversationId) -> Result<ConversationEvent> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query(
        "SELECT r.is_public, r.kind,
            EXISTS(SELECT 1 FROM members m WHERE m.room_id = r.id AND m.user_id = ?) AS member
         FROM rooms r WHERE r.id = ?",
    )
    .bind(user.id)
    .bind(room_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    if row.get::<String, _>("kind") == ConversationKind::Direct.as_str() {
        return Err(DomainError::code(ErrorCode::DirectFixedMembers));
    }
    if row.get::<String, _>("kind") == ConversationKind::Support.as_str() {
        return Err(DomainError::code(ErrorCode::SupportFixedMembers));
    }
    if row.get::<bool, _>("member") {
        return Err(DomainError::code(ErrorCode::AlreadyMember));
    }
    if !row.get::<bool, _>("is_public") {
        return Err(DomainError::code(ErrorCode::Forbidden));
    }
    sqlx::query("INSERT INTO members (room_id, user_id, joined_ms) VALUES (?, ?, ?)")
        .bind(room_id)
        .bind(user.id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rooms SET member_count = member_count + 1 WHERE id = ?")
        .bind(room_id)
        .execute(&mut *tx)
        .await?;
    let event = log::append(&mut tx, room_id, user, EventBody::MemberJoined).await?;
    // What was said before joining is not unread.
    super::reads::advance_in(&mut tx, user.id, room_id, event.seq).await?;
    tx.commit().await?;
    Ok(event)
}

/// Removes `user` from a room and logs `member_left`. Owners cannot leave.
pub async fn leave(
    db: &Db,
    user: &UserBrief,
    room_id: ConversationId,
) -> Result<ConversationEvent> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    require_member(&mut tx, room_id, user.id).await?;
    let (role, kind): (String, String) = sqlx::query_as(
        "SELECT m.role, r.kind FROM members m JOIN rooms r ON r.id = m.room_id
         WHERE m.room_id = ? AND m.user_id = ?",
    )
    .bind(room_id)
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    if kind == ConversationKind::Direct.as_str() {
        return Err(DomainError::code(ErrorCode::DirectFixedMembers));
    }
    if kind == ConversationKind::Support.as_str() {
        return Err(DomainError::code(ErrorCode::SupportFixedMembers));
    }
    if role_from(&role)? == MemberRole::Owner {
        return Err(DomainError::code(ErrorCode::OwnerCannotLeave));
    }
    sqlx::query("DELETE FROM members WHERE room_id = ? AND user_id = ?")
        .bind(room_id)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rooms SET member_count = member_count - 1 WHERE id = ?")
        .bind(room_id)
        .execute(&mut *tx)
        .await?;
    let event = log::append(&mut tx, room_id, user, EventBody::MemberLeft).await?;
    tx.commit().await?;
    Ok(event)
}

/// The rooms `user_id` belongs to, most recently active first.
pub async fn list_mine(db: &Db, user_id: UserId) -> Result<Vec<ConversationSummary>> {
    let sql = format!(
        "{SUMMARY_SELECT} WHERE r.id IN (SELECT room_id FROM members WHERE user_id = ?)
         ORDER BY COALESCE(e.at_ms, r.created_ms) DESC, r.id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(user_id)
        .bind(user_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(summary_from_row).collect()
}

/// One room's summary, as seen by `user_id`.
pub async fn summary(
    db: &Db,
    user_id: UserId,
    room_id: ConversationId,
) -> Result<ConversationSummary> {
    let sql = format!("{SUMMARY_SELECT} WHERE r.id = ?");
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(user_id)
        .bind(room_id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    summary_from_row(&row)
}

/// A stored role read back; an unknown one is an internal error.
fn role_from(stored: &str) -> Result<MemberRole> {
    MemberRole::parse(stored).ok_or_else(|| {
        tracing::error!(role = stored, "stored member has an unknown role");
        DomainError::Internal(format!("unknown member role {stored:?}"))
    })
}

/// A conversation's members with their roles, in the order they joined.
pub async fn members(db: &Db, room_id: ConversationId) -> Result<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.nickname, u.avatar, u.avatar_url, u.bot, m.role FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = ? ORDER BY m.joined_ms, u.id",
    )
    .bind(room_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Member {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                nickname: r.try_get("nickname")?,
                role: role_from(&r.try_get::<String, _>("role")?)?,
                avatar: r.try_get::<Option<String>, _>("avatar")?.map(MediaId),
                avatar_url: r.try_get("avatar_url")?,
                bot: r.try_get("bot")?,
            })
        })
        .collect()
}

/// Ids of the rooms `user_id` is in (for subscribing a new connection).
pub async fn ids_of(db: &Db, user_id: UserId) -> Result<Vec<ConversationId>> {
    Ok(
        sqlx::query_scalar("SELECT room_id FROM members WHERE user_id = ?")
            .bind(user_id)
            .fetch_all(db.reader())
            .await?,
    )
}
