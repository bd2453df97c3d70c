//! The recall seam: rewriting a message as recalled and logging the
//! recall, in one transaction that applies the domain's rule
//! ([`crate::recall::judge`]).

use async_trait::async_trait;
use teahouse_protocol::{ConversationId, Seq, UserBrief};

use crate::recall::{RecallDone, RecallRule};
use crate::Result;

/// Recalls.
#[async_trait]
pub trait RecallStore: Send + Sync {
    /// Recalls the message at `room`/`seq` for `actor` if
    /// [`judge`](crate::recall::judge) allows it under `rule` (checked
    /// inside the transaction): `not_found` / `not_member` for the
    /// conversation, `message_not_found`, then the rule's refusals. The
    /// message's content leaves the log, the search index and the media
    /// table; its mentions go; the `message_recalled` event is appended.
    async fn recall(
        &self,
        actor: &UserBrief,
        room: ConversationId,
        seq: Seq,
        rule: RecallRule,
    ) -> Result<RecallDone>;
}
