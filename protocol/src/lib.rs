//! Teahouse wire protocol: the types that cross the network.
//!
//! Everything the browser, the server and the load tool exchange is defined
//! here once, so the two sides cannot drift apart:
//!
//! - [`event`]: the ordered per-room log ([`RoomEvent`]) and the WebSocket
//!   frames built on it ([`ServerFrame`], [`ClientFrame`]).
//! - [`view`]: read models returned by server functions (users, rooms).
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
pub mod limits;
pub mod text;
pub mod validate;
pub mod view;

pub use error::{ApiError, ErrorCode, Lang};
pub use event::{close_code, ClientFrame, EventBody, MsgType, RoomEvent, ServerFrame};
pub use view::{RoomDetail, RoomPage, RoomSummary, UserBrief};

/// A user's id (server-assigned, never taken from a client).
pub type UserId = i64;
/// A room's id.
pub type RoomId = i64;
/// A position in a room's event log: 1, 2, 3, … with no gaps.
pub type Seq = i64;
