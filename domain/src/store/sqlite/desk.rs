//! SQLite storage of the support desk: guests (`users` rows of role
//! 'guest' plus `guests`), their support conversations (`rooms` of kind
//! 'support'), and who has each (`support`).
//!
//! Assignment is safe under concurrency twice over: every desk write runs
//! in a write transaction on the one sqlx writer (one at a time, behind the
//! process's write turn), and the assignment itself is the guarded
//! `UPDATE support SET agent_id = ? WHERE room_id = ? AND status =
//! 'waiting'`: of two agents accepting the same conversation, exactly one
//! changes a row; the other finds none changed and is told
//! `already_assigned`. The guard also holds across processes sharing one
//! database, where the write turn does not reach.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row, SqliteConnection};
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationKind, ErrorCode, EventBody, GuestInfo, MediaId,
    MemberRole, SupportStatus, SupportView, UserBrief, UserId,
};

use super::events as log;
use super::groups::delete_member;
use super::SqliteStore;
use crate::store::{DeskStore, NewGuest, SupportFilter, SupportRow};
use crate::{now_ms, DomainError, Result};

/// Columns of [`view_from_row`]; `{position}` is replaced by the queue
/// position's expression.
const VIEW_SELECT: &str = "SELECT s.room_id AS sid, s.status, r.last_seq,
        gu.id AS g_id, gu.username AS g_username, gu.nickname AS g_nickname,
        gu.avatar AS g_avatar,
        g.name AS g_name, g.contact AS g_contact, g.first_page, g.browser,
        g.created_ms AS g_created,
        au.id AS a_id, au.username AS a_username, au.nickname AS a_nickname,
        au.avatar AS a_avatar,
        {position} AS position,
        e.room_id AS room_id, e.seq AS seq, e.at_ms, e.kind, e.msgtype, e.body, e.client_id,
        e.reply_to, e.mentions,
        u.id AS actor_id, u.username AS actor_username, u.nickname AS actor_nickname,
        u.avatar AS actor_avatar, u.avatar_url AS actor_avatar_url, u.bot AS actor_bot,
        q.seq AS q_seq, q.kind AS q_kind, q.msgtype AS q_msgtype, q.body AS q_body,
        qu.id AS q_actor_id, qu.username AS q_actor_username, qu.nickname AS q_actor_nickname
     FROM support s
     JOIN rooms r ON r.id = s.room_id
     JOIN users gu ON gu.id = s.guest_id
     JOIN guests g ON g.user_id = s.guest_id
     LEFT JOIN users au ON au.id = s.agent_id
     LEFT JOIN events e ON e.room_id = r.id AND e.seq = r.last_seq
     LEFT JOIN users u ON u.id = e.actor_id
     LEFT JOIN events q ON q.room_id = e.room_id AND q.seq = e.reply_to
     LEFT JOIN users qu ON qu.id = q.actor_id";

/// A waiting conversation's place in the queue, counted (for single rows).
const POSITION_COUNTED: &str = "CASE WHEN s.status = 'waiting' THEN
        (SELECT COUNT(*) FROM support w WHERE w.status = 'waiting'
            AND (w.queue_key < s.queue_key OR (w.queue_key = s.queue_key AND w.room_id < s.room_id)))
        + 1 END";

/// The queue order.
const QUEUE_ORDER: &str = "ORDER BY s.queue_key, s.room_id";

fn status_from(stored: &str) -> Result<SupportStatus> {
    SupportStatus::parse(stored).ok_or_else(|| {
        tracing::error!(
            status = stored,
            "stored support conversation has an unknown status"
        );
        DomainError::Internal(format!("unknown support status {stored:?}"))
    })
}

fn guest_from_row(row: &SqliteRow) -> Result<GuestInfo> {
    Ok(GuestInfo {
        user: UserBrief {
            id: row.try_get("g_id")?,
            username: row.try_get("g_username")?,
            nickname: row.try_get("g_nickname")?,
            avatar: row.try_get::<Option<String>, _>("g_avatar")?.map(MediaId),
            avatar_url: None,
            bot: false,
        },
        name: row.try_get("g_name")?,
        contact: row.try_get("g_contact")?,
        first_page: row.try_get("first_page")?,
        browser: row.try_get("browser")?,
        created_ms: row.try_get("g_created")?,
    })
}

