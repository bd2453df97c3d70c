//! The seed-protocol seam: which public room stands for a host system's
//! group id (`group_id` of the seeds' JSON protocol, see
//! [`crate::compat`]).

use async_trait::async_trait;
use teahouse_protocol::{ConversationEvent, ConversationId, UserBrief};

use crate::store::NewRoom;
use crate::Result;

/// Group ids of the seed protocol and their rooms.
#[async_trait]
pub trait CompatStore: Send + Sync {
    /// The room bound to group id `key`, if any.
    async fn compat_group(&self, key: &str) -> Result<Option<ConversationId>>;

    /// The room bound to `key`; if there is none, creates a public room
    /// owned by `owner` and binds it, in one transaction (so two first
    /// joins at once make one room). The event is the new room's
    /// `room_created`, None when the room existed.
    async fn ensure_compat_group(
        &self,
        owner: &UserBrief,
        key: &str,
        room: NewRoom<'_>,
    ) -> Result<(ConversationId, Option<ConversationEvent>)>;
}
