//! API keys: an admin makes one (a name, read-only or full, optionally
//! limited to some rooms, and the bot it acts as: nickname and avatar URL,
//! by default the key's name), sees it once, and may revoke it; a backend
//! sends it as `Authorization: Bearer <secret>` and [`Chat::api_caller`]
//! turns it into an [`ApiCaller`].
//!
//! Why SHA-256 and not argon2: a password is a low-entropy secret, and a
//! slow salted hash is what keeps a stolen database from giving them away
//! by guessing. A key is 32 random bytes (256 bits): no guessing gets
//! anywhere, so a slow hash would add nothing but ~20 ms of CPU to every
//! API request, and a salt would stop the lookup by an index on the hash.
//! SHA-256 is a one-way function that a stolen table cannot be reversed
//! through; a revoked key's hash stays, so it is told apart from one never
//! issued.

use teahouse_protocol::{
    integration, limits, ApiError, ApiKeyInfo, ApiScope, ConversationId, CreatedApiKey, ErrorCode,
    UserBrief,
};

use super::{new_secret, secret_hash, ApiCaller};
use crate::store::NewApiKey;
use crate::{now_ms, validate, Chat, DomainError, Result};

/// What every secret starts with (so a leaked one is recognisable, e.g.
/// by secret scanners).
pub const SECRET_PREFIX: &str = "thk_";

/// Characters of the secret the key list shows.
const SHOWN_PREFIX: usize = 12;

/// What an admin asks for.
#[derive(Clone, Debug, Default)]
pub struct KeyRequest {
    /// A name for the list (1–40 characters).
    pub name: String,
    /// `read_only` or `full`.
    pub scope: String,
    /// The rooms it is limited to (None: all).
    pub rooms: Option<Vec<ConversationId>>,
    /// The bot's nickname (default: the key's name).
    pub bot_nickname: Option<String>,
    /// The bot's avatar URL (`https://…`; empty: the generated avatar).
    pub bot_avatar_url: Option<String>,
}

impl Chat {
    /// Makes an API key and its bot account (admins only). The secret is
    /// in the answer and nowhere else.
    pub async fn create_api_key(
        &self,
        admin: &UserBrief,
        req: KeyRequest,
    ) -> Result<CreatedApiKey> {
        self.require_admin(admin).await?;
        let name = validate::room_name(&req.name)
            .map_err(|_| DomainError::field(ErrorCode::ApiKeyNameInvalid, "name"))?;
        if name.chars().count() > limits::API_KEY_NAME_MAX {
            return Err(DomainError::field(ErrorCode::ApiKeyNameInvalid, "name"));
        }
        let scope = ApiScope::parse(req.scope.trim())
            .ok_or_else(|| DomainError::field(ErrorCode::ApiKeyScopeInvalid, "scope"))?;
        let rooms = match req.rooms {
            Some(mut rooms) => {
                rooms.sort();
                rooms.dedup();
                if rooms.is_empty() || rooms.len() > limits::API_KEY_ROOMS_MAX {
                    return Err(DomainError::field(ErrorCode::ApiKeyScopeInvalid, "rooms"));
                }
                for room in &rooms {
                    if self.store.summary(admin.id, *room).await.is_err() {
                        return Err(DomainError::field(ErrorCode::ApiKeyScopeInvalid, "rooms"));
                    }
                }
                Some(rooms)
            }
            None => None,
        };
        let bot_nickname = match req.bot_nickname.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => validate::nickname(n)?,
            _ => validate::nickname(&name)?,
        };
        let bot_avatar_url = integration::avatar_url(req.bot_avatar_url.as_deref().unwrap_or(""))?;
        let secret = format!("{SECRET_PREFIX}{}", new_secret());
        let hash = secret_hash(&secret);
        let prefix: String = secret.chars().take(SHOWN_PREFIX).collect();
        let bot_username = format!("bot:{}", crate::media::MediaFiles::new_id());
        let key = self
            .store
            .insert_api_key(NewApiKey {
                name: &name,
                secret_hash: &hash,
                prefix: &prefix,
                scope,
                rooms: rooms.as_deref(),
                bot_username: &bot_username,
                bot_nickname: &bot_nickname,
                bot_avatar_url: bot_avatar_url.as_deref(),
                created_by: admin.id,
            })
            .await?;
        tracing::info!(key = key.id, admin = %admin.id, scope = scope.as_str(), "API key created");
        Ok(CreatedApiKey { key, secret })
    }

    /// Every API key, newest first (admins only; never their secrets).
    pub async fn api_keys(&self, admin: &UserBrief) -> Result<Vec<ApiKeyInfo>> {
        self.require_admin(admin).await?;
        self.store.api_keys().await
    }

    /// Revokes a key (admins only): from now on it is refused with
    /// `api_key_revoked`. Revoking it again changes nothing.
    pub async fn revoke_api_key(&self, admin: &UserBrief, id: i64) -> Result<ApiKeyInfo> {
        self.require_admin(admin).await?;
        let key = self.store.revoke_api_key(id, now_ms()).await?;
        tracing::info!(key = id, admin = %admin.id, "API key revoked");
        Ok(key)
    }

    /// The caller behind a bearer secret: `api_key_invalid` for one never
    /// issued, `api_key_revoked` for a revoked one.
    pub async fn api_caller(&self, secret: &str) -> Result<ApiCaller> {
        let secret = secret.trim();
        if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
            return Err(DomainError::Rejected(ApiError::new(
                ErrorCode::ApiKeyInvalid,
            )));
        }
        let key = self
            .store
            .api_key_by_hash(&secret_hash(secret))
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::ApiKeyInvalid))?;
        if key.revoked_ms.is_some() {
            return Err(DomainError::code(ErrorCode::ApiKeyRevoked));
        }
        Ok(ApiCaller {
            key_id: key.id,
            scope: key.scope,
            rooms: key.rooms,
            bot: key.bot,
        })
    }
}