fn view_from_row(row: &SqliteRow) -> Result<SupportView> {
    let agent = match row.try_get::<Option<UserId>, _>("a_id")? {
        Some(id) => Some(UserBrief {
            id,
            username: row.try_get("a_username")?,
            nickname: row.try_get("a_nickname")?,
            avatar: row.try_get::<Option<String>, _>("a_avatar")?.map(MediaId),
            avatar_url: None,
            bot: false,
        }),
        None => None,
    };
    let has_event = row.try_get::<Option<i64>, _>("seq")?.is_some();
    Ok(SupportView {
        id: row.try_get("sid")?,
        status: status_from(&row.try_get::<String, _>("status")?)?,
        agent,
        position: row
            .try_get::<Option<i64>, _>("position")?
            .map(|p| u32::try_from(p).unwrap_or(u32::MAX)),
        guest: guest_from_row(row)?,
        last_seq: row.try_get("last_seq")?,
        last_event: has_event.then(|| log::event_from_row(row)).transpose()?,
    })
}

fn row_from(row: &SqliteRow) -> Result<SupportRow> {
    Ok(SupportRow {
        room: row.try_get("room_id")?,
        guest: row.try_get("guest_id")?,
        status: status_from(&row.try_get::<String, _>("status")?)?,
        agent: row.try_get("agent_id")?,
    })
}

async fn support_row(conn: &mut SqliteConnection, room: ConversationId) -> Result<SupportRow> {
    let row =
        sqlx::query("SELECT room_id, guest_id, status, agent_id FROM support WHERE room_id = ?")
            .bind(room)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    row_from(&row)
}

