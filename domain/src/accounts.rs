//! Accounts: registration and password login (argon2id, PHC strings). The
//! rules live here; the rows live behind [`AccountStore`].

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use teahouse_protocol::{ErrorCode, UserBrief};

use crate::store::AccountStore;
use crate::workers::WorkerPool;
use crate::{validate, DomainError, Result};

/// The system account that owns the lobby; it has no usable password.
pub const SYSTEM_USERNAME: &str = teahouse_protocol::SYSTEM_USERNAME;
/// Its display name.
pub const SYSTEM_NICKNAME: &str = "茶馆";

/// Hashes and verifies passwords on a few dedicated threads, off the async
/// runtime. Argon2 is deliberately expensive (19 MiB and tens of ms per
/// hash): unbounded it is a DoS vector, and on tokio's large blocking pool
/// every thread would keep its own 19 MiB malloc arena alive. A fixed set of
/// workers bounds both CPU and memory.
#[derive(Clone, Debug)]
pub struct PasswordHasherPool {
    /// The hashing threads (normal priority: a login waits for them).
    workers: WorkerPool,
}

impl PasswordHasherPool {
    /// Starts `workers` hashing threads (at least one); with 1024 hashes
    /// already waiting, more are refused (`rate_limited`) instead of queued.
    pub fn new(workers: usize) -> Self {
        PasswordHasherPool {
            workers: WorkerPool::new("argon2", workers, 1024, 0),
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        self.workers.run(job).await
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
    store: &dyn AccountStore,
    hasher: &PasswordHasherPool,
    input: NewAccount,
) -> Result<UserBrief> {
    let username = validate::username(&input.username)?;
    let nickname = validate::nickname(&input.nickname)?;
    validate::password(&input.password, &username)?;
    if username.eq_ignore_ascii_case(SYSTEM_USERNAME) {
        return Err(DomainError::field(ErrorCode::UsernameTaken, "username"));
    }
    // Cheap pre-check so a taken name does not cost a hash; the store's
    // unique constraint still decides races.
    if store.username_exists(&username).await? {
        return Err(DomainError::field(ErrorCode::UsernameTaken, "username"));
    }
    let phc = hasher.hash(input.password).await?;
    store.insert_account(&username, &nickname, &phc).await
}

/// Checks a username/password pair. Unknown users and wrong passwords give
/// the same `bad_credentials` error after the same amount of work.
pub async fn authenticate(
    store: &dyn AccountStore,
    hasher: &PasswordHasherPool,
    username: &str,
    password: &str,
) -> Result<UserBrief> {
    let bad = || DomainError::field(ErrorCode::BadCredentials, "password");
    if password.chars().count() > teahouse_protocol::limits::PASSWORD_MAX {
        return Err(bad());
    }
    let (user, phc) = match store.credentials(username.trim()).await? {
        Some((user, phc)) => (Some(user), phc),
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

/// Changes `user`'s password after checking the current one (`wrong_password`
/// otherwise, after the same work as a login). Returns the new sign-in epoch.
pub async fn change_password(
    store: &dyn AccountStore,
    hasher: &PasswordHasherPool,
    user: &UserBrief,
    current: &str,
    new: &str,
) -> Result<i64> {
    let wrong = || DomainError::field(ErrorCode::WrongPassword, "current_password");
    if current.chars().count() > teahouse_protocol::limits::PASSWORD_MAX {
        return Err(wrong());
    }
    let (_, phc) = store
        .credentials(&user.username)
        .await?
        .ok_or_else(|| DomainError::code(ErrorCode::NotFound))?;
    if !hasher.verify(current.to_owned(), phc).await? {
        return Err(wrong());
    }
    validate::password(new, &user.username)?;
    let phc = hasher.hash(new.to_owned()).await?;
    store.set_password(user.id, &phc).await
}

fn dummy_hash() -> &'static str {
    // argon2id of a random string, default parameters.
    "$argon2id$v=19$m=19456,t=2,p=1$bWFkZXVwc2FsdHNhbHQ$4qIcmjSjCQqgxoRKhvd1AKszsSgJQM2YFC0NK/P1Bj0"
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
