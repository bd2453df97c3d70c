//! Read models returned by server functions.

use serde::{Deserialize, Serialize};

use crate::{ConversationEvent, ConversationId, MediaId, Seq, UserId};

/// The username of the system account that owns the lobby: reserved (no
/// one can register it), it cannot sign in and is nobody to chat with, so
/// the UI offers no private chat with it.
pub const SYSTEM_USERNAME: &str = "teahouse";

/// The public face of a user: enough to draw a bubble and an avatar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct UserBrief {
    /// Stable id; also seeds the generated avatar colour.
    pub id: UserId,
    /// Login name (unique, ASCII).
    pub username: String,
    /// Display name (any script, not unique).
    pub nickname: String,
    /// Their uploaded avatar (`GET /avatar/{id}/{size}`), if they set one;
    /// None: the generated one. A new upload gets a new id, so a URL never
    /// changes its picture. (Absent from v1.0 servers and omitted when
    /// None, so v1 clients parse it unchanged.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<MediaId>,
    /// An avatar picture elsewhere (`https://…`), set through the server API
    /// for users of the host system and bots; shown when there is no
    /// uploaded `avatar` (v1.3; omitted when None).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// True for a bot: an API key's account, drawn with a 机器人 / bot tag
    /// (v1.3; omitted when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl UserBrief {
    /// A user with just these names (no avatar, not a bot).
    pub fn named(id: UserId, username: impl Into<String>, nickname: impl Into<String>) -> Self {
        UserBrief {
            id,
            username: username.into(),
            nickname: nickname.into(),
            avatar: None,
            avatar_url: None,
            bot: false,
        }
    }

    /// True for the system account (see [`SYSTEM_USERNAME`]).
    pub fn is_system(&self) -> bool {
        self.username.eq_ignore_ascii_case(SYSTEM_USERNAME)
    }
}

/// What sort of conversation it is. Every kind is the same ordered log with
/// members; the kind decides who may join and how it is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// A public group room anyone may join (the only kind before v1.1).
    #[default]
    Room,
    /// A private chat between two users (see `peer`).
    Direct,
    /// A private group: members only, created by picking people.
    Group,
    /// A support-desk conversation between a guest and an agent.
    Support,
}

impl ConversationKind {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Room => "room",
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
            ConversationKind::Support => "support",
        }
    }

    /// The tag read back; `None` for a tag this build does not know.
    pub fn parse(tag: &str) -> Option<ConversationKind> {
        Some(match tag {
            "room" => ConversationKind::Room,
            "direct" => ConversationKind::Direct,
            "group" => ConversationKind::Group,
            "support" => ConversationKind::Support,
            _ => return None,
        })
    }
}

/// A member's standing in a conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Created it; cannot leave; will moderate.
    Owner,
    /// May moderate (granted by the owner).
    Admin,
    #[default]
    Member,
}

impl MemberRole {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Admin => "admin",
            MemberRole::Member => "member",
        }
    }

    /// The tag read back; `None` for a tag this build does not know.
    pub fn parse(tag: &str) -> Option<MemberRole> {
        Some(match tag {
            "owner" => MemberRole::Owner,
            "admin" => MemberRole::Admin,
            "member" => MemberRole::Member,
            _ => return None,
        })
    }
}

/// A member of a conversation: the user's public face and their role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Member {
    pub id: UserId,
    pub username: String,
    pub nickname: String,
    pub role: MemberRole,
    /// Their avatar, as [`UserBrief::avatar`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<MediaId>,
    /// As [`UserBrief::avatar_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// As [`UserBrief::bot`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl Member {
    /// True for the system account (see [`SYSTEM_USERNAME`]).
    pub fn is_system(&self) -> bool {
        self.username.eq_ignore_ascii_case(SYSTEM_USERNAME)
    }

    /// The user without the role.
    pub fn brief(&self) -> UserBrief {
        UserBrief {
            id: self.id,
            username: self.username.clone(),
            nickname: self.nickname.clone(),
            avatar: self.avatar.clone(),
            avatar_url: self.avatar_url.clone(),
            bot: self.bot,
        }
    }
}

