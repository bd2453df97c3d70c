//! `/api/v1/`: the server API for other backends (issue 17), one module
//! per resource, each with its own `router()`:
//!
//! - [`users`]: host users by `external_id`: create or update, look up,
//!   is-online, a message to one (from the key's bot), closing their
//!   connections.
//! - [`handoff`]: one-time sign-in tokens for a host user (the browser
//!   side is [`crate::routes::handoff`]).
//! - [`rooms`]: a room's online members, a message to a room, adding and
//!   removing members.
//! - [`online`]: everyone online.
//! - [`broadcast`]: a system notice to everyone.
//! - [`openapi`]: the OpenAPI document of all of the above, generated from
//!   these handlers (`GET /api/v1/openapi.json`).
//! - [`auth`]: the API key (`Authorization: Bearer …`, never a cookie)
//!   and the JSON / path extractors whose refusals are the one JSON error
//!   shape of every route.
//! - [`model`]: the request and answer bodies.
//!
//! Every refusal is [`AppError`](app::error::AppError) JSON with its status,
//! as on every other route.

pub mod auth;
pub mod broadcast;
pub mod handoff;
pub mod model;
pub mod online;
pub mod openapi;
pub mod rooms;
pub mod users;

use axum::Router;

use crate::AppState;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(handoff::router())
        .merge(rooms::router())
        .merge(online::router())
        .merge(broadcast::router())
        .merge(openapi::router())
}
