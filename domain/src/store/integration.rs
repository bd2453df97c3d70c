//! The storage seam of the server API for other backends (issue 17): API
//! keys and the bot accounts they act as, users of the host system found
//! by its own id (`external_id`), and sign-in hand-off tokens.
//!
//! Secrets are never stored: keys and tokens are kept as the SHA-256 of
//! the secret (see [`crate::api::keys`] for why that is enough).

use async_trait::async_trait;
use teahouse_protocol::{ApiKeyInfo, ApiScope, ConversationId, UserBrief, UserId};

use crate::Result;

/// A new API key, checked, with its bot account to create.
#[derive(Clone, Debug)]
pub struct NewApiKey<'a> {
    /// What the admin called it (validated).
    pub name: &'a str,
    /// SHA-256 of its secret.
    pub secret_hash: &'a [u8],
    /// The first characters of the secret (shown in the list).
    pub prefix: &'a str,
    /// What it may do.
    pub scope: ApiScope,
    /// The rooms it is limited to (None: all).
    pub rooms: Option<&'a [ConversationId]>,
    /// Its bot account: an unregistrable username, the nickname and avatar
    /// URL it is drawn with (validated).
    pub bot_username: &'a str,
    pub bot_nickname: &'a str,
    pub bot_avatar_url: Option<&'a str>,
    /// The admin who made it.
    pub created_by: UserId,
}

/// A user of the host system: the account and the host's id for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalUser {
    /// The account as everyone sees it.
    pub user: UserBrief,
    /// The host system's id for it; None for accounts made here.
    pub external_id: Option<String>,
}

/// API keys, host users and hand-off tokens.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    /// Stores a key and creates its bot account, in one transaction.
    async fn insert_api_key(&self, key: NewApiKey<'_>) -> Result<ApiKeyInfo>;

    /// Every key, newest first (revoked ones too).
    async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>>;

    /// The key whose secret hashes to `secret_hash`, revoked or not.
    async fn api_key_by_hash(&self, secret_hash: &[u8]) -> Result<Option<ApiKeyInfo>>;

    /// Marks a key revoked at `at_ms` (once: a second revoke keeps the
    /// first time); `not_found`.
    async fn revoke_api_key(&self, id: i64, at_ms: i64) -> Result<ApiKeyInfo>;

    /// Creates the account of host user `external_id` (with `username`,
    /// unregistrable; it cannot sign in with a password), or updates its
    /// nickname and avatar URL; true if it was created. Races on one
    /// `external_id` are settled by its unique index: both callers get the
    /// one account.
    async fn upsert_external_user(
        &self,
        external_id: &str,
        username: &str,
        nickname: &str,
        avatar_url: Option<&str>,
    ) -> Result<(UserBrief, bool)>;

    /// The account of host user `external_id`, if any.
    async fn user_by_external_id(&self, external_id: &str) -> Result<Option<UserBrief>>;

    /// These accounts with their host ids, in id order (unknown ids are
    /// left out).
    async fn external_users(&self, ids: &[UserId]) -> Result<Vec<ExternalUser>>;

    /// Stores a hand-off token for `user`, valid until `expires_ms` (and
    /// forgets tokens that expired before `forget_before_ms`).
    async fn insert_handoff(
        &self,
        token_hash: &[u8],
        user: UserId,
        expires_ms: i64,
        forget_before_ms: i64,
    ) -> Result<()>;

    /// Uses the token: the user it was made for, if it exists, was never
    /// used and has not expired at `now_ms`; one guarded UPDATE, so of two
    /// redeems at once exactly one gets the user.
    async fn redeem_handoff(&self, token_hash: &[u8], now_ms: i64) -> Result<Option<UserId>>;
}
