//! Accounts: registration and password login (argon2id, PHC strings).

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use sqlx::Row;
use teahouse_protocol::{ErrorCode, UserBrief, UserId};

use crate::error::violates_unique;
use crate::{now_ms, validate, Db, DomainError, Result};

/// The system account that owns the lobby; it has no usable password.
pub const SYSTEM_USERNAME: &str = "teahouse";

/// Hashes and verifies passwords on a few dedicated threads, off the async
/// runtime. Argon2 is deliberately expensive (19 MiB and tens of ms per
/// hash): unbounded it is a DoS vector, and on tokio's large blocking pool
/// every thread would keep its own 19 MiB malloc arena alive. A fixed set of
/// workers bounds both CPU and memory.
#[derive(Clone, Debug)]
pub struct PasswordHasherPool {
    /// Jobs for the worker threads; bounded so a flood of logins waits
    /// instead of queueing without limit.
    jobs: std::sync::mpsc::SyncSender<HashJob>,
}

type HashJob = Box<dyn FnOnce() + Send>;

impl PasswordHasherPool {
    /// Starts `workers` hashing threads (at least one).
    pub fn new(workers: usize) -> Self {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<HashJob>(1024);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // pool dropped
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        PasswordHasherPool { jobs }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let jobs = &self.jobs;
        let boxed: HashJob = Box::new(move || {
            // The caller may have gone away; nothing to do then.
            if reply.send(job()).is_err() {
                tracing::debug!("password job finished after its caller left");
            }
        });
        // With 1024 hashes already waiting, shed load instead of queueing more.
        jobs.try_send(boxed).map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(_) => DomainError::code(ErrorCode::RateLimited),
            std::sync::mpsc::TrySendError::Disconnected(_) => {
                DomainError::Internal("password hashing threads stopped".into())
            }
        })?;
        answer
            .await
            .map_err(|_| DomainError::Internal("password hashing job lost".into()))
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
    let mut writer = db.writer().await?;
    let row = sqlx::query(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(&username)
    .bind(&nickname)
    .bind(&phc)
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
    let mut writer = db.writer().await?;
    sqlx::query(
        "INSERT INTO users (username, nickname, password_hash, created_ms) VALUES (?, '茶馆', '!', ?)
         ON CONFLICT(username) DO NOTHING",
    )
    .bind(SYSTEM_USERNAME)
    .bind(now_ms())
    .execute(&mut *writer)
    .await?;
    let row = sqlx::query("SELECT id FROM users WHERE username = ?")
        .bind(SYSTEM_USERNAME)
        .fetch_one(&mut *writer)
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
