//! Read models returned by server functions.

use serde::{Deserialize, Serialize};

use crate::{ConversationEvent, ConversationId, Seq, UserId};

/// The public face of a user: enough to draw a bubble and an avatar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct UserBrief {
    /// Stable id; also seeds the generated avatar colour.
    pub id: UserId,
    /// Login name (unique, ASCII).
    pub username: String,
    /// Display name (any script, not unique).
    pub nickname: String,
}

/// One row of the conversation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub name: String,
    pub description: String,
    /// The creator; their messages carry an owner mark.
    pub owner_id: UserId,
    pub member_count: i64,
    /// Highest seq stored in the room's log.
    pub last_seq: Seq,
    /// The newest event, for the preview line (None only if the log is empty).
    pub last_event: Option<ConversationEvent>,
    /// Whether the asking user is a member.
    pub joined: bool,
}

/// A room with its members, for the member panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub room: ConversationSummary,
    pub members: Vec<UserBrief>,
}

/// One page of the public room directory (`public_rooms`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    /// Matching public rooms, largest first (ties: oldest first).
    pub rooms: Vec<ConversationSummary>,
    /// Pass back as `cursor` for the next page; None on the last page.
    pub next_cursor: Option<String>,
}
