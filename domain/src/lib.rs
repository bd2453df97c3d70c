//! Teahouse's domain: everything a chat server *means*, with no web framework
//! inside, so it is tested directly against a real database.
//!
//! # The conversation model
//! A conversation is an ordered log of events (created, message, member
//! joined/left, …). Each event gets the next sequence number of its
//! conversation in the transaction that stores it: no gaps, no repeats,
//! never going back. A send carries the sender's `client_id`; a retry
//! returns the stored event. History, offline catch-up and reconnect are one
//! operation: "events of conversation C after seq N".
//!
//! Every conversation has a kind (`ConversationKind`: public group rooms
//! first, private 1:1 chats ([`Chat::open_direct`]) second; private groups
//! and support conversations are the same log with other joining rules) and
//! members with a role (`MemberRole`: owner, admin, member); only members
//! read, send or hear it. A message's content is one `MessageContent`:
//! text, or a reference to a stored media file (image, voice, video),
//! snapshotted into the log when it is sent. (Wire types: `teahouse-protocol`.)
//!
//! # The two seams
//! - **Storage** ([`store`]): small traits per aggregate ([`store::AccountStore`],
//!   [`store::ConversationStore`], [`store::EventLog`] with the writer's
//!   batched [`store::BatchAppender`], [`store::MediaStore`],
//!   [`store::ReadStore`], [`store::RecallStore`], [`store::SearchStore`],
//!   [`store::RoleStore`], [`store::GroupStore`], [`store::DeskStore`],
//!   [`store::WebhookStore`], [`store::IntegrationStore`],
//!   [`store::CompatStore`]);
//!   the services decide, the stores keep.
//!   [`store::sqlite`] is the first implementation.
//! - **Events** ([`publish`]): every committed event and every control signal
//!   (session ended, membership changed, presence) leaves the domain through
//!   one [`Publisher`]; the in-process [`Hub`] is the first implementation.
//!
//! [`Chat`] is the one service the web layer calls: it validates, authorizes,
//! stores through the store, then publishes through the publisher. Its state
//! is private, so nothing outside the domain touches the database or the hub.
//!
//! # Layout
//! - [`chat`]: [`Chat`], the service.
//! - [`accounts`]: registration and login rules (argon2id on bounded threads).
//! - [`rooms`]: public rooms: the lobby, creating and joining rules.
//! - [`directory`]: the public room directory: cursor pages, name search.
//! - [`roles`]: account roles (user, agent, admin), checked on every call
//!   that needs one; a change applies at once to open sockets.
//! - [`groups`]: private groups and their owner's moderation (rename,
//!   announcement, remove, mute, ban, delete a message, hand over).
//! - [`desk`]: the support desk: guests, the queue, routing to agents
//!   (one router task), transfer, close, reopen.
//! - [`log`]: the log as the domain sees it: a message to store, a send's
//!   outcome, a page to read.
//! - [`media`]: media files: sniffing, limits, picture decoding and
//!   thumbnails on a bounded pool, where files live, and the chat
//!   operations on them (upload, send, fetch, sweep); avatars (the same
//!   pipeline to square JPEGs, `media::avatar`).
//! - [`workers`]: dedicated threads for CPU-heavy jobs (password hashing;
//!   picture decoding at a lower priority, so it never delays sends).
//! - [`writer`]: group commit on its own thread: concurrent sends share one
//!   transaction, answered after commit, then published.
//! - [`compat`]: the seeds' group ids (`group_id`) and the public rooms
//!   they stand for, for the drop-in seed-protocol socket.
//! - [`compose`]: what a message adds to its content: the message it
//!   replies to, the members it mentions (references, not text).
//! - [`reads`]: read positions (only forward, pushed to every socket of
//!   the user) and the badge computed from them.
//! - [`recall`]: who may recall which message until when, and the recall
//!   (a group owner's "delete message" too).
//! - [`search`]: message search (FTS5 trigram; short queries scan recent
//!   messages).
//! - [`webhooks`]: webhook endpoints (admins register them), their
//!   signatures, and the feed the server's deliverers read the logs
//!   through (issue 17).
//! - [`api`]: the server API for other backends (issue 17): API keys and
//!   their bots, host users by `external_id`, who is online, sends to a
//!   user / a room / everyone (system notices), membership, kicks, and
//!   sign-in hand-off tokens.
//! - [`ephemeral`]: typing and presence: signals, never stored.
//! - [`store`]: the storage seam and [`store::sqlite`] (private chats:
//!   [`store::DirectStore`]).
//! - [`publish`]: the event seam.
//! - [`hub`]: in-process fan-out to live connections, with a bounded queue
//!   per connection; the local [`Publisher`].
//! - [`validate`]: pure input checks and the one text normalisation,
//!   re-exported from `teahouse_protocol::validate`.
//! - [`config`]: the service's limits.
//! - [`metrics`]: the hub's and the writer's series (deliveries, kicks,
//!   send latency, commit batch sizes, socket queue high-water), as
//!   pre-registered handles; the server exports them on `/metrics`.
//! - [`throttle`]: login throttling of failed attempts per (username,
//!   address) and per address, with growing waits.
//! - [`error`]: the domain error type, mapped onto protocol error codes.

pub mod accounts;
pub mod api;
pub mod chat;
pub mod compat;
pub mod compose;
pub mod config;
pub mod desk;
pub mod directory;
pub mod ephemeral;
pub mod error;
pub mod groups;
pub mod hub;
pub mod log;
pub mod media;
pub mod metrics;
pub mod publish;
pub mod reads;
pub mod recall;
pub mod roles;
pub mod rooms;
pub mod search;
pub mod store;
pub mod throttle;
pub mod validate;
pub mod webhooks;
pub mod workers;
pub mod writer;

pub use api::ApiCaller;
pub use chat::Chat;
pub use compose::Compose;
pub use config::ChatConfig;
pub use desk::{DeskConfig, GuestStart, DESK_CHANNEL};
pub use error::{DomainError, Result};
pub use hub::{Hub, KickReason, Subscription};
pub use media::{MediaConfig, MediaKind};
pub use metrics::ChatMetrics;
pub use publish::{Publisher, SessionKey, Signal};
pub use store::sqlite::SqliteStore;
pub use store::{Store, WriteTurn};
pub use throttle::ThrottleConfig;
pub use webhooks::WebhookFeed;

/// Milliseconds since the Unix epoch (server clock).
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
