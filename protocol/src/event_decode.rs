//! Decoding [`EventBody`] and [`ServerFrame`] from their JSON without
//! serde's buffering of internally tagged enums.
//!
//! Their wire shape is internally tagged (`{"kind": "...", ...fields}`,
//! `{"type": "...", ...fields}`). serde's derive decodes that by first
//! reading the whole object into a generic `Content` tree and then replaying
//! it into the variant's visitor: that machinery was about 90 KB of the
//! browser's wasm (before wasm-opt) for these two enums alone. Here each
//! enum reads into one flat struct holding every variant's fields (a plain
//! derived struct decoder, no `Content`), and the tag then picks the variant
//! and checks its fields are there. The accepted JSON is the same objects
//! as before; the encoding is still serde's derive.

use serde::Deserialize;

use crate::{
    ConversationEvent, ConversationId, EventBody, MediaRef, Message, MsgType, Quote, ReadState,
    Seq, ServerFrame, UserBrief, UserId, UserRole,
};

/// A decoding error: a missing field or an unknown tag.
#[derive(Debug)]
pub struct DecodeError(String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn missing(field: &'static str) -> DecodeError {
    DecodeError(format!("missing field `{field}`"))
}

fn need<T>(value: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    value.ok_or_else(|| missing(field))
}

/// Every field of every [`EventBody`] variant (the `Message` variant's are
/// the flat v1 message fields), besides the `kind` tag.
#[derive(Deserialize)]
pub struct EventBodyWire {
    /// The tag: which variant.
    kind: String,
    /// `room_created`, `group_created`, `group_renamed`.
    name: Option<String>,
    /// `message`: its type.
    msgtype: Option<MsgType>,
    /// `message` (default ""), `announcement_set` (required).
    text: Option<String>,
    /// `message`: the file of a media message.
    media: Option<MediaRef>,
    /// `message`: the sender's idempotency key.
    client_id: Option<String>,
    /// `message`: the quoted message.
    reply_to: Option<Box<Quote>>,
    /// `message`: mentioned members.
    #[serde(default)]
    mentions: Vec<UserId>,
    /// `message_recalled`.
    seq: Option<Seq>,
    /// `recalled`.
    by: Option<UserId>,
    /// `member_added`, `member_removed`, `member_muted`, `member_banned`.
    user: Option<UserBrief>,
    /// `member_muted`.
    until_ms: Option<i64>,
    /// `invite_policy_set`.
    owner_only: Option<bool>,
    /// `owner_changed`.
    owner: Option<UserBrief>,
    /// `support_assigned`, `support_returned`.
    agent: Option<UserBrief>,
    /// `support_returned`.
    reason: Option<String>,
}

impl TryFrom<EventBodyWire> for EventBody {
    type Error = DecodeError;
    fn try_from(w: EventBodyWire) -> Result<EventBody, DecodeError> {
        Ok(match w.kind.as_str() {
            "room_created" => EventBody::RoomCreated {
                name: need(w.name, "name")?,
            },
            "message" => {
                let wire = crate::content::WireMessage {
                    msgtype: need(w.msgtype, "msgtype")?,
                    text: w.text.unwrap_or_default(),
                    media: w.media,
                    client_id: need(w.client_id, "client_id")?,
                    reply_to: w.reply_to,
                    mentions: w.mentions,
                };
                EventBody::Message(Message::try_from(wire).map_err(|e| DecodeError(e.to_owned()))?)
            }
            "member_joined" => EventBody::MemberJoined,
            "member_left" => EventBody::MemberLeft,
            "direct_opened" => EventBody::DirectOpened,
            "message_recalled" => EventBody::MessageRecalled {
                seq: need(w.seq, "seq")?,
            },
            "recalled" => EventBody::Recalled {
                by: need(w.by, "by")?,
            },
            "group_created" => EventBody::GroupCreated {
                name: need(w.name, "name")?,
            },
            "member_added" => EventBody::MemberAdded {
                user: need(w.user, "user")?,
            },
            "member_removed" => EventBody::MemberRemoved {
                user: need(w.user, "user")?,
            },
            "member_muted" => EventBody::MemberMuted {
                user: need(w.user, "user")?,
                until_ms: need(w.until_ms, "until_ms")?,
            },
            "member_banned" => EventBody::MemberBanned {
                user: need(w.user, "user")?,
            },
            "group_renamed" => EventBody::GroupRenamed {
                name: need(w.name, "name")?,
            },
            "announcement_set" => EventBody::AnnouncementSet {
                text: need(w.text, "text")?,
            },
            "invite_policy_set" => EventBody::InvitePolicySet {
                owner_only: need(w.owner_only, "owner_only")?,
            },
            "owner_changed" => EventBody::OwnerChanged {
                owner: need(w.owner, "owner")?,
            },
            "support_opened" => EventBody::SupportOpened,
            "support_assigned" => EventBody::SupportAssigned {
                agent: need(w.agent, "agent")?,
            },
            "support_returned" => EventBody::SupportReturned {
                agent: need(w.agent, "agent")?,
                reason: need(w.reason, "reason")?,
            },
            "support_closed" => EventBody::SupportClosed,
            "support_reopened" => EventBody::SupportReopened,
            other => return Err(DecodeError(format!("unknown variant `{other}`"))),
        })
    }
}

/// Every field of every [`ServerFrame`] variant, besides the `type` tag.
#[derive(Deserialize)]
pub struct ServerFrameWire {
    /// The tag: which variant.
    #[serde(rename = "type")]
    kind: String,
    /// `hello`, `user_updated`, `typing`.
    user: Option<UserBrief>,
    /// `hello`.
    heartbeat_secs: Option<u32>,
    /// `event`.
    event: Option<ConversationEvent>,
    /// `presence`.
    user_id: Option<UserId>,
    /// `presence`.
    online: Option<bool>,
    /// `read`.
    state: Option<ReadState>,
    /// `typing`, `queue_position`.
    room_id: Option<ConversationId>,
    /// `role_changed`.
    role: Option<UserRole>,
    /// `queue_position`.
    position: Option<u32>,
}

impl TryFrom<ServerFrameWire> for ServerFrame {
    type Error = DecodeError;
    fn try_from(w: ServerFrameWire) -> Result<ServerFrame, DecodeError> {
        Ok(match w.kind.as_str() {
            "hello" => ServerFrame::Hello {
                user: need(w.user, "user")?,
                heartbeat_secs: need(w.heartbeat_secs, "heartbeat_secs")?,
            },
            "event" => ServerFrame::Event {
                event: need(w.event, "event")?,
            },
            "presence" => ServerFrame::Presence {
                user_id: need(w.user_id, "user_id")?,
                online: need(w.online, "online")?,
            },
            "pong" => ServerFrame::Pong,
            "user_updated" => ServerFrame::UserUpdated {
                user: need(w.user, "user")?,
            },
            "read" => ServerFrame::Read {
                state: need(w.state, "state")?,
            },
            "typing" => ServerFrame::Typing {
                room_id: need(w.room_id, "room_id")?,
                user: need(w.user, "user")?,
            },
            "role_changed" => ServerFrame::RoleChanged {
                role: need(w.role, "role")?,
            },
            "queue_position" => ServerFrame::QueuePosition {
                conversation_id: need(w.room_id, "room_id")?,
                position: need(w.position, "position")?,
            },
            "desk_changed" => ServerFrame::DeskChanged,
            other => return Err(DecodeError(format!("unknown variant `{other}`"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MessageContent;

    fn alice() -> UserBrief {
        serde_json::from_str(r#"{"id":7,"username":"alice","nickname":"爱丽丝"}"#).unwrap()
    }

    /// One of each variant. The match is exhaustive: a new variant does not
    /// compile until it is listed here (and decoded above).
    fn every_body() -> Vec<EventBody> {
        let all = vec![
            EventBody::RoomCreated { name: "茶".into() },
            EventBody::Message(Message::text("你好", "c-1")),
            EventBody::Message(Message {
                content: MessageContent::Image(MediaRef {
                    id: crate::MediaId("m0123456789abcdefghijklmn".into()),
                    mime: "image/png".into(),
                    bytes: 12,
                    width: Some(4),
                    height: Some(3),
                    duration_ms: None,
                }),
                client_id: "c-2".into(),
                reply_to: None,
                mentions: vec![UserId(3), UserId(4)],
            }),
            EventBody::MemberJoined,
            EventBody::MemberLeft,
            EventBody::DirectOpened,
            EventBody::MessageRecalled { seq: 5 },
            EventBody::Recalled { by: UserId(2) },
            EventBody::GroupCreated { name: "组".into() },
            EventBody::MemberAdded { user: alice() },
            EventBody::MemberRemoved { user: alice() },
            EventBody::MemberMuted {
                user: alice(),
                until_ms: 99,
            },
            EventBody::MemberBanned { user: alice() },
            EventBody::GroupRenamed { name: "新".into() },
            EventBody::AnnouncementSet {
                text: "公告".into(),
            },
            EventBody::InvitePolicySet { owner_only: true },
            EventBody::OwnerChanged { owner: alice() },
            EventBody::SupportOpened,
            EventBody::SupportAssigned { agent: alice() },
            EventBody::SupportReturned {
                agent: alice(),
                reason: "offline".into(),
            },
            EventBody::SupportClosed,
            EventBody::SupportReopened,
        ];
        for body in &all {
            match body {
                EventBody::RoomCreated { .. }
                | EventBody::Message(_)
                | EventBody::MemberJoined
                | EventBody::MemberLeft
                | EventBody::DirectOpened
                | EventBody::MessageRecalled { .. }
                | EventBody::Recalled { .. }
                | EventBody::GroupCreated { .. }
                | EventBody::MemberAdded { .. }
                | EventBody::MemberRemoved { .. }
                | EventBody::MemberMuted { .. }
                | EventBody::MemberBanned { .. }
                | EventBody::GroupRenamed { .. }
                | EventBody::AnnouncementSet { .. }
                | EventBody::InvitePolicySet { .. }
                | EventBody::OwnerChanged { .. }
                | EventBody::SupportOpened
                | EventBody::SupportAssigned { .. }
                | EventBody::SupportReturned { .. }
                | EventBody::SupportClosed
                | EventBody::SupportReopened => {}
            }
        }
        all
    }

    #[test]
    fn every_event_body_decodes_to_what_was_encoded() {
        for body in every_body() {
            let json = serde_json::to_string(&body).unwrap();
            assert_eq!(
                serde_json::from_str::<EventBody>(&json).unwrap(),
                body,
                "{json}"
            );
        }
    }

    #[test]
    fn every_server_frame_decodes_to_what_was_encoded() {
        let event = ConversationEvent {
            conversation_id: ConversationId(3),
            seq: 42,
            at_ms: 1,
            actor: alice(),
            body: EventBody::Message(Message::text("hi", "c")),
        };
        let frames = vec![
            ServerFrame::Hello {
                user: alice(),
                heartbeat_secs: 25,
            },
            ServerFrame::Event { event },
            ServerFrame::Presence {
                user_id: UserId(9),
                online: false,
            },
            ServerFrame::Pong,
            ServerFrame::UserUpdated { user: alice() },
            ServerFrame::Read {
                state: ReadState {
                    room_id: ConversationId(1),
                    read_seq: 9,
                    unread: 2,
                    mentioned: true,
                },
            },
            ServerFrame::Typing {
                room_id: ConversationId(1),
                user: alice(),
            },
            ServerFrame::RoleChanged {
                role: UserRole::Agent,
            },
            ServerFrame::QueuePosition {
                conversation_id: ConversationId(4),
                position: 1,
            },
            ServerFrame::DeskChanged,
        ];
        for frame in &frames {
            match frame {
                ServerFrame::Hello { .. }
                | ServerFrame::Event { .. }
                | ServerFrame::Presence { .. }
                | ServerFrame::Pong
                | ServerFrame::UserUpdated { .. }
                | ServerFrame::Read { .. }
                | ServerFrame::Typing { .. }
                | ServerFrame::RoleChanged { .. }
                | ServerFrame::QueuePosition { .. }
                | ServerFrame::DeskChanged => {}
            }
        }
        for frame in frames {
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(
                serde_json::from_str::<ServerFrame>(&json).unwrap(),
                frame,
                "{json}"
            );
        }
    }

    #[test]
    fn the_tag_may_come_anywhere_and_unknown_fields_are_ignored() {
        let body: EventBody =
            serde_json::from_str(r#"{"by":2,"extra":[1,{"x":null}],"kind":"recalled"}"#).unwrap();
        assert_eq!(body, EventBody::Recalled { by: UserId(2) });
    }

    #[test]
    fn unknown_tags_missing_fields_and_mismatched_media_are_refused() {
        for bad in [
            r#"{"kind":"hologram"}"#,
            r#"{"by":2}"#,
            r#"{"kind":"recalled"}"#,
            r#"{"kind":"recalled","by":null}"#,
            r#"{"kind":"member_muted","user":{"id":7,"username":"a","nickname":"a"}}"#,
            r#"{"kind":"announcement_set"}"#,
            r#"{"kind":"message","text":"x","client_id":"c"}"#,
            r#"{"kind":"message","msgtype":"image","text":"","client_id":"c"}"#,
            r#"{"kind":"recalled","by":2,"by":3}"#,
            "[]",
        ] {
            assert!(serde_json::from_str::<EventBody>(bad).is_err(), "{bad}");
        }
        for bad in [
            r#"{"type":"send"}"#,
            r#"{"type":"presence","user_id":1}"#,
            r#"{"type":"event"}"#,
            r#"{"type":"queue_position","position":1}"#,
        ] {
            assert!(serde_json::from_str::<ServerFrame>(bad).is_err(), "{bad}");
        }
    }
}
