//! Conversations on screen, one file per part:
//!
//! - [`list`]: the conversation list: avatar, name, last-message preview,
//!   time and unread badge per row.
//! - [`pane`]: the open conversation: its header with the member-panel
//!   toggle, and the log with the composer once the first page is loaded.
//! - [`log`]: the message list: rows from the conversation's log, older
//!   pages on scroll-up, following the newest while the reader is at the
//!   end, and notices for fetches that failed.
//! - [`message`]: one row of the log: a message bubble, a system line or a
//!   time separator.
//! - [`media`]: the bubbles of image, voice and video messages.
//! - [`outbox`]: sends the server has not confirmed yet: their bubbles, and
//!   retries under the same client id.
//! - [`composer`]: the message input (Enter sends, never mid-IME), with
//!   [`voice`] (hold to talk, click to record) and [`attach`] (the file
//!   picker, pasted and dropped pictures).
//! - [`members`]: the member panel and "leave room".
//! - [`actions`]: reply, recall, jumping to a quoted message, the "new
//!   messages" divider.
//! - [`search`]: searching messages, here or in all conversations.

pub mod actions;
pub mod attach;
pub mod composer;
pub mod list;
pub mod log;
pub mod media;
pub mod members;
pub mod message;
pub mod outbox;
pub mod pane;
pub mod search;
pub mod voice;

pub use list::ConversationList;
pub use pane::ChatPane;
