//! SQLite storage of account roles: the `users.role` column.

use async_trait::async_trait;
use sqlx::{Connection, Row};
use teahouse_protocol::{ErrorCode, MediaId, UserBrief, UserId, UserRole, UserWithRole};

use super::SqliteStore;
use crate::store::RoleStore;
use crate::{DomainError, Result};

/// A stored role read back; an unknown one is an internal error.
pub(crate) fn role_from(stored: &str) -> Result<UserRole> {
    UserRole::parse(stored).ok_or_else(|| {
        tracing::error!(role = stored, "stored account has an unknown role");
        DomainError::Internal(format!("unknown account role {stored:?}"))
    })
}

fn with_role(row: &sqlx::sqlite::SqliteRow) -> Result<UserWithRole> {
    Ok(UserWithRole {
        user: UserBrief {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            nickname: row.try_get("nickname")?,
            avatar: row.try_get::<Option<String>, _>("avatar")?.map(MediaId),
            avatar_url: row.try_get("avatar_url")?,
            bot: row.try_get("bot")?,
        },
        role: role_from(&row.try_get::<String, _>("role")?)?,
    })
}

#[async_trait]
impl RoleStore for SqliteStore {
    async fn role(&self, user: UserId) -> Result<Option<UserRole>> {
        let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE id = ?")
            .bind(user)
            .fetch_optional(self.db.reader())
            .await?;
        role.as_deref().map(role_from).transpose()
    }

    async fn set_role(&self, user: UserId, role: UserRole) -> Result<UserBrief> {
        let mut writer = self.db.writer().await?;
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT id, username, nickname, avatar, avatar_url, bot, role FROM users
             WHERE id = ? AND password_hash <> '!'",
        )
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
        let current = with_role(&row)?;
        if current.role == UserRole::Admin && role != UserRole::Admin {
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins <= 1 {
                return Err(DomainError::code(ErrorCode::LastAdmin));
            }
        }
        sqlx::query("UPDATE users SET role = ? WHERE id = ?")
            .bind(role.as_str())
            .bind(user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(current.user)
    }

    async fn user_named(&self, username: &str) -> Result<Option<UserBrief>> {
        let row = sqlx::query(
            "SELECT id, username, nickname, avatar, avatar_url, bot FROM users
             WHERE username = ? AND password_hash <> '!'",
        )
        .bind(username)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| {
            Ok(UserBrief {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                nickname: r.try_get("nickname")?,
                avatar: r.try_get::<Option<String>, _>("avatar")?.map(MediaId),
                avatar_url: r.try_get("avatar_url")?,
                bot: r.try_get("bot")?,
            })
        })
        .transpose()
    }

    async fn accounts_with_roles(&self, query: &str, limit: u32) -> Result<Vec<UserWithRole>> {
        let rows = sqlx::query(
            "SELECT id, username, nickname, avatar, avatar_url, bot, role FROM users
             WHERE password_hash <> '!' AND role <> 'guest'
               AND (? = '' OR instr(lower(username), lower(?)) > 0
                           OR instr(lower(nickname), lower(?)) > 0)
             ORDER BY role IN ('admin', 'agent') DESC, nickname, id LIMIT ?",
        )
        .bind(query)
        .bind(query)
        .bind(query)
        .bind(i64::from(limit))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(with_role).collect()
    }

    async fn staff(&self) -> Result<Vec<UserWithRole>> {
        let rows = sqlx::query(
            "SELECT id, username, nickname, avatar, avatar_url, bot, role FROM users WHERE role IN ('agent', 'admin')
             ORDER BY nickname, id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(with_role).collect()
    }
}
