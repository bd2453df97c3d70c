//! `GET /auth/handoff?token=…&next=…`: the browser side of the sign-in
//! hand-off. A host app opens it in its webview with a token its backend
//! got from `POST /api/v1/users/{external_id}/handoff`; Teahouse signs the
//! browser in as that user (the normal session cookie, a fresh session id)
//! and redirects (303) to `next`, a path on this site (default `/`).
//!
//! `next` is checked before the token is used, so a refused `next` leaves
//! the token working: only same-origin paths pass ([`checked_next`]), in
//! every spelling a browser would resolve elsewhere (`//evil`, `/\evil`,
//! `https://…`, tabs and newlines, and each of those percent-encoded).

use std::sync::Arc;

use app::api::ssr::{fail, SESSION_EPOCH, SESSION_RENEWED, SESSION_USER};
use app::error::AppError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use teahouse_domain::Chat;
use teahouse_protocol::ErrorCode;
use tower_sessions::Session;

use crate::AppState;

/// Longest `next` accepted, in bytes.
const NEXT_MAX: usize = 500;

/// The hand-off route.
pub fn router() -> Router<AppState> {
    Router::new().route("/auth/handoff", get(handoff))
}

/// The query string.
#[derive(Debug, Deserialize)]
struct HandoffQuery {
    /// The one-time token.
    token: String,
    /// Where to land (a path on this site).
    next: Option<String>,
}

async fn handoff(
    State(chat): State<Arc<Chat>>,
    query: Result<Query<HandoffQuery>, QueryRejection>,
    session: Session,
) -> Response {
    match sign_in(&chat, query, &session).await {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => {
            if e.code != ErrorCode::Internal {
                tracing::info!(code = e.code.as_str(), "hand-off refused");
            }
            e.into_response()
        }
    }
}

/// Checks `next`, uses the token, and signs `session` in; where to go.
async fn sign_in(
    chat: &Chat,
    query: Result<Query<HandoffQuery>, QueryRejection>,
    session: &Session,
) -> Result<String, AppError> {
    let Query(query) = query.map_err(|_| AppError::new(ErrorCode::HandoffInvalid))?;
    let next = match query.next.as_deref() {
        Some(next) => checked_next(next)?,
        None => "/".to_owned(),
    };
    let user = chat.redeem_handoff(&query.token).await.map_err(fail)?;
    let epoch = chat.auth_epoch(user).await.map_err(fail)?;
    let store_failed = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failed");
        AppError::new(ErrorCode::Internal)
    };
    // A new session id: whoever was signed in in this browser before (or
    // planted a cookie) is not carried over.
    session.cycle_id().await.map_err(store_failed)?;
    session.clear().await;
    session
        .insert(SESSION_USER, user)
        .await
        .map_err(store_failed)?;
    let now = u64::try_from(teahouse_domain::now_ms() / 1000).unwrap_or(0);
    session
        .insert(SESSION_RENEWED, now)
        .await
        .map_err(store_failed)?;
    session
        .insert(SESSION_EPOCH, epoch)
        .await
        .map_err(store_failed)?;
    tracing::info!(user = %user, "signed in by hand-off");
    Ok(next)
}

/// `next` if it is a path on this site, else `handoff_next_invalid`.
///
/// A path starts with one `/` and is not followed by another `/` or a `\`
/// (browsers read both as "another host"), has no `\` anywhere, no white
/// space or control characters (browsers drop tabs and newlines, which
/// would turn `/\t/evil` into `//evil`), and stays so when
/// percent-decoded, as often as it decodes to something new.
pub fn checked_next(next: &str) -> Result<String, AppError> {
    let bad = || AppError {
        code: ErrorCode::HandoffNextInvalid,
        field: Some("next".into()),
    };
    if next.len() > NEXT_MAX {
        return Err(bad());
    }
    let mut current = next.to_owned();
    // Every decoding step must stay a plain path; a handful of rounds
    // covers any double encoding (each round shortens the text).
    for _ in 0..4 {
        if !is_plain_path(&current) {
            return Err(bad());
        }
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8()
            .map_err(|_| bad())?
            .into_owned();
        if decoded == current {
            return Ok(next.to_owned());
        }
        current = decoded;
    }
    Err(bad())
}

/// One spelling of `next` (see [`checked_next`]).
fn is_plain_path(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next() == Some(b'/')
        && !matches!(s.as_bytes().get(1), Some(b'/') | Some(b'\\'))
        && !s
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::checked_next;

    #[test]
    fn same_origin_paths_pass() {
        for ok in ["/", "/?room=12", "/desk", "/a/b?c=d#e", "/%E8%8C%B6"] {
            assert_eq!(checked_next(ok).unwrap(), ok);
        }
    }

    #[test]
    fn every_spelling_of_another_site_is_refused() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "/%252F%252Fevil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "/%0d%0a/evil.example",
            "/ /evil.example",
            "/a\\b",
        ] {
            assert!(checked_next(bad).is_err(), "{bad:?} passed");
        }
        assert!(checked_next(&format!("/{}", "a".repeat(600))).is_err());
    }
}
