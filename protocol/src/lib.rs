//! Teahouse wire protocol: the types that cross the network.
//!
//! Everything the browser, the server and the load tool exchange is defined
//! here once, so the two sides cannot drift apart:
//!
//! - [`ids`]: [`UserId`] and [`ConversationId`], distinct types that are
//!   plain numbers on the wire.
//! - [`event`]: the ordered per-conversation log ([`ConversationEvent`]) and
//!   the WebSocket frames built on it ([`ServerFrame`], [`ClientFrame`]).
//! - [`view`]: read models returned by server functions (users,
//!   conversations, the room directory).
//! - [`error`]: stable error codes with their zh-CN / en messages.
//! - [`limits`]: input limits both sides validate against.
//! - [`text`]: the one normalisation of every free-text field.
//! - [`validate`]: the pure input checks (free text, usernames, passwords…),
//!   run by the server and, for early hints, by the browser.
//!
//! This crate depends on serde and serde_json only, so it compiles for wasm,
//! the server and tools alike (and builds quickly for the fuzz targets).

pub mod error;
pub mod event;
pub mod ids;
pub mod limits;
pub mod text;
pub mod validate;
pub mod view;

pub use error::{ApiError, ErrorCode, Lang};
pub use event::{close_code, ClientFrame, ConversationEvent, EventBody, MsgType, ServerFrame};
pub use view::{ConversationDetail, ConversationSummary, RoomPage, UserBrief};

pub use ids::{ConversationId, UserId};

/// A position in a conversation's event log: 1, 2, 3, … with no gaps.
pub type Seq = i64;
