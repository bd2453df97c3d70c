//! Protections every request goes through.
//!
//! - [`origin`]: CSRF protection: state-changing requests and the `/ws`
//!   upgrade only from this server's own origin or `--allowed-origins`.
//! - [`headers`]: CSP (with a fresh script nonce per page),
//!   `Referrer-Policy`, `X-Content-Type-Options`, `Permissions-Policy`.
//! - [`client_ip`]: the client address login throttling keys on.
//! - [`cookies`]: the session cookie's `SameSite`/`Secure`/`Partitioned`
//!   when other sites may frame the pages (the support widget).

pub mod client_ip;
pub mod cookies;
pub mod headers;
pub mod origin;

use app::api::ssr::ClientIp;
use axum::http::request::Parts;
use leptos::nonce::Nonce;
use leptos::prelude::*;

/// Provides, to a page render or server function, what this module knows
/// about its request: the client address, the page's script nonce (the
/// one the CSP header names; it replaces the one Leptos made) and the
/// origins a framed page may post messages to.
pub fn provide_request_context(trust_proxy: bool) {
    let found = with_context::<Parts, _>(|parts| {
        (
            client_ip::client_ip(parts, trust_proxy),
            parts.extensions.get::<Nonce>().cloned(),
            parts.extensions.get::<app::embed::EmbedOrigins>().cloned(),
        )
    });
    let Some((ip, nonce, embed)) = found else {
        return;
    };
    if let Some(embed) = embed {
        provide_context(embed);
    }
    if let Some(ip) = ip {
        provide_context(ClientIp(ip));
    }
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}
