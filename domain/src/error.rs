//! The domain's error type. Client-facing variants carry a protocol
//! [`ApiError`]; storage failures are kept for the log and shown to clients
//! only as `internal`.

use teahouse_protocol::{ApiError, ErrorCode};

/// Anything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The caller's fault: bad input, missing rights, conflicts.
    #[error("{0}")]
    Rejected(ApiError),
    /// Storage failed; details go to the log, never to the client.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The message writer's storage failed (see [`crate::writer`]).
    #[error("database error: {0}")]
    Store(#[from] rusqlite::Error),
    /// Migration failed at start-up.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Refused until `retry_after` has passed (login throttling): told to
    /// the client as `rate_limited`, with a `Retry-After`.
    #[error("too many failed attempts; retry in {0:?}")]
    Throttled(std::time::Duration),
    /// Any other internal failure (hashing, a panicked blocking task…).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

impl DomainError {
    pub fn code(code: ErrorCode) -> Self {
        DomainError::Rejected(ApiError::new(code))
    }

    pub fn field(code: ErrorCode, field: &str) -> Self {
        DomainError::Rejected(ApiError::field(code, field))
    }

    /// What the client is told. Internal details are replaced by `internal`.
    pub fn to_api(&self) -> ApiError {
        match self {
            DomainError::Rejected(e) => e.clone(),
            DomainError::Throttled(_) => ApiError::new(ErrorCode::RateLimited),
            _ => ApiError::new(ErrorCode::Internal),
        }
    }

    /// True for failures an operator should look at (not the client's fault).
    pub fn is_internal(&self) -> bool {
        !matches!(self, DomainError::Rejected(_) | DomainError::Throttled(_))
    }

    /// How long the client should wait before retrying, when known.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            DomainError::Throttled(wait) => Some(*wait),
            _ => None,
        }
    }
}

impl From<ApiError> for DomainError {
    fn from(e: ApiError) -> Self {
        DomainError::Rejected(e)
    }
}

/// True if `e` violates the UNIQUE constraint on `table.column` (used to
/// turn races into clear 409s). Matched by constraint, not by kind: another
/// unique constraint failing in the same statement is an internal error,
/// not a misleading "username taken". PostgreSQL reports the constraint's
/// name (`users_username_key`), SQLite only its columns in the message
/// ("UNIQUE constraint failed: users.username").
pub(crate) fn violates_unique(e: &sqlx::Error, table: &str, column: &str) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    if !db.is_unique_violation() {
        return false;
    }
    match db.constraint() {
        Some(name) => name == format!("{table}_{column}_key"),
        None => db
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .is_some_and(|cols| cols.split(", ").any(|c| c == format!("{table}.{column}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::violates_unique;

    #[tokio::test]
    async fn unique_violations_are_told_apart_by_constraint() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE users (username TEXT UNIQUE, email TEXT UNIQUE)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO users VALUES ('alice', 'a@x')")
            .execute(&pool)
            .await
            .unwrap();
        let same_name = sqlx::query("INSERT INTO users VALUES ('alice', 'b@x')")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(violates_unique(&same_name, "users", "username"));
        let same_email = sqlx::query("INSERT INTO users VALUES ('bob', 'a@x')")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(!violates_unique(&same_email, "users", "username"));
        assert!(violates_unique(&same_email, "users", "email"));
    }
}