/// Adds `user` as a member (no-op if they are one).
async fn ensure_member(
    conn: &mut SqliteConnection,
    room: ConversationId,
    user: UserId,
) -> Result<()> {
    let added = sqlx::query(
        "INSERT INTO members (room_id, user_id, joined_ms, role) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(room)
    .bind(user)
    .bind(now_ms())
    .bind(MemberRole::Member.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if added > 0 {
        sqlx::query("UPDATE rooms SET member_count = member_count + 1 WHERE id = ?")
            .bind(room)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `agent_at_capacity` if `agent` has `max` or more conversations.
async fn check_capacity(
    conn: &mut SqliteConnection,
    agent: UserId,
    max: Option<u32>,
) -> Result<()> {
    let Some(max) = max else { return Ok(()) };
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM support WHERE agent_id = ? AND status = 'assigned'",
    )
    .bind(agent)
    .fetch_one(&mut *conn)
    .await?;
    if open >= i64::from(max) {
        return Err(DomainError::code(ErrorCode::AgentAtCapacity));
    }
    Ok(())
}

#[async_trait]
impl DeskStore for SqliteStore {
    async fn create_guest(
        &self,
        guest: NewGuest<'_>,
    ) -> Result<(GuestInfo, ConversationId, ConversationEvent)> {
        let now = now_ms();
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let id: UserId = sqlx::query_scalar(
            "INSERT INTO users (username, nickname, password_hash, created_ms, role)
             VALUES (?, ?, '!', ?, 'guest') RETURNING id",
        )
        .bind(guest.username)
        .bind(guest.nickname)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO guests (user_id, name, contact, first_page, browser, created_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(guest.name)
        .bind(guest.contact)
        .bind(guest.first_page)
        .bind(guest.browser)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let room: ConversationId = sqlx::query_scalar(
            "INSERT INTO rooms (kind, name, name_folded, description, owner_id, is_public,
                                is_default, created_ms, member_count)
             VALUES (?, ?, ?, '', ?, 0, 0, ?, 0) RETURNING id",
        )
        .bind(ConversationKind::Support.as_str())
        .bind(guest.nickname)
        .bind(crate::directory::fold(guest.nickname))
        .bind(id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        ensure_member(&mut tx, room, id).await?;
        sqlx::query(
            "INSERT INTO support (room_id, guest_id, status, agent_id, queue_key, updated_ms)
             VALUES (?, ?, 'waiting', NULL, ?, ?)",
        )
        .bind(room)
        .bind(id)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let user = UserBrief {
            id,
            username: guest.username.into(),
            nickname: guest.nickname.into(),
            // A new account has no avatar yet.
            avatar: None,
            avatar_url: None,
            bot: false,
        };
        let event = log::append(&mut tx, room, &user, EventBody::SupportOpened).await?;
        tx.commit().await?;
        let info = GuestInfo {
            user,
            name: guest.name.into(),
            contact: guest.contact.into(),
            first_page: guest.first_page.into(),
            browser: guest.browser.into(),
            created_ms: now,
        };
        Ok((info, room, event))
    }

    async fn guest(&self, user: UserId) -> Result<Option<GuestInfo>> {
        let row = sqlx::query(
            "SELECT u.id AS g_id, u.username AS g_username, u.nickname AS g_nickname,
                    u.avatar AS g_avatar,
                    g.name AS g_name, g.contact AS g_contact, g.first_page, g.browser,
                    g.created_ms AS g_created
             FROM guests g JOIN users u ON u.id = g.user_id WHERE g.user_id = ?",
        )
        .bind(user)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(guest_from_row).transpose()
    }

    async fn set_guest_details(&self, user: UserId, name: &str, contact: &str) -> Result<()> {
        let mut writer = self.db.writer().await?;
        let changed = sqlx::query("UPDATE guests SET name = ?, contact = ? WHERE user_id = ?")
            .bind(name)
            .bind(contact)
            .bind(user)
            .execute(&mut *writer)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(DomainError::code(ErrorCode::GuestRequired));
        }
        Ok(())
    }

    async fn support_of_guest(&self, guest: UserId) -> Result<Option<SupportRow>> {
        let row = sqlx::query(
            "SELECT room_id, guest_id, status, agent_id FROM support WHERE guest_id = ?",
        )
        .bind(guest)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(row_from).transpose()
    }

    async fn support(&self, room: ConversationId) -> Result<Option<SupportRow>> {
        let row = sqlx::query(
            "SELECT room_id, guest_id, status, agent_id FROM support WHERE room_id = ?",
        )
        .bind(room)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(row_from).transpose()
    }

    async fn support_views(&self, filter: SupportFilter) -> Result<Vec<SupportView>> {
        let (position, condition, bound) = match filter {
            SupportFilter::Waiting => ("NULL", "s.status = 'waiting'", None),
            SupportFilter::AssignedTo(agent) => (
                "NULL",
                "s.status = 'assigned' AND s.agent_id = ?",
                Some(agent.0),
            ),
            SupportFilter::One(room) => (POSITION_COUNTED, "s.room_id = ?", Some(room.0)),
            SupportFilter::OfGuest(guest) => (POSITION_COUNTED, "s.guest_id = ?", Some(guest.0)),
        };
        let sql = format!(
            "{} WHERE {condition} {QUEUE_ORDER}",
            VIEW_SELECT.replace("{position}", position)
        );
        let mut query = sqlx::query(&sql);
        if let Some(b) = bound {
            query = query.bind(b);
        }
        let rows = query.fetch_all(self.db.reader()).await?;
        let mut views = rows.iter().map(view_from_row).collect::<Result<Vec<_>>>()?;
        if filter == SupportFilter::Waiting {
            for (i, v) in views.iter_mut().enumerate() {
                v.position = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Ok(views)
    }

    async fn assign(
        &self,
        room: ConversationId,
        agent: &UserBrief,
        actor: &UserBrief,
        max: Option<u32>,
    ) -> Result<ConversationEvent> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        check_capacity(&mut tx, agent.id, max).await?;
        // The guard: only a waiting conversation, with nobody on it, is given.
        let taken = sqlx::query(
            "UPDATE support SET status = 'assigned', agent_id = ?, updated_ms = ?
             WHERE room_id = ? AND status = 'waiting' AND agent_id IS NULL",
        )
        .bind(agent.id)
        .bind(now_ms())
        .bind(room)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            let row = support_row(&mut tx, room).await?;
            return Err(DomainError::code(match row.status {
                SupportStatus::Closed => ErrorCode::SupportNotOpen,
                _ => ErrorCode::AlreadyAssigned,
            }));
        }
        ensure_member(&mut tx, room, agent.id).await?;
        let event = log::append(
            &mut tx,
            room,
            actor,
            EventBody::SupportAssigned {
                agent: agent.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn transfer(
        &self,
        room: ConversationId,
        from: UserId,
        to: &UserBrief,
        actor: &UserBrief,
        max: Option<u32>,
    ) -> Result<ConversationEvent> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = support_row(&mut tx, room).await?;
        if row.status != SupportStatus::Assigned {
            return Err(DomainError::code(ErrorCode::SupportNotOpen));
        }
        if row.agent != Some(from) {
            return Err(DomainError::code(ErrorCode::NotYours));
        }
        if to.id == from {
            return Err(DomainError::field(ErrorCode::AgentUnavailable, "agent_id"));
        }
        check_capacity(&mut tx, to.id, max).await?;
        sqlx::query(
            "UPDATE support SET agent_id = ?, updated_ms = ?
             WHERE room_id = ? AND status = 'assigned' AND agent_id = ?",
        )
        .bind(to.id)
        .bind(now_ms())
        .bind(room)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        delete_member(&mut tx, room, from).await?;
        ensure_member(&mut tx, room, to.id).await?;
        let event = log::append(
            &mut tx,
            room,
            actor,
            EventBody::SupportAssigned { agent: to.clone() },
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn return_all(
        &self,
        agent: &UserBrief,
        reason: &str,
        system: &UserBrief,
    ) -> Result<Vec<ConversationEvent>> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let rooms: Vec<ConversationId> = sqlx::query_scalar(
            "SELECT room_id FROM support WHERE agent_id = ? AND status = 'assigned'
             ORDER BY queue_key, room_id",
        )
        .bind(agent.id)
        .fetch_all(&mut *tx)
        .await?;
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let front: Option<i64> =
            sqlx::query_scalar("SELECT MIN(queue_key) FROM support WHERE status = 'waiting'")
                .fetch_one(&mut *tx)
                .await?;
        // Before everyone waiting, in the order they first came.
        let first_key = front.unwrap_or_else(now_ms) - rooms.len() as i64;
        let mut events = Vec::with_capacity(rooms.len());
        for (i, room) in rooms.into_iter().enumerate() {
            sqlx::query(
                "UPDATE support SET status = 'waiting', agent_id = NULL, queue_key = ?,
                                    updated_ms = ?
                 WHERE room_id = ?",
            )
            .bind(first_key + i as i64)
            .bind(now_ms())
            .bind(room)
            .execute(&mut *tx)
            .await?;
            delete_member(&mut tx, room, agent.id).await?;
            events.push(
                log::append(
                    &mut tx,
                    room,
                    system,
                    EventBody::SupportReturned {
                        agent: agent.clone(),
                        reason: reason.into(),
                    },
                )
                .await?,
            );
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn close_support(
        &self,
        room: ConversationId,
        actor: &UserBrief,
        only_agent: Option<UserId>,
    ) -> Result<(ConversationEvent, Option<UserId>)> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = support_row(&mut tx, room).await?;
        if row.status == SupportStatus::Closed {
            return Err(DomainError::code(ErrorCode::SupportNotOpen));
        }
        if let Some(only) = only_agent {
            if row.agent != Some(only) {
                return Err(DomainError::code(ErrorCode::NotYours));
            }
        }
        sqlx::query(
            "UPDATE support SET status = 'closed', agent_id = NULL, updated_ms = ?
             WHERE room_id = ?",
        )
        .bind(now_ms())
        .bind(room)
        .execute(&mut *tx)
        .await?;
        if let Some(agent) = row.agent {
            delete_member(&mut tx, room, agent).await?;
        }
        let event = log::append(&mut tx, room, actor, EventBody::SupportClosed).await?;
        tx.commit().await?;
        Ok((event, row.agent))
    }

    async fn reopen_support(
        &self,
        room: ConversationId,
        guest: &UserBrief,
    ) -> Result<Option<ConversationEvent>> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        let reopened = sqlx::query(
            "UPDATE support SET status = 'waiting', queue_key = ?, updated_ms = ?
             WHERE room_id = ? AND guest_id = ? AND status = 'closed'",
        )
        .bind(now)
        .bind(now)
        .bind(room)
        .bind(guest.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if reopened == 0 {
            return Ok(None);
        }
        let event = log::append(&mut tx, room, guest, EventBody::SupportReopened).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn next_waiting(&self) -> Result<Option<ConversationId>> {
        Ok(sqlx::query_scalar(
            "SELECT room_id FROM support WHERE status = 'waiting' ORDER BY queue_key, room_id LIMIT 1",
        )
        .fetch_optional(self.db.reader())
        .await?)
    }

    async fn open_counts(&self) -> Result<Vec<(UserId, u32)>> {
        let rows: Vec<(UserId, i64)> = sqlx::query_as(
            "SELECT agent_id, COUNT(*) FROM support WHERE status = 'assigned' GROUP BY agent_id",
        )
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(a, n)| (a, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect())
    }
}
