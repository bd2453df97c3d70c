//! Teahouse wire protocol: the types that cross the network.
//!
//! Everything the browser, the server and the load tool exchange is defined
//! here once, so the two sides cannot drift apart:
//!
//! - [`ids`]: [`UserId`] and [`ConversationId`], distinct types that are
//!   plain numbers on the wire.
//! - [`content`]: what a message carries ([`MessageContent`]: text or a
//!   [`MediaRef`] to an image, voice clip or video), flat on the wire.
//! - [`event`]: the ordered per-conversation log ([`ConversationEvent`]) and
//!   the WebSocket frames built on it ([`ServerFrame`], [`ClientFrame`]).
//!   `event_decode` decodes [`EventBody`] and [`ServerFrame`] without
//!   serde's buffering of tagged enums (a smaller wasm; same JSON).
//! - [`view`]: read models returned by server functions (users,
//!   conversations, the room directory).
//! - [`access`]: roles (user, agent, admin; guests of the support desk) and
//!   the read models of groups, the admin page and the desk.
//! - [`webhooks`]: webhook event types, the signed delivery's payload and
//!   headers, the admin page's endpoint and delivery views.
//! - [`integration`]: the server API for other backends as the admin page
//!   sees it (API keys, scopes) and the checks of what host systems send.
//! - [`error`]: stable error codes with their zh-CN / en messages.
//! - [`limits`]: input limits both sides validate against.
//! - [`text`]: the one normalisation of every free-text field.
//! - [`validate`]: the pure input checks (free text, usernames, passwords…),
//!   run by the server and, for early hints, by the browser.
//!
//! This crate depends on serde and serde_json only, so it compiles for wasm,
//! the server and tools alike (and builds quickly for the fuzz targets).
//!
//! # Versioning rule (v1)
//! Other clients (apps, bots, the API for other backends) depend on these
//! JSON shapes, so within v1 they only ever grow:
//! - The server may add optional fields, frame `type`s, event `kind`s,
//!   `msgtype`s and error codes. It never renames or removes a field or a
//!   tag, and never changes what one means.
//! - Clients must ignore fields they do not know, skip frames whose `type`
//!   they do not know, and show events or messages of an unknown `kind` /
//!   `msgtype` as unsupported rather than fail.
//! - Names are kept from when every conversation was a room: an event's
//!   conversation is `room_id` on the wire, server-function arguments are
//!   `room_id`, room events are `room_created`. A private chat's log opens
//!   with `direct_opened` instead (v1.1).
//! - A change that cannot follow these rules is v2: new paths
//!   (`/api/v2/…`, `/ws?v=2`) served beside v1 for a deprecation period.
//!
//! The tags are pinned by tests (`event::tests`, `ids::tests`).

pub mod access;
pub mod content;
pub mod error;
pub mod event;
mod event_decode;
pub mod ids;
pub mod integration;
pub mod limits;
pub mod text;
pub mod validate;
pub mod view;
pub mod webhooks;

pub use access::{
    AgentLoad, DeskOverview, GroupInfo, GuestInfo, GuestSession, MutedMember, SupportStatus,
    SupportView, UserRole, UserWithRole,
};
pub use content::{MediaRef, Message, MessageContent, MsgType, Quote};
pub use error::{ApiError, ErrorCode, Lang};
pub use event::{close_code, ClientFrame, ConversationEvent, EventBody, ServerFrame};
pub use view::{
    ConversationDetail, ConversationKind, ConversationSummary, Member, MemberRole, ReadState,
    RoomPage, SearchPage, UserBrief, SYSTEM_USERNAME,
};

pub use webhooks::{DeliveryView, WebhookCreated, WebhookEvent, WebhookPayload, WebhookView};

pub use ids::{ConversationId, MediaId, UserId};
pub use integration::{ApiKeyInfo, ApiScope, CreatedApiKey};

/// A position in a conversation's event log: 1, 2, 3, … with no gaps.
pub type Seq = i64;
