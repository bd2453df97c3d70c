//! The server API for other backends (issue 17): what a host system (its
//! PHP, Python… backend) may do through an API key, as GatewayWorker's
//! `sendToUid` / `sendToGroup` / `sendToAll` / `joinGroup` /
//! `isUidOnline` / `closeClient` gave PHP apps.
//!
//! - [`keys`]: API keys: an admin makes (shown once, kept hashed) and
//!   revokes them; each acts as its own bot account.
//! - [`users`]: users of the host system by its own id (`external_id`):
//!   create or update, look up, who is online.
//! - [`sends`]: messages from the key's bot to a user (a private chat), to
//!   a room, and system notices to everyone (the lobby); membership and
//!   closing a user's connections.
//! - [`handoff`]: one-time sign-in tokens for the host's users (webviews).
//!
//! Every operation takes the [`ApiCaller`] the key resolved to and checks
//! its scope and rooms first ([`ApiCaller::require_write`],
//! [`ApiCaller::require_room`], [`ApiCaller::require_unlimited`]).

pub mod handoff;
pub mod keys;
pub mod sends;
pub mod users;

use teahouse_protocol::{ApiScope, ConversationId, ErrorCode, UserBrief};

use crate::{DomainError, Result};

/// Who is calling the server API: the key, what it may do, and the bot
/// account it acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCaller {
    /// The key's id (for the log).
    pub key_id: i64,
    /// What it may do.
    pub scope: ApiScope,
    /// The rooms it is limited to; None: every room.
    pub rooms: Option<Vec<ConversationId>>,
    /// Its bot account: sends come from it.
    pub bot: UserBrief,
}

impl ApiCaller {
    /// `api_key_read_only` unless the key may change things.
    pub fn require_write(&self) -> Result<()> {
        match self.scope {
            ApiScope::Full => Ok(()),
            ApiScope::ReadOnly => Err(DomainError::code(ErrorCode::ApiKeyReadOnly)),
        }
    }

    /// `api_key_room_denied` unless the key may act in `room`.
    pub fn require_room(&self, room: ConversationId) -> Result<()> {
        match &self.rooms {
            Some(rooms) if !rooms.contains(&room) => {
                Err(DomainError::code(ErrorCode::ApiKeyRoomDenied))
            }
            _ => Ok(()),
        }
    }

    /// `api_key_room_denied` for a key limited to some rooms: what reaches
    /// beyond rooms (private chats, everyone, the whole online list,
    /// closing connections, signing a user in) needs an unlimited key.
    pub fn require_unlimited(&self) -> Result<()> {
        match self.rooms {
            Some(_) => Err(DomainError::code(ErrorCode::ApiKeyRoomDenied)),
            None => Ok(()),
        }
    }
}

/// A fresh secret: 32 random bytes from the thread's CSPRNG (ChaCha,
/// seeded from the OS), as 64 lowercase hex characters.
pub(crate) fn new_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a secret, as stored.
pub(crate) fn secret_hash(secret: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scope: ApiScope, rooms: Option<Vec<ConversationId>>) -> ApiCaller {
        ApiCaller {
            key_id: 1,
            scope,
            rooms,
            bot: UserBrief::named(teahouse_protocol::UserId(9), "bot:x", "Bot"),
        }
    }

    #[test]
    fn scope_and_rooms_decide() {
        let code = |r: Result<()>| r.unwrap_err().to_api().code;
        let ro = caller(ApiScope::ReadOnly, None);
        assert_eq!(code(ro.require_write()), ErrorCode::ApiKeyReadOnly);
        assert!(ro.require_room(ConversationId(5)).is_ok());
        let limited = caller(ApiScope::Full, Some(vec![ConversationId(2)]));
        assert!(limited.require_write().is_ok());
        assert!(limited.require_room(ConversationId(2)).is_ok());
        assert_eq!(
            code(limited.require_room(ConversationId(3))),
            ErrorCode::ApiKeyRoomDenied
        );
        assert_eq!(
            code(limited.require_unlimited()),
            ErrorCode::ApiKeyRoomDenied
        );
    }

    #[test]
    fn secrets_are_fresh_and_hashed() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert_eq!(secret_hash(&a).len(), 32);
    }
}
