//! The read-position seam: where each member has read up to, and the
//! badge that follows (unread count, mentioned flag). Positions only move
//! forward; counts are computed, never stored.

use async_trait::async_trait;
use teahouse_protocol::{ConversationId, ReadState, Seq, UserId};

use crate::Result;

/// Read positions per (user, conversation).
#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Moves `user`'s position in `room` up to `seq` (clamped to the log's
    /// last seq; never back) and returns whether it moved and the state
    /// after. The caller has checked membership.
    async fn advance_read(
        &self,
        user: UserId,
        room: ConversationId,
        seq: Seq,
    ) -> Result<(bool, ReadState)>;

    /// `user`'s read state in `room` (all zero if not a member).
    async fn read_state(&self, user: UserId, room: ConversationId) -> Result<ReadState>;

    /// `user`'s read state in each of their conversations.
    async fn read_states(&self, user: UserId) -> Result<Vec<ReadState>>;
}
