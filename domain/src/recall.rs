//! Recalling a message: who may, and until when. The rule is the domain's
//! ([`judge`]); the store applies it inside the transaction that rewrites
//! the message and logs the recall, so two recalls of one message cannot
//! both pass.
//!
//! - A sender may recall their own message within the recall window
//!   (`ChatConfig::recall_window`, 2 minutes by default).
//! - The owner of a room or of a private group may remove any message of
//!   it, at any time (the moderation hook). Private chats have no owner.
//!   A group owner's "delete message" (`group_delete_message`) is this
//!   recall, asked as the group's owner ([`RecallRule::as_group_owner`]):
//!   a removed message reads exactly like a recalled one.
//! - A recalled message reads as `recalled` from then on (history, search,
//!   quotes, previews); its text leaves the search index and its media file
//!   is deleted. The recall itself is an event (`message_recalled`), so a
//!   client that missed it learns of it by catching up.

use std::time::Duration;

use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationKind, ErrorCode, MediaId, MemberRole, UserBrief,
    UserId,
};

use crate::{DomainError, Result};

/// What the store found about the message to recall and the one recalling.
#[derive(Clone, Debug)]
pub struct RecallTarget {
    /// The event's kind (`message`, `recalled`, …).
    pub kind: String,
    /// Its sender.
    pub sender: UserId,
    /// When it was stored.
    pub at_ms: i64,
    /// The conversation's kind.
    pub conversation: ConversationKind,
    /// The role of the one recalling in that conversation.
    pub role: MemberRole,
}

/// The rule's parameters.
#[derive(Clone, Copy, Debug)]
pub struct RecallRule {
    /// How long after sending the sender may recall.
    pub window: Duration,
    /// The time of the recall (server clock, ms).
    pub now_ms: i64,
    /// Asked as a private group's owner (`group_delete_message`): only in a
    /// group (`not_group`, checked by the store before membership), only by
    /// its owner (`owner_only`), then any message at any time.
    pub as_group_owner: bool,
}

/// May `actor` recall `target`? `owner_only` (asked as a group's owner by
/// someone who is not), `already_recalled`, `message_not_found` (not a
/// message), `recall_not_yours`, `recall_too_late`.
pub fn judge(target: &RecallTarget, actor: UserId, rule: RecallRule) -> Result<()> {
    if rule.as_group_owner && target.role != MemberRole::Owner {
        return Err(DomainError::code(ErrorCode::OwnerOnly));
    }
    match target.kind.as_str() {
        "message" => {}
        "recalled" => return Err(DomainError::code(ErrorCode::AlreadyRecalled)),
        _ => return Err(DomainError::field(ErrorCode::MessageNotFound, "seq")),
    }
    let owns_it = matches!(
        target.conversation,
        ConversationKind::Room | ConversationKind::Group
    ) && target.role == MemberRole::Owner;
    if owns_it {
        return Ok(());
    }
    if target.sender != actor {
        return Err(DomainError::code(ErrorCode::RecallNotYours));
    }
    let window_ms = i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
    if rule.now_ms.saturating_sub(target.at_ms) > window_ms {
        return Err(DomainError::code(ErrorCode::RecallTooLate));
    }
    Ok(())
}

/// A stored recall.
#[derive(Clone, Debug)]
pub struct RecallDone {
    /// The `message_recalled` event (to publish).
    pub event: ConversationEvent,
    /// The recalled message's media file, whose row is gone: its files are
    /// deleted next.
    pub media: Option<MediaId>,
}

impl crate::Chat {
    /// Recalls the message at `room`/`seq` for `actor` (see the module
    /// rules). The `message_recalled` event is pushed to the conversation;
    /// a media message's files are deleted from disk once the recall is
    /// stored. Returns that event.
    pub async fn recall(
        &self,
        actor: &UserBrief,
        room: ConversationId,
        seq: teahouse_protocol::Seq,
    ) -> Result<ConversationEvent> {
        self.recall_as(actor, room, seq, false).await
    }

