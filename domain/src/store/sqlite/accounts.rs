//! SQLite storage of accounts: the `users` table.

use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};
use teahouse_protocol::{ErrorCode, MediaId, UserBrief, UserId};

use super::Db;
use crate::error::violates_unique;
use crate::store::Account;
use crate::{now_ms, DomainError, Result};

/// The columns [`brief`] reads.
pub(crate) const BRIEF: &str = "id, username, nickname, avatar, avatar_url, bot";

/// The public face of a `users` row selected with [`BRIEF`].
pub(crate) fn brief(row: &SqliteRow) -> sqlx::Result<UserBrief> {
    Ok(UserBrief {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        nickname: row.try_get("nickname")?,
        avatar: row.try_get::<Option<String>, _>("avatar")?.map(MediaId),
        avatar_url: row.try_get("avatar_url")?,
        bot: row.try_get("bot")?,
    })
}

/// Stores a new account; the UNIQUE constraint on `username` decides races.
pub async fn insert(
    db: &Db,
    username: &str,
    nickname: &str,
    password_hash: &str,
) -> Result<UserBrief> {
    let mut writer = db.writer().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, ?, ?, ?)
         RETURNING {BRIEF}"
    ))
    .bind(username)
    .bind(nickname)
    .bind(password_hash)
    .bind(now_ms())
    .fetch_one(&mut *writer)
    .await
    .map_err(|e| {
        if violates_unique(&e, "users", "username") {
            DomainError::field(ErrorCode::UsernameTaken, "username")
        } else {
            e.into()
        }
    })?;
    Ok(brief(&row)?)
}

/// Looks an account up by id.
pub async fn get(db: &Db, id: UserId) -> Result<Option<Account>> {
    let row = sqlx::query(&format!(
        "SELECT {BRIEF}, auth_epoch FROM users WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    match row {
        Some(row) => Ok(Some(Account {
            user: brief(&row)?,
            auth_epoch: row.try_get("auth_epoch")?,
        })),
        None => Ok(None),
    }
}

/// Changes an account's nickname (already validated).
pub async fn set_nickname(db: &Db, id: UserId, nickname: &str) -> Result<UserBrief> {
    let mut writer = db.writer().await?;
    let row = sqlx::query(&format!(
        "UPDATE users SET nickname = ? WHERE id = ? RETURNING {BRIEF}"
    ))
    .bind(nickname)
    .bind(id)
    .fetch_optional(&mut *writer)
    .await?
    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    Ok(brief(&row)?)
}

/// Sets (or clears) an account's avatar in one transaction; returns the
/// account as it now is and the avatar it had before.
pub async fn set_avatar(
    db: &Db,
    id: UserId,
    avatar: Option<&MediaId>,
) -> Result<(UserBrief, Option<MediaId>)> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let before: Option<Option<String>> =
        sqlx::query_scalar("SELECT avatar FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    let row = sqlx::query(&format!(
        "UPDATE users SET avatar = ? WHERE id = ? RETURNING {BRIEF}"
    ))
    .bind(avatar.map(|a| a.0.as_str()))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let user = brief(&row)?;
    tx.commit().await?;
    Ok((user, before.map(MediaId)))
}

/// Whether some account has `avatar` as its avatar.
pub async fn avatar_in_use(db: &Db, avatar: &MediaId) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM users WHERE avatar = ?)")
            .bind(&avatar.0)
            .fetch_one(db.reader())
            .await?,
    )
}

/// Stores a new password hash and bumps the account's sign-in epoch;
/// returns the new epoch.
pub async fn set_password(db: &Db, id: UserId, password_hash: &str) -> Result<i64> {
    let mut writer = db.writer().await?;
    sqlx::query_scalar(
        "UPDATE users SET password_hash = ?, auth_epoch = auth_epoch + 1 WHERE id = ?
         RETURNING auth_epoch",
    )
    .bind(password_hash)
    .bind(id)
    .fetch_optional(&mut *writer)
    .await?
    .ok_or_else(|| DomainError::code(ErrorCode::NotFound))
}

/// The account named `username` (case-insensitively) with its hash.
pub async fn credentials(db: &Db, username: &str) -> Result<Option<(UserBrief, String)>> {
    let row = sqlx::query(&format!(
        "SELECT {BRIEF}, password_hash FROM users WHERE username = ?"
    ))
    .bind(username)
    .fetch_optional(db.reader())
    .await?;
    match row {
        Some(row) => Ok(Some((brief(&row)?, row.try_get("password_hash")?))),
        None => Ok(None),
    }
}

/// Whether `username` is taken.
pub async fn exists(db: &Db, username: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM users WHERE username = ?)")
            .bind(username)
            .fetch_one(db.reader())
            .await?,
    )
}

/// Creates the system account (no usable password: `!`) if missing.
pub async fn ensure_system(db: &Db, username: &str, nickname: &str) -> Result<UserBrief> {
    let mut writer = db.writer().await?;
    sqlx::query(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, ?, '!', ?)
         ON CONFLICT(username) DO NOTHING",
    )
    .bind(username)
    .bind(nickname)
    .bind(now_ms())
    .execute(&mut *writer)
    .await?;
    let row = sqlx::query(&format!("SELECT {BRIEF} FROM users WHERE username = ?"))
        .bind(username)
        .fetch_one(&mut *writer)
        .await?;
    Ok(brief(&row)?)
}
