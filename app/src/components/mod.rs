//! Pages and widgets.
//!
//! - [`auth`]: log-in and sign-up pages.
//! - [`chat_page`]: the two-column chat screen (list + pane), its state and socket.
//! - [`conversation_list`]: rooms with previews, times and unread badges.
//! - [`chat_pane`]: one room's messages, history paging and the composer.
//! - [`discover`]: the public room directory and the new-room form.
//! - [`widgets`]: avatars, error notices, small shared pieces.

pub mod auth;
pub mod chat_page;
pub mod chat_pane;
pub mod conversation_list;
pub mod discover;
pub mod widgets;
