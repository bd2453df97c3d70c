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

/// True if `e` is a UNIQUE constraint violation (used to turn races into 409s).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
