//! Server functions: the HTTP API the UI (and other clients) call.
//!
//! Each lives at `POST /api/<name>` with form-encoded arguments and a JSON
//! answer; failures are [`AppError`](crate::error::AppError) JSON with a
//! matching HTTP status. The sender/actor of every operation is the session's
//! user; no argument ever names who is acting.

pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod desk;
pub mod direct;
pub mod groups;
pub mod media;
pub mod messages;
pub mod profile;
pub mod reads;
pub mod recall;
pub mod rooms;
pub mod search;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod support;
pub mod webhooks;
