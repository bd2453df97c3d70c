//! Teahouse's domain: everything a chat server *means*, with no web framework
//! inside, so it is tested directly against a real SQLite file.
//!
//! Layout:
//! - [`db`]: opening SQLite (WAL, readers, the write turn) and migrations.
//! - [`validate`]: pure input checks (usernames, passwords, message text…).
//! - [`accounts`]: registration and login (argon2id).
//! - [`rooms`]: creating, listing, joining and leaving rooms.
//! - [`log`]: the per-room event log: sequence numbers, idempotent sends,
//!   history pages.
//! - [`hub`]: in-process fan-out of stored events to live connections, with a
//!   bounded queue per connection.
//! - [`writer`]: group commit on its own thread: concurrent sends share one
//!   transaction.
//! - [`batch`]: how the writer checks and stores the sends of one batch.
//! - [`chat`]: [`Chat`], the one service the web layer talks to; it ties the
//!   store and the hub together so every stored event is also pushed.
//! - [`throttle`]: login throttling of failed attempts per (username,
//!   address) and per address, with growing waits.
//! - [`error`]: the domain error type, mapped onto protocol error codes.

pub mod accounts;
mod batch;
pub mod chat;
pub mod config;
pub mod db;
pub mod error;
pub mod hub;
pub mod log;
pub mod rooms;
pub mod throttle;
pub mod validate;
pub mod writer;

pub use chat::Chat;
pub use config::ChatConfig;
pub use db::Db;
pub use error::{DomainError, Result};
pub use hub::{Hub, KickReason, Subscription};
pub use throttle::ThrottleConfig;

/// Milliseconds since the Unix epoch (server clock).
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
