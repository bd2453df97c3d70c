//! Sign-in hand-off: the host backend asks for a one-time token for one of
//! its users ([`Chat::create_handoff`]); its app opens
//! `/auth/handoff?token=…` in a webview, and the web layer signs that
//! browser in as the user the token was made for ([`Chat::redeem_handoff`]).
//!
//! A token is 32 random bytes (only its SHA-256 is stored, like an API
//! key's), works once (one guarded UPDATE: of two redeems at once exactly
//! one wins), expires after `ChatConfig::handoff_ttl` (a minute by
//! default), and signs in only the user it was made for: nothing in the
//! request that redeems it can name another.

use teahouse_protocol::{ErrorCode, UserId};

use super::{new_secret, secret_hash, ApiCaller};
use crate::{now_ms, Chat, DomainError, Result};

/// Expired tokens are forgotten this long after they expire (kept a
/// while so that a late redeem is still told apart in the log).
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

/// A token just made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// The secret to put in the hand-off URL (shown once).
    pub token: String,
    /// When it stops working (ms since the epoch).
    pub expires_ms: i64,
}

impl Chat {
    /// A one-time sign-in token for host user `external_id` (full,
    /// unlimited keys only: it signs someone in).
    pub async fn create_handoff(&self, caller: &ApiCaller, external_id: &str) -> Result<Handoff> {
        caller.require_write()?;
        caller.require_unlimited()?;
        let user = self.external_user(external_id).await?;
        let token = new_secret();
        let now = now_ms();
        let ttl = i64::try_from(self.config.handoff_ttl.as_millis()).unwrap_or(i64::MAX);
        let expires_ms = now.saturating_add(ttl);
        self.store
            .insert_handoff(
                &secret_hash(&token),
                user.id,
                expires_ms,
                now - FORGET_AFTER_MS,
            )
            .await?;
        tracing::info!(key = caller.key_id, user = %user.id, "hand-off token made");
        Ok(Handoff { token, expires_ms })
    }

    /// Uses a hand-off token: the user to sign in, or `handoff_invalid`
    /// (unknown, used, expired, or its account is gone).
    pub async fn redeem_handoff(&self, token: &str) -> Result<UserId> {
        let invalid = || DomainError::code(ErrorCode::HandoffInvalid);
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let user = self
            .store
            .redeem_handoff(&secret_hash(token), now_ms())
            .await?
            .ok_or_else(invalid)?;
        match self.user(user).await? {
            Some(_) => Ok(user),
            None => Err(invalid()),
        }
    }
}
