//! Webhooks (issue 17): the event types an endpoint subscribes to, the
//! JSON a delivery carries and the headers that sign it, and the admin
//! page's read models (endpoints, recent delivery attempts).
//!
//! A delivery is `POST <url>` with a [`WebhookPayload`] body and the
//! [`headers`]; the signature is `v1=` + hex(HMAC-SHA256(secret,
//! timestamp + "." + body)), over the exact body bytes.

use serde::{Deserialize, Serialize};

use crate::{ConversationEvent, ConversationId, ConversationKind, EventBody, Seq};

/// The header names of a delivery.
pub mod headers {
    /// The delivery's idempotency id (the payload's `id`): the same on every
    /// retry and after a restart, so a receiver can drop repeats.
    pub const ID: &str = "teahouse-webhook-id";
    /// The event type (the payload's `type`).
    pub const EVENT: &str = "teahouse-webhook-event";
    /// Unix seconds when this attempt was signed (new on every attempt).
    pub const TIMESTAMP: &str = "teahouse-webhook-timestamp";
    /// `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
    pub const SIGNATURE: &str = "teahouse-webhook-signature";
}

/// What an endpoint can subscribe to: a grouping of the log's event kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// `message`: a message was stored (text or media).
    MessageStored,
    /// `message_recalled`: a message was recalled (or removed by an owner).
    MessageRecalled,
    /// `member_joined` (a room), `member_added` (a group).
    MemberJoined,
    /// `member_left`, `member_removed`, `member_banned`.
    MemberLeft,
    /// `support_opened`, `support_reopened`: a desk conversation waits.
    DeskOpened,
    /// `support_assigned`: given to an agent (also on a transfer).
    DeskAssigned,
    /// `support_returned`: back in the queue (the agent went away).
    DeskReturned,
    /// `support_closed`.
    DeskClosed,
}

impl WebhookEvent {
    /// Every type, in the order the admin page lists them.
    pub const ALL: [WebhookEvent; 8] = [
        WebhookEvent::MessageStored,
        WebhookEvent::MessageRecalled,
        WebhookEvent::MemberJoined,
        WebhookEvent::MemberLeft,
        WebhookEvent::DeskOpened,
        WebhookEvent::DeskAssigned,
        WebhookEvent::DeskReturned,
        WebhookEvent::DeskClosed,
    ];

    /// The stable name (payload `type`, registration's `events`).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::MessageStored => "message.stored",
            WebhookEvent::MessageRecalled => "message.recalled",
            WebhookEvent::MemberJoined => "member.joined",
            WebhookEvent::MemberLeft => "member.left",
            WebhookEvent::DeskOpened => "desk.opened",
            WebhookEvent::DeskAssigned => "desk.assigned",
            WebhookEvent::DeskReturned => "desk.returned",
            WebhookEvent::DeskClosed => "desk.closed",
        }
    }

    /// The type named `name`; None for an unknown name.
    pub fn parse(name: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The type a log entry is delivered as; None for entries no type
    /// covers (a room created, a group renamed, a recalled message's
    /// remains, …): they are skipped.
    pub fn of(body: &EventBody) -> Option<WebhookEvent> {
        Some(match body {
            EventBody::Message(_) => WebhookEvent::MessageStored,
            EventBody::MessageRecalled { .. } => WebhookEvent::MessageRecalled,
            EventBody::MemberJoined | EventBody::MemberAdded { .. } => WebhookEvent::MemberJoined,
            EventBody::MemberLeft
            | EventBody::MemberRemoved { .. }
            | EventBody::MemberBanned { .. } => WebhookEvent::MemberLeft,
            EventBody::SupportOpened | EventBody::SupportReopened => WebhookEvent::DeskOpened,
            EventBody::SupportAssigned { .. } => WebhookEvent::DeskAssigned,
            EventBody::SupportReturned { .. } => WebhookEvent::DeskReturned,
            EventBody::SupportClosed => WebhookEvent::DeskClosed,
            _ => return None,
        })
    }
}

/// The conversation a delivered event belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadConversation {
    /// Its id (the event's `room_id`).
    pub id: ConversationId,
    /// Room, direct chat, group or support conversation.
    pub kind: ConversationKind,
}

/// The JSON body of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// Idempotency id, `<endpoint>.<conversation>.<seq>`: the same for
    /// every attempt of this event to this endpoint.
    pub id: String,
    /// The event type ([`WebhookEvent::as_str`]).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Where it happened.
    pub conversation: PayloadConversation,
    /// The log entry, exactly as history and the socket show it.
    pub event: ConversationEvent,
}

impl WebhookPayload {
    /// The idempotency id of `seq` of `conversation` for `endpoint`.
    pub fn id_for(endpoint: i64, conversation: ConversationId, seq: Seq) -> String {
        format!("{endpoint}.{}.{seq}", conversation.0)
    }
}

/// A registered endpoint as the admin page shows it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    /// Its id.
    pub id: i64,
    /// Where deliveries go.
    pub url: String,
    /// The event types it gets ([`WebhookEvent::as_str`] names).
    pub events: Vec<String>,
    /// False once disabled (by an admin, or after failing too long).
    pub enabled: bool,
    /// When it was registered (ms since the epoch).
    pub created_ms: i64,
    /// Since when every attempt failed (None: the last one succeeded).
    pub failing_since_ms: Option<i64>,
    /// The last successful delivery.
    pub last_success_ms: Option<i64>,
    /// When it was disabled, if it is.
    pub disabled_ms: Option<i64>,
    /// Why: `failing` (failed for the whole window: admins are told on the
    /// admin page) or `admin`.
    pub disabled_reason: Option<String>,
}

/// A new endpoint and its signing secret: the only time the secret is
/// shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCreated {
    /// The endpoint.
    pub webhook: WebhookView,
    /// `whsec_` + 64 hex digits; the HMAC key is this whole string's bytes.
    pub secret: String,
}

/// One delivery attempt, for the admin page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// The endpoint it went to.
    pub webhook_id: i64,
    /// The payload's idempotency id.
    pub delivery_id: String,
    /// The event type.
    pub event_type: String,
    /// 1 for the first attempt of this event, 2 for its first retry, ….
    pub attempt: u32,
    /// When the attempt started (ms since the epoch).
    pub at_ms: i64,
    /// The HTTP status answered, if any came.
    pub status: Option<u16>,
    /// Why it failed (None: it succeeded): a status, a timeout, a refused
    /// connection, a redirect not followed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_names_round_trip_and_are_stable() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(WebhookEvent::MessageStored.as_str(), "message.stored");
        assert_eq!(WebhookEvent::DeskClosed.as_str(), "desk.closed");
        assert_eq!(WebhookEvent::parse("message"), None);
    }

    #[test]
    fn log_entries_map_to_their_types() {
        assert_eq!(
            WebhookEvent::of(&EventBody::MemberLeft),
            Some(WebhookEvent::MemberLeft)
        );
        assert_eq!(
            WebhookEvent::of(&EventBody::SupportReopened),
            Some(WebhookEvent::DeskOpened)
        );
        assert_eq!(
            WebhookEvent::of(&EventBody::Recalled {
                by: crate::UserId(1)
            }),
            None
        );
        assert_eq!(
            WebhookEvent::of(&EventBody::RoomCreated { name: "x".into() }),
            None
        );
    }
}
