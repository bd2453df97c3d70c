//! Ephemeral signals: typing and presence. Never stored, may be lost;
//! they travel through the [`Publisher`](crate::Publisher) as signals, like
//! everything else that leaves the domain.
//!
//! - Typing: a member says "I am typing in C"; it is relayed to the other
//!   members' sockets at most once per `ChatConfig::typing_interval` per
//!   (user, conversation), and never for a conversation the user may not
//!   write to (today: is not a member of). Clients show it for a few
//!   seconds; nothing is kept.
//! - Presence: online while the user has any socket open (several tabs
//!   count once); offline when the last one closes, which for a socket
//!   that silently died is within two heartbeats. The hub sends the
//!   changes (`presence` frames); [`Chat::is_online`] answers for a
//!   member panel's first draw.

use teahouse_protocol::{ConversationId, UserBrief, UserId};

use crate::publish::Signal;
use crate::{Chat, Result};

/// Typing limiter keys kept before the forgotten ones are pruned.
const TYPING_KEYS_PRUNE_AT: usize = 10_000;

impl Chat {
    /// `user` is typing in `room`: relays it to the other members unless
    /// the user sent one for `room` within the typing interval, or may not
    /// write there. Returns whether it was relayed. (The socket drops a
    /// refused one without an answer: typing is best effort.)
    pub async fn typing(&self, user: &UserBrief, room: ConversationId) -> Result<bool> {
        if self.typing_limiter.len() > TYPING_KEYS_PRUNE_AT {
            self.typing_limiter.retain_recent();
        }
        if self.typing_limiter.check_key(&(user.id, room)).is_err() {
            return Ok(false);
        }
        match self.store.check_member(room, user.id).await {
            Ok(()) => {}
            Err(crate::DomainError::Rejected(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.publisher.signal(Signal::Typing {
            user: user.clone(),
            conversation: room,
        });
        Ok(true)
    }

    /// Whether `user` has a socket open on this process.
    pub fn is_online(&self, user: UserId) -> bool {
        self.hub.is_online(user)
    }
}
