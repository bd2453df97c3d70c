//! The routes, one module per resource, each with its own `router()`:
//!
//! - [`pages`]: the HTML pages (`/`, `/login`, `/register`).
//! - [`api`]: the server functions, `POST /api/<name>`.
//! - [`ws`]: `GET /ws`, the authenticated push channel.
//! - [`compat`]: `GET /compat/ws`, a drop-in for the tutorials' chat socket
//!   (seed 000's JSON protocol), on the same logs and send path.
//! - [`media`]: uploads (`POST /api/upload/{kind}`, a streamed body) and
//!   serving media files (`GET /media/{id}`, `/media/{id}/thumb`); avatars
//!   (`POST /api/upload/avatar`, `GET /avatar/{id}/{side}`).
//! - [`health`]: `GET /healthz`.
//! - [`v1`]: the server API for other backends, `/api/v1/…` (API keys,
//!   never cookies), with its OpenAPI document.
//! - [`handoff`]: `GET /auth/handoff`, signing a webview in with a token
//!   from the server API.
//!
//! Pages and server functions are rendered by Leptos with the same context
//! ([`leptos_context`]); the server's own handlers reach the same
//! [`Services`] through `State` and find the signed-in user with the same
//! [`CurrentUser`](app::api::ssr::CurrentUser) lookup.

pub mod api;
pub mod compat;
pub mod handoff;
pub mod health;
pub mod media;
pub mod pages;
pub mod v1;
pub mod ws;

use app::api::ssr::Services;
use leptos::prelude::provide_context;

/// What every page render and server function gets in its Leptos context:
/// the services, the request's client address (`X-Forwarded-For` believed
/// only if `trust_proxy`) and the CSP nonce.
pub fn leptos_context(services: Services, trust_proxy: bool) -> impl Fn() + Clone + 'static {
    move || {
        provide_context(services.clone());
        crate::security::provide_request_context(trust_proxy);
    }
}