    /// [`Chat::recall`], asked as the owner of a private group when
    /// `as_group_owner` (see [`RecallRule::as_group_owner`]).
    pub(crate) async fn recall_as(
        &self,
        actor: &UserBrief,
        room: ConversationId,
        seq: teahouse_protocol::Seq,
        as_group_owner: bool,
    ) -> Result<ConversationEvent> {
        let rule = RecallRule {
            window: self.config.recall_window,
            now_ms: crate::now_ms(),
            as_group_owner,
        };
        let done = self.store.recall(actor, room, seq, rule).await?;
        if let Some(media) = &done.media {
            self.media.files.remove(media);
        }
        let frame = crate::hub::encode(&teahouse_protocol::ServerFrame::Event {
            event: done.event.clone(),
        });
        self.publisher.publish(room, done.event.seq, frame);
        Ok(done.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: &str, sender: i64, role: MemberRole) -> RecallTarget {
        RecallTarget {
            kind: kind.into(),
            sender: UserId(sender),
            at_ms: 1_000_000,
            conversation: ConversationKind::Room,
            role,
        }
    }

    fn at(ms: i64) -> RecallRule {
        RecallRule {
            window: Duration::from_secs(120),
            now_ms: ms,
            as_group_owner: false,
        }
    }

    fn code(r: Result<()>) -> Option<ErrorCode> {
        r.err().map(|e| e.to_api().code)
    }

    #[test]
    fn senders_recall_within_the_window_only() {
        let own = target("message", 1, MemberRole::Member);
        assert_eq!(code(judge(&own, UserId(1), at(1_000_000 + 120_000))), None);
        assert_eq!(
            code(judge(&own, UserId(1), at(1_000_000 + 120_001))),
            Some(ErrorCode::RecallTooLate)
        );
        assert_eq!(
            code(judge(&own, UserId(2), at(1_000_000))),
            Some(ErrorCode::RecallNotYours)
        );
    }

    #[test]
    fn room_owners_remove_anything_but_not_in_private_chats() {
        let theirs = target("message", 1, MemberRole::Owner);
        assert_eq!(code(judge(&theirs, UserId(2), at(9_000_000_000))), None);
        let direct = RecallTarget {
            conversation: ConversationKind::Direct,
            ..theirs
        };
        assert_eq!(
            code(judge(&direct, UserId(2), at(1_000_000))),
            Some(ErrorCode::RecallNotYours)
        );
    }

    #[test]
    fn group_owners_remove_anything_and_only_they_may_as_owners() {
        let theirs = RecallTarget {
            conversation: ConversationKind::Group,
            ..target("message", 1, MemberRole::Owner)
        };
        let as_owner = RecallRule {
            as_group_owner: true,
            ..at(9_000_000_000)
        };
        // Long after the window, someone else's message: the owner may,
        // through recall and through "delete message" alike.
        assert_eq!(code(judge(&theirs, UserId(2), at(9_000_000_000))), None);
        assert_eq!(code(judge(&theirs, UserId(2), as_owner)), None);
        // A member deleting as the owner is refused, even their own message
        // within the window (that is an ordinary recall).
        let own = RecallTarget {
            role: MemberRole::Member,
            ..theirs.clone()
        };
        assert_eq!(
            code(judge(
                &own,
                UserId(1),
                RecallRule {
                    as_group_owner: true,
                    ..at(1_000_000)
                }
            )),
            Some(ErrorCode::OwnerOnly)
        );
        assert_eq!(code(judge(&own, UserId(1), at(1_000_000))), None);
        // A support conversation has no owner who may remove anything.
        let support = RecallTarget {
            conversation: ConversationKind::Support,
            ..theirs
        };
        assert_eq!(
            code(judge(&support, UserId(2), at(1_000_000))),
            Some(ErrorCode::RecallNotYours)
        );
    }

    #[test]
    fn twice_or_not_a_message_is_refused() {
        let gone = target("recalled", 1, MemberRole::Owner);
        assert_eq!(
            code(judge(&gone, UserId(1), at(1_000_000))),
            Some(ErrorCode::AlreadyRecalled)
        );
        let joined = target("member_joined", 1, MemberRole::Owner);
        assert_eq!(
            code(judge(&joined, UserId(1), at(1_000_000))),
            Some(ErrorCode::MessageNotFound)
        );
    }
}
