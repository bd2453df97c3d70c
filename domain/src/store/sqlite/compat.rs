//! SQLite storage of the seed protocol's group ids (`compat_groups`).

use async_trait::async_trait;
use sqlx::Connection;
use teahouse_protocol::{ConversationEvent, ConversationId, EventBody, UserBrief};

use super::conversations::insert_room;
use super::events as log;
use super::SqliteStore;
use crate::store::{CompatStore, NewRoom};
use crate::{now_ms, Result};

#[async_trait]
impl CompatStore for SqliteStore {
    async fn compat_group(&self, key: &str) -> Result<Option<ConversationId>> {
        Ok(
            sqlx::query_scalar("SELECT room_id FROM compat_groups WHERE group_key = ?")
                .bind(key)
                .fetch_optional(self.db.reader())
                .await?,
        )
    }

    async fn ensure_compat_group(
        &self,
        owner: &UserBrief,
        key: &str,
        room: NewRoom<'_>,
    ) -> Result<(ConversationId, Option<ConversationEvent>)> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let bound: Option<ConversationId> =
            sqlx::query_scalar("SELECT room_id FROM compat_groups WHERE group_key = ?")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = bound {
            tx.rollback().await?;
            return Ok((id, None));
        }
        let id = insert_room(&mut tx, owner.id, room.name, room.description, false).await?;
        let event = log::append(
            &mut tx,
            id,
            owner,
            EventBody::RoomCreated {
                name: room.name.to_owned(),
            },
        )
        .await?;
        sqlx::query("INSERT INTO compat_groups (group_key, room_id, created_ms) VALUES (?, ?, ?)")
            .bind(key)
            .bind(id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((id, Some(event)))
    }
}
