//! Read positions as the chat service offers them: moving mine forward
//! (pushed to every socket of mine, so every tab and device shows the same
//! badge) and the badge of each conversation (computed by the
//! [`ReadStore`](crate::store::ReadStore) from the position).

use teahouse_protocol::{ConversationId, ConversationSummary, ReadState, Seq, UserBrief, UserId};

use crate::publish::Signal;
use crate::{Chat, Result};

impl Chat {
    /// Moves `user`'s read position in `room` up to `seq` (never back;
    /// clamped to the newest event). Members only. When it moved, every
    /// socket of the user (this tab's included) gets a `read` frame with
    /// the new badge.
    pub async fn mark_read(
        &self,
        user: &UserBrief,
        room: ConversationId,
        seq: Seq,
    ) -> Result<ReadState> {
        self.store.check_member(room, user.id).await?;
        let (moved, state) = self.store.advance_read(user.id, room, seq).await?;
        if moved {
            self.publisher.signal(Signal::ReadMoved {
                user: user.id,
                state: state.clone(),
            });
        }
        Ok(state)
    }

    /// `user`'s read state in `room` (members only).
    pub async fn read_state(&self, user: UserId, room: ConversationId) -> Result<ReadState> {
        self.store.check_member(room, user).await?;
        self.store.read_state(user, room).await
    }

    /// One conversation's summary as `user` sees it, with their badge.
    pub(crate) async fn summary_with_badge(
        &self,
        user: UserId,
        room: ConversationId,
    ) -> Result<ConversationSummary> {
        let mut summary = self.store.summary(user, room).await?;
        if summary.joined {
            let state = self.store.read_state(user, room).await?;
            summary.read_seq = state.read_seq;
            summary.unread = state.unread;
            summary.mentioned = state.mentioned;
        }
        Ok(summary)
    }
}
