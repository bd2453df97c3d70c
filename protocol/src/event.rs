//! The per-room event log and the WebSocket frames that push it.
//!
//! A room is an ordered log: every [`ConversationEvent`] has the next [`Seq`] of its
//! room. The socket only pushes; the browser remembers the last seq it holds
//! per room and asks for the rest over HTTP after any disconnect.

use serde::{Deserialize, Serialize};

use crate::{ConversationId, Message, ReadState, Seq, UserBrief, UserId};

/// One entry of a conversation's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    /// The conversation whose log this entry belongs to. (Named `room_id`
    /// on the wire since v1, when every conversation was a room; kept so
    /// existing clients keep working.)
    #[serde(rename = "room_id")]
    pub conversation_id: ConversationId,
    /// Position in that log; assigned by the server when the event is stored.
    pub seq: Seq,
    /// Server time of storage, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who caused the event, as known to the server session (never the client).
    pub actor: UserBrief,
    /// What happened.
    pub body: EventBody,
}

/// What a log entry records. (Decoded by [`crate::event_decode`], which
/// must list every variant.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    try_from = "crate::event_decode::EventBodyWire"
)]
pub enum EventBody {
    /// The room was created (always seq 1).
    RoomCreated { name: String },
    /// A message (`msgtype`, `text`, `media`, `client_id`: see
    /// [`crate::content`]).
    Message(Message),
    /// `actor` joined the room.
    MemberJoined,
    /// `actor` left the room.
    MemberLeft,
    /// `actor` opened this private 1:1 chat (always seq 1 of a direct
    /// conversation; its second participant is the summary's `peer`).
    DirectOpened,
    /// `actor` recalled the message at `seq` (their own, within the recall
    /// window, or any message of a room or private group they own: a group
    /// owner's "delete message" is this too): a client holding that
    /// message replaces it with [`EventBody::Recalled`] (v1.2).
    MessageRecalled { seq: Seq },
    /// What a recalled message reads as from then on, in history and search
    /// alike: its content is gone. `actor` is still its sender; `by` is who
    /// recalled it (the sender, or the room's or group's owner) (v1.2).
    Recalled { by: UserId },
    /// `actor` created this private group (always seq 1 of a group).
    GroupCreated { name: String },
    /// `actor` added `user` to the group.
    MemberAdded { user: UserBrief },
    /// `actor` (the owner) removed `user`: their sockets stop receiving the
    /// group right after this event.
    MemberRemoved { user: UserBrief },
    /// `actor` (the owner) muted `user` until `until_ms` (ms since the
    /// epoch; 0: the mute was lifted).
    MemberMuted { user: UserBrief, until_ms: i64 },
    /// `actor` (the owner) removed `user` and banned them from rejoining.
    MemberBanned { user: UserBrief },
    /// `actor` (the owner) renamed the group.
    GroupRenamed { name: String },
    /// `actor` (the owner) set the announcement (群公告); empty: cleared.
    AnnouncementSet { text: String },
    /// `actor` (the owner) decided who may add members.
    InvitePolicySet { owner_only: bool },
    /// `actor` (the owner) handed the group to `owner`.
    OwnerChanged { owner: UserBrief },
    /// `actor` (a guest) opened this support conversation (always seq 1).
    SupportOpened,
    /// The conversation was given to `agent` (`actor`: who gave it: the
    /// system when automatic, the agent accepting, or the one transferring).
    SupportAssigned { agent: UserBrief },
    /// `agent` no longer has it and it is back at the front of the queue;
    /// `reason`: `offline` (their last socket closed and the grace period
    /// passed), `logout`, `role_revoked`. Nothing the guest wrote is lost.
    SupportReturned { agent: UserBrief, reason: String },
    /// `actor` (an agent or admin) closed the conversation.
    SupportClosed,
    /// `actor` (the guest) wrote again after it was closed: it is open
    /// again, and waiting for an agent.
    SupportReopened,
}

/// Frames the server pushes over `/ws`. (Decoded by
/// [`crate::event_decode`], which must list every variant.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    try_from = "crate::event_decode::ServerFrameWire"
)]
pub enum ServerFrame {
    /// First frame on every connection.
    Hello {
        user: UserBrief,
        /// The client should send a [`ClientFrame::Ping`] at least this often.
        heartbeat_secs: u32,
    },
    /// A stored event of a room the user belongs to.
    Event { event: ConversationEvent },
    /// A user sharing a room with you came online or went offline (ephemeral).
    Presence { user_id: UserId, online: bool },
    /// Answer to [`ClientFrame::Ping`].
    Pong,
    /// A user sharing a conversation with you (or you, from another tab)
    /// changed their profile: draw them with this from now on.
    UserUpdated { user: UserBrief },
    /// Your read position in a conversation moved (from this tab or
    /// another of your tabs and devices): its badge is this (v1.2).
    Read { state: ReadState },
    /// `user` is typing in `room_id` (ephemeral: shown for a few seconds,
    /// never stored; sent at most every few seconds per user) (v1.2).
    Typing {
        room_id: ConversationId,
        user: UserBrief,
    },
    /// An admin changed your role: it applies now (the server checks it on
    /// every call; this is for drawing).
    RoleChanged { role: crate::UserRole },
    /// Your support conversation is waiting at `position` (1: next).
    QueuePosition {
        #[serde(rename = "room_id")]
        conversation_id: ConversationId,
        position: u32,
    },
    /// To agents and admins: the desk changed (queue or loads); fetch it
    /// again. Ephemeral, may be lost.
    DeskChanged,
}

