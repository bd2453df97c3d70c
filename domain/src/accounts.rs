//! Accounts: registration and password login (argon2id, PHC strings).

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use sqlx::Row;
use teahouse_protocol::{ErrorCode, UserBrief, UserId};
use tokio::sync::Semaphore;

use crate::error::is_unique_violation;
use crate::{now_ms, validate, Db, DomainError, Result};

/// The system account that owns the lobby; it has no usable password.
pub const SYSTEM_USERNAME: &str = "teahouse";

/// Hashes and verifies passwords off the async runtime, a bounded number at
/// a time (argon2 is deliberately expensive; unbounded it is a DoS vector).
#[derive(Clone, Debug)]
pub struct PasswordHasherPool {
    /// Permits for concurrent hash/verify jobs.
    permits: Arc<Semaphore>,
}

impl PasswordHasherPool {
    pub fn new(concurrency: usize) -> Self {
        PasswordHasherPool {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| DomainError::Internal(format!("hash task failed: {e}")))
    }

    /// Produces an argon2id PHC string for `password`.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| DomainError::Internal(format!("hashing failed: {e}")))
        })
        .await?
    }

    /// Checks `password` against a stored PHC string. Unparseable hashes
    /// (such as the system user's `!`) never verify.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool> {
        self.run(move || match PasswordHash::new(&phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
    }
}

/// Input of [`register`].
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub nickname: String,
    pub password: String,
}

/// Validates and stores a new account. Returns the user.
pub async fn register(
    db: &Db,
    hasher: &PasswordHasherPool,
    input: NewAccount,
) -> Result<UserBrief> {
    let username = validate::username(&input.username)?;
    let nickname = validate::nickname(&input.nickname)?;
    validate::password(&input.password, &username)?;
    if username.eq_ignore_ascii_case(SYSTEM_USERNAME) {
        return Err(DomainError::field(ErrorCode::UsernameTaken, "username"));
    }
    // Cheap pre-check so a taken name does not cost a hash; the UNIQUE
    // constraint below still decides races.
    if find_by_username(db, &username).await?.is_some() {
        return Err(DomainError::field(ErrorCode::UsernameTaken, "username"));
    }
    let phc = hasher.hash(input.password).await?;
    let row = sqlx::query(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(&username)
    .bind(&nickname)
    .bind(&phc)
    .bind(now_ms())
    .fetch_one(&db.write)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            DomainError::field(ErrorCode::UsernameTaken, "username")
        } else {
            e.into()
        }
    })?;
    Ok(UserBrief {
        id: row.get("id"),
        username,
        nickname,
    })
}

/// Checks a username/password pair. Unknown users and wrong passwords give
/// the same `bad_credentials` error after the same amount of work.
pub async fn authenticate(
    db: &Db,
    hasher: &PasswordHasherPool,
    username: &str,
    password: &str,
) -> Result<UserBrief> {
    let bad = || DomainError::field(ErrorCode::BadCredentials, "password");
    if password.chars().count() > teahouse_protocol::limits::PASSWORD_MAX {
        return Err(bad());
    }
    let found =
        sqlx::query("SELECT id, username, nickname, password_hash FROM users WHERE username = ?")
            .bind(username.trim())
            .fetch_optional(&db.read)
            .await?;
    let (user, phc) = match found {
        Some(row) => (
            Some(UserBrief {
                id: row.get("id"),
                username: row.get("username"),
                nickname: row.get("nickname"),
            }),
            row.get::<String, _>("password_hash"),
        ),
        // Verify against a real hash anyway so timing does not reveal which
        // usernames exist.
        None => (None, dummy_hash().to_owned()),
    };
    let ok = hasher.verify(password.to_owned(), phc).await?;
    match user {
        Some(u) if ok => Ok(u),
        _ => Err(bad()),
    }
}

fn dummy_hash() -> &'static str {
    // argon2id of a random string, default parameters.
    "$argon2id$v=19$m=19456,t=2,p=1$bWFkZXVwc2FsdHNhbHQ$4qIcmjSjCQqgxoRKhvd1AKszsSgJQM2YFC0NK/P1Bj0"
}

/// Looks a user up by id.
pub async fn get(db: &Db, id: UserId) -> Result<Option<UserBrief>> {
    let row = sqlx::query("SELECT id, username, nickname FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(&db.read)
        .await?;
    Ok(row.map(|r| UserBrief {
        id: r.get("id"),
        username: r.get("username"),
        nickname: r.get("nickname"),
    }))
}

async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserId>> {
    let row = sqlx::query("SELECT id FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(&db.read)
        .await?;
    Ok(row.map(|r| r.get("id")))
}

/// Creates the system user if missing and returns its id.
pub async fn ensure_system_user(db: &Db) -> Result<UserId> {
    sqlx::query(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, '茶馆', '!', ?)
         ON CONFLICT(username) DO NOTHING",
    )
    .bind(SYSTEM_USERNAME)
    .bind(now_ms())
    .execute(&db.write)
    .await?;
    let row = sqlx::query("SELECT id FROM users WHERE username = ?")
        .bind(SYSTEM_USERNAME)
        .fetch_one(&db.write)
        .await?;
    Ok(row.get("id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timing_decoy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown usernames would answer faster than
        // wrong passwords and reveal which accounts exist.
        let parsed = PasswordHash::new(dummy_hash()).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(Argon2::default().verify_password(b"x", &parsed).is_err());
    }
}
