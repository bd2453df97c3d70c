//! SQLite storage of the server API: the `api_keys` and `handoff_tokens`
//! tables, and the `users.external_id` / `avatar_url` / `bot` columns
//! (migration 0031).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};
use teahouse_protocol::{
    ApiKeyInfo, ApiScope, ConversationId, ErrorCode, MediaId, UserBrief, UserId,
};

use super::accounts::{brief, BRIEF};
use super::SqliteStore;
use crate::error::violates_unique;
use crate::store::integration::{ExternalUser, IntegrationStore, NewApiKey};
use crate::{now_ms, DomainError, Result};

/// Columns [`key_from_row`] reads (`k`: the key, `u`: its bot).
const KEY_SELECT: &str = "SELECT k.id AS key_id, k.name, k.prefix, k.scope, k.rooms,
        k.created_ms, k.revoked_ms,
        u.id, u.username, u.nickname, u.avatar, u.avatar_url, u.bot
     FROM api_keys k JOIN users u ON u.id = k.bot_id";

fn key_from_row(row: &SqliteRow) -> Result<ApiKeyInfo> {
    let scope: String = row.try_get("scope")?;
    let scope = ApiScope::parse(&scope).ok_or_else(|| {
        tracing::error!(scope, "stored API key has an unknown scope");
        DomainError::Internal(format!("unknown API key scope {scope:?}"))
    })?;
    let rooms = match row.try_get::<Option<String>, _>("rooms")? {
        Some(json) => Some(
            serde_json::from_str::<Vec<ConversationId>>(&json)
                .map_err(|e| DomainError::Internal(format!("stored API key rooms: {e}")))?,
        ),
        None => None,
    };
    Ok(ApiKeyInfo {
        id: row.try_get("key_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scope,
        rooms,
        bot: UserBrief {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            nickname: row.try_get("nickname")?,
            avatar: row.try_get::<Option<String>, _>("avatar")?.map(MediaId),
            avatar_url: row.try_get("avatar_url")?,
            bot: row.try_get("bot")?,
        },
        created_ms: row.try_get("created_ms")?,
        revoked_ms: row.try_get("revoked_ms")?,
    })
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn insert_api_key(&self, key: NewApiKey<'_>) -> Result<ApiKeyInfo> {
        let rooms = key
            .rooms
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| DomainError::Internal(format!("encoding API key rooms: {e}")))?;
        let now = now_ms();
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let bot: UserId = sqlx::query_scalar(
            "INSERT INTO users (username, nickname, password_hash, created_ms, avatar_url, bot)
             VALUES (?, ?, '!', ?, ?, 1) RETURNING id",
        )
        .bind(key.bot_username)
        .bind(key.bot_nickname)
        .bind(now)
        .bind(key.bot_avatar_url)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (name, secret_hash, prefix, scope, rooms, bot_id, created_by,
                                   created_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(key.name)
        .bind(key.secret_hash)
        .bind(key.prefix)
        .bind(key.scope.as_str())
        .bind(rooms)
        .bind(bot)
        .bind(key.created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("{KEY_SELECT} WHERE k.id = ?"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let info = key_from_row(&row)?;
        tx.commit().await?;
        Ok(info)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        let rows = sqlx::query(&format!("{KEY_SELECT} ORDER BY k.id DESC"))
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn api_key_by_hash(&self, secret_hash: &[u8]) -> Result<Option<ApiKeyInfo>> {
        let row = sqlx::query(&format!("{KEY_SELECT} WHERE k.secret_hash = ?"))
            .bind(secret_hash)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn revoke_api_key(&self, id: i64, at_ms: i64) -> Result<ApiKeyInfo> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?")
            .bind(at_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&format!("{KEY_SELECT} WHERE k.id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
        let info = key_from_row(&row)?;
        tx.commit().await?;
        Ok(info)
    }

    async fn upsert_external_user(
        &self,
        external_id: &str,
        username: &str,
        nickname: &str,
        avatar_url: Option<&str>,
    ) -> Result<(UserBrief, bool)> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(&format!(
            "UPDATE users SET nickname = ?, avatar_url = ? WHERE external_id = ? RETURNING {BRIEF}"
        ))
        .bind(nickname)
        .bind(avatar_url)
        .bind(external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (row, created) = match updated {
            Some(row) => (row, false),
            None => {
                let row = sqlx::query(&format!(
                    "INSERT INTO users (username, nickname, password_hash, created_ms,
                                        external_id, avatar_url)
                     VALUES (?, ?, '!', ?, ?, ?) RETURNING {BRIEF}"
                ))
                .bind(username)
                .bind(nickname)
                .bind(now_ms())
                .bind(external_id)
                .bind(avatar_url)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    // Cannot happen inside this write transaction; kept
                    // clear should another backend run it without one.
                    if violates_unique(&e, "users", "external_id") {
                        DomainError::Internal("external_id taken during an upsert".into())
                    } else {
                        e.into()
                    }
                })?;
                (row, true)
            }
        };
        let user = brief(&row)?;
        tx.commit().await?;
        Ok((user, created))
    }

    async fn user_by_external_id(&self, external_id: &str) -> Result<Option<UserBrief>> {
        let row = sqlx::query(&format!("SELECT {BRIEF} FROM users WHERE external_id = ?"))
            .bind(external_id)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.as_ref().map(brief).transpose()?)
    }

    async fn external_users(&self, ids: &[UserId]) -> Result<Vec<ExternalUser>> {
        let mut out = Vec::with_capacity(ids.len());
        // SQLite binds at most 32766 parameters; pages of 500 stay far below.
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql =
                format!("SELECT {BRIEF}, external_id FROM users WHERE id IN ({marks}) ORDER BY id");
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.db.reader()).await? {
                out.push(ExternalUser {
                    user: brief(&row)?,
                    external_id: row.try_get("external_id")?,
                });
            }
        }
        out.sort_by_key(|u| u.user.id);
        Ok(out)
    }

    async fn insert_handoff(
        &self,
        token_hash: &[u8],
        user: UserId,
        expires_ms: i64,
        forget_before_ms: i64,
    ) -> Result<()> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM handoff_tokens WHERE expires_ms < ?")
            .bind(forget_before_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO handoff_tokens (token_hash, user_id, expires_ms) VALUES (?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_handoff(&self, token_hash: &[u8], now_ms: i64) -> Result<Option<UserId>> {
        let mut writer = self.db.writer().await?;
        Ok(sqlx::query_scalar(
            "UPDATE handoff_tokens SET used_ms = ?
             WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ?
             RETURNING user_id",
        )
        .bind(now_ms)
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&mut *writer)
        .await?)
    }
}
