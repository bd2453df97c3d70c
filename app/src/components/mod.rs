//! Pages and widgets.
//!
//! - [`admin`]: sections of the admin page in their own files (API keys, webhooks).
//! - [`access_lines`]: the system lines of group and support-desk events.
//! - [`auth`]: log-in and sign-up pages.
//! - [`chat_page`]: the two-column chat screen (list + pane), its state and socket.
//! - [`conversation`]: the conversation list and the open conversation,
//!   one file per part (pane, message list, message row, outbox, composer,
//!   member panel).
//! - [`desk`]: the support desk's pages (`/support`, `/desk`) and `/admin`.
//! - [`groups`]: private groups: the new-group form, the announcement
//!   banner and the group's settings.
//! - [`direct`]: opening private 1:1 chats, and the contacts panel.
//! - [`discover`]: the public room directory and the new-room form.
//! - [`profile`]: "Me": nickname, password, language, sign out.
//! - [`widgets`]: avatars, error notices, small shared pieces.

pub mod access_lines;
pub mod admin;
pub mod auth;
pub mod chat_page;
pub mod conversation;
pub mod desk;
pub mod direct;
pub mod discover;
pub mod groups;
pub mod profile;
pub mod widgets;