/// Frames the browser may send over `/ws` (sends go through HTTP, not here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Liveness probe; the server answers [`ServerFrame::Pong`].
    Ping,
    /// "I am typing in `room_id`": relayed to its other members if the
    /// user may write there, at most once per few seconds; otherwise
    /// dropped without an answer (v1.2).
    Typing { room_id: ConversationId },
}

impl ClientFrame {
    /// Decodes a text frame a client sent over `/ws`: the one parser of that
    /// network input, used by the server's socket loop and by the fuzz
    /// target `client_frame`. `None` for anything that is not a known frame.
    pub fn parse(text: &str) -> Option<ClientFrame> {
        serde_json::from_str(text).ok()
    }
}

/// WebSocket close codes the server uses (4000–4999 is the application range).
pub mod close_code {
    /// The connection fell too far behind; reconnect and fetch events after
    /// your last seq.
    pub const RESUME: u16 = 4000;
    /// No sign of life within the heartbeat window.
    pub const HEARTBEAT_TIMEOUT: u16 = 4001;
    /// The session ended (logout) — do not reconnect until logged in again.
    pub const SESSION_ENDED: u16 = 4003;
    /// The server is shutting down; reconnect with backoff.
    pub const SHUTDOWN: u16 = 1001;
    /// `server_draining`: this node is going away (SIGTERM, a rolling
    /// restart) and closes its sockets spread over a few seconds; reconnect
    /// after a short random delay (another node, or this one restarted)
    /// and resume from your last seq. The session is still valid.
    pub const SERVER_DRAINING: u16 = 4010;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_events_have_stable_tags() {
        let recall = serde_json::to_string(&EventBody::MessageRecalled { seq: 5 }).unwrap();
        assert_eq!(recall, r#"{"kind":"message_recalled","seq":5}"#);
        let gone = serde_json::to_string(&EventBody::Recalled { by: UserId(2) }).unwrap();
        assert_eq!(gone, r#"{"kind":"recalled","by":2}"#);
    }

    fn alice() -> UserBrief {
        UserBrief {
            id: UserId(7),
            username: "alice".into(),
            nickname: "爱丽丝".into(),
            avatar: None,
            avatar_url: None,
            bot: false,
        }
    }

    #[test]
    fn message_event_round_trips_with_stable_tags() {
        let frame = ServerFrame::Event {
            event: ConversationEvent {
                conversation_id: ConversationId(3),
                seq: 42,
                at_ms: 1_700_000_000_000,
                actor: alice(),
                body: EventBody::Message(Message::text("你好 <b>", "c-1")),
            },
        };
        let json = serde_json::to_string(&frame).unwrap();
        // The tags are the public protocol: other clients depend on them.
        assert!(json.contains(r#""type":"event""#), "{json}");
        // v1 field names stay: the conversation is still `room_id` on the wire.
        assert!(json.contains(r#""room_id":3"#), "{json}");
        assert!(json.contains(r#""actor":{"id":7"#), "{json}");
        assert!(json.contains(r#""kind":"message""#), "{json}");
        assert!(
            json.contains(r#""msgtype":"text","text":"你好 <b>","client_id":"c-1""#),
            "{json}"
        );
        let back: ServerFrame = serde_json::from_str(&json).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn membership_and_presence_frames_round_trip() {
        for frame in [
            ServerFrame::Presence {
                user_id: UserId(9),
                online: true,
            },
            ServerFrame::Pong,
            ServerFrame::UserUpdated { user: alice() },
            ServerFrame::Hello {
                user: alice(),
                heartbeat_secs: 25,
            },
            ServerFrame::Event {
                event: ConversationEvent {
                    conversation_id: ConversationId(1),
                    seq: 2,
                    at_ms: 5,
                    actor: alice(),
                    body: EventBody::MemberLeft,
                },
            },
            ServerFrame::Read {
                state: ReadState {
                    room_id: ConversationId(1),
                    read_seq: 9,
                    unread: 0,
                    mentioned: false,
                },
            },
            ServerFrame::Typing {
                room_id: ConversationId(1),
                user: alice(),
            },
        ] {
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), frame);
        }
    }

    #[test]
    fn client_ping_parses_and_garbage_is_rejected() {
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>("not json").is_err());
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping"}"#),
            Some(ClientFrame::Ping)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping","x":[1]}"#),
            Some(ClientFrame::Ping)
        );
        assert_eq!(ClientFrame::parse(r#"{"type":"send"}"#), None);
        assert_eq!(
            ClientFrame::parse(r#"{"type":"typing","room_id":3}"#),
            Some(ClientFrame::Typing {
                room_id: ConversationId(3)
            })
        );
        assert_eq!(ClientFrame::parse(r#"{"type":"typing"}"#), None);
        assert_eq!(ClientFrame::parse("\u{0}"), None);
    }
}