/// One row of the conversation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    /// Room, direct chat, … (absent from v1.0 servers: a room).
    #[serde(default)]
    pub kind: ConversationKind,
    /// A room's name; for a direct chat, the peer's nickname as the asking
    /// user sees it.
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
    /// For a direct chat: the other participant (drawn as its avatar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<UserBrief>,
    /// The asking member's read position: the highest seq they have seen
    /// (0 when not a member) (v1.2).
    #[serde(default)]
    pub read_seq: Seq,
    /// Others' messages after `read_seq` (own messages never count),
    /// counted up to [`crate::limits::UNREAD_MAX`] (v1.2).
    #[serde(default)]
    pub unread: i64,
    /// True while a message after `read_seq` mentions the asking member
    /// ([有人@我] / [Mentioned]) (v1.2).
    #[serde(default)]
    pub mentioned: bool,
}

/// A member's read position in one conversation and what follows from it:
/// the badge. Answered by `mark_read` and pushed (as a `read` frame) to
/// every socket of the user when it moves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadState {
    /// The conversation (`room_id` like everywhere on the wire).
    pub room_id: ConversationId,
    /// The highest seq seen; it never goes back.
    pub read_seq: Seq,
    /// Others' messages after it (capped at [`crate::limits::UNREAD_MAX`]).
    pub unread: i64,
    /// Whether one of them mentions the member.
    pub mentioned: bool,
}

/// A conversation with its members, for the member panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub room: ConversationSummary,
    /// In the order they joined, with their roles.
    pub members: Vec<Member>,
    /// Those of `members` online right now (any open socket); kept current
    /// afterwards by `presence` frames (v1.2).
    #[serde(default)]
    pub online: Vec<UserId>,
}

/// The answer to a message search (`search_messages`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Matching messages (never recalled ones), only from conversations
    /// the asker is a member of: newest first within a conversation,
    /// conversations newest-created first; at most
    /// [`crate::limits::SEARCH_PAGE_MAX`]. Open one in context with
    /// `history(around = seq)`.
    pub hits: Vec<ConversationEvent>,
    /// True when the query had a word shorter than 3 characters: the
    /// trigram index cannot find those, so only the most recent messages
    /// were scanned (see the README) and older matches may be missing.
    pub recent_only: bool,
}

/// One page of the public room directory (`public_rooms`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    /// Matching public rooms, largest first (ties: oldest first).
    pub rooms: Vec<ConversationSummary>,
    /// Pass back as `cursor` for the next page; None on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_avatar_is_optional_on_the_wire() {
        // A v1.0 user (no avatar field) parses; None is not sent.
        let v1: UserBrief =
            serde_json::from_str(r#"{"id":7,"username":"a","nickname":"A"}"#).unwrap();
        assert_eq!(v1.avatar, None);
        assert_eq!(
            serde_json::to_string(&v1).unwrap(),
            r#"{"id":7,"username":"a","nickname":"A"}"#
        );
        let with = UserBrief {
            avatar: Some(MediaId("a".repeat(26))),
            ..v1.clone()
        };
        let json = serde_json::to_string(&with).unwrap();
        assert!(
            json.ends_with(&format!(r#""avatar":"{}"}}"#, "a".repeat(26))),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<UserBrief>(&json).unwrap(), with);
        let m: Member =
            serde_json::from_str(r#"{"id":1,"username":"b","nickname":"B","role":"owner"}"#)
                .unwrap();
        assert_eq!(m.brief().avatar, None);
        // A bot with a picture elsewhere says so; others say nothing.
        let bot = UserBrief {
            avatar_url: Some("https://cdn.example.com/b.png".into()),
            bot: true,
            ..v1
        };
        let json = serde_json::to_string(&bot).unwrap();
        assert!(
            json.ends_with(r#""avatar_url":"https://cdn.example.com/b.png","bot":true}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<UserBrief>(&json).unwrap(), bot);
    }

    #[test]
    fn a_v1_summary_without_kind_is_a_room_and_tags_are_stable() {
        let v1 = r#"{"id":1,"name":"大厅","description":"","owner_id":1,"member_count":2,
                     "last_seq":3,"last_event":null,"joined":true}"#;
        let s: ConversationSummary = serde_json::from_str(v1).unwrap();
        assert_eq!((s.kind, &s.peer), (ConversationKind::Room, &None));
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""kind":"room""#), "{json}");
        assert!(!json.contains("peer"), "{json}");
        for k in [ConversationKind::Room, ConversationKind::Direct] {
            assert_eq!(ConversationKind::parse(k.as_str()), Some(k));
        }
        for r in [MemberRole::Owner, MemberRole::Admin, MemberRole::Member] {
            assert_eq!(ConversationKind::parse("hologram"), None);
            assert_eq!(MemberRole::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
    }
}
