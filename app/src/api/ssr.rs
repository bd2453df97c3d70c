//! The server side of the web layer, shared by server functions and the
//! server's own handlers (`/ws`, the pages): the one state they reach the
//! domain through ([`Services`]), the one current-user lookup (with session
//! renewal: [`current_user`], and the [`CurrentUser`] extractor), and the
//! mapping of domain errors onto [`AppError`] responses.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use teahouse_domain::{Chat, DomainError};
use teahouse_protocol::{ErrorCode, UserBrief, UserId};
use tower_sessions::Session;

use crate::error::AppError;

/// Session key holding the logged-in user's id.
pub const SESSION_USER: &str = "uid";

/// Session key holding the account's sign-in epoch at sign-in: a password
/// change bumps the account's, which signs this session out. (Absent in
/// sessions older than the epoch: 0, the epoch of every unchanged account.)
pub const SESSION_EPOCH: &str = "epoch";

/// Session key holding the support-desk guest identity of a visitor
/// without an account (their generated user id; see `api::support`).
/// Separate from [`SESSION_USER`]: a guest is never "signed in", so every
/// endpoint that requires a user refuses them.
pub const SESSION_GUEST: &str = "guest";

/// Session key holding when the session's lifetime was last renewed (Unix
/// seconds).
pub const SESSION_RENEWED: &str = "renewed";

/// How often a signed-in user's session is renewed, provided to every
/// server function by the server. Sessions expire after 30 days without
/// renewal; the session layer only stores a session (and re-sends its
/// cookie) when it changed, so without this an active user would be
/// signed out 30 days after signing in. Renewing on every request would
/// cost a session write per message sent; once a day costs one per user.
#[derive(Clone, Copy, Debug)]
pub struct SessionRenewal(pub std::time::Duration);

impl SessionRenewal {
    /// The default period: a day.
    pub const DEFAULT_SECS: u64 = 24 * 3600;
}

impl Default for SessionRenewal {
    fn default() -> Self {
        SessionRenewal(std::time::Duration::from_secs(Self::DEFAULT_SECS))
    }
}

/// Now, in Unix seconds (the renewal timestamps' unit).
fn unix_secs() -> u64 {
    u64::try_from(crate::format::now_ms() / 1000).unwrap_or(0)
}

fn store_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    reject(AppError::new(ErrorCode::Internal))
}

/// Marks the HTTP response with the status matching `err` and returns it.
pub fn reject(err: AppError) -> AppError {
    if let Some(opts) = use_context::<ResponseOptions>() {
        let status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        opts.set_status(status);
    }
    err
}

/// Maps a domain error, logging the internal ones (never their details to
/// the client). A refusal that knows when to retry says so in `Retry-After`
/// (whole seconds, rounded up).
pub fn fail(err: DomainError) -> AppError {
    if err.is_internal() {
        tracing::error!(error = %err, "request failed");
    }
    if let (Some(wait), Some(opts)) = (err.retry_after(), use_context::<ResponseOptions>()) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        opts.insert_header(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(secs.max(1)),
        );
    }
    reject(err.to_api().into())
}

/// The address of the client making the request, provided to every server
/// function by the server (which decides whether a proxy's
/// `X-Forwarded-For` is believed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The request's client address; the unspecified address if the server
/// did not provide one (every such caller then shares one throttle key).
pub fn client_ip() -> std::net::IpAddr {
    use_context::<ClientIp>()
        .map(|c| c.0)
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// What the web layer reaches the domain through: one state, given to
/// server functions through Leptos context and to the server's axum
/// handlers through `State` (it is part of the server's `AppState`).
#[derive(Clone, Debug)]
pub struct Services {
    /// The chat service: every operation a request may ask for.
    pub chat: Arc<Chat>,
    /// How often a signed-in session is renewed.
    pub renewal: SessionRenewal,
}

/// The services, provided to every server function by the server.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("services missing from the server function's context");
        reject(AppError::new(ErrorCode::Internal))
    })
}

/// The chat service, provided to every server function by the server.
pub fn chat() -> Result<Arc<Chat>, AppError> {
    services().map(|s| s.chat)
}

/// The request's session, put in the request's extensions by the session
/// layer. Read through a borrow of the request parts: `leptos_axum::extract`
/// would clone them all (every header and extension) on each request.
pub fn session() -> Result<Session, AppError> {
    with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<Session>().cloned())
        .flatten()
        .ok_or_else(|| {
            tracing::error!("session layer missing");
            reject(AppError::new(ErrorCode::Internal))
        })
}

/// The logged-in user's id, if any. A signed-in session whose last renewal
/// is older than `renewal` is renewed (stored again with a fresh 30-day
/// expiry, and its cookie re-sent).
pub async fn session_user_id(
    session: &Session,
    renewal: SessionRenewal,
) -> Result<Option<UserId>, AppError> {
    let id = session
        .get::<UserId>(SESSION_USER)
        .await
        .map_err(store_failed)?;
    if id.is_some() {
        let every = renewal.0;
        let now = unix_secs();
        let renewed = session
            .get::<u64>(SESSION_RENEWED)
            .await
            .map_err(store_failed)?;
        if renewed.is_none_or(|at| now.saturating_sub(at) >= every.as_secs()) {
            session
                .insert(SESSION_RENEWED, now)
                .await
                .map_err(store_failed)?;
            // Re-setting the same expiry marks the session changed even when
            // the timestamp above is too (same second): the layer then
            // stores it with a fresh expiry and re-sends the cookie.
            session.set_expiry(session.expiry());
        }
    }
    Ok(id)
}

/// The one current-user lookup, for every route: the session's user id
/// (renewing the session when due), then the account (None when signed out
/// or the account is gone).
pub async fn current_user(
    session: &Session,
    services: &Services,
) -> Result<Option<UserBrief>, AppError> {
    match session_user_id(session, services.renewal).await? {
        Some(id) => {
            let epoch = session
                .get::<i64>(SESSION_EPOCH)
                .await
                .map_err(store_failed)?
                .unwrap_or(0);
            services.chat.session_user(id, epoch).await.map_err(fail)
        }
        None => Ok(None),
    }
}

/// The logged-in user of this server function's request, or
/// `unauthenticated`.
pub async fn require_user() -> Result<UserBrief, AppError> {
    let services = services()?;
    current_user(&session()?, &services)
        .await?
        .ok_or_else(|| reject(AppError::new(ErrorCode::Unauthenticated)))
}

/// The signed-in user of a request handled outside the server functions
/// (`/ws`, the pages), found by the same [`current_user`], plus the session
/// it came from (sockets are tied to it).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The user, or None when signed out.
    pub user: Option<UserBrief>,
    /// The request's session.
    pub session: Session,
}

impl<S> FromRequestParts<S> for CurrentUser
where
    Services: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            tracing::error!("session layer missing");
            AppError::new(ErrorCode::Internal)
        })?;
        let services = Services::from_ref(state);
        let user = current_user(&session, &services).await?;
        Ok(CurrentUser { user, session })
    }
}

impl axum::response::IntoResponse for AppError {
    /// The one JSON error shape of every route: `{code, field?, message,
    /// message_zh}` with the code's status.
    fn into_response(self) -> axum::response::Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

/// Starts a fresh session for `user` (a new id, so a planted cookie is useless).
pub async fn log_in(user: &UserBrief) -> Result<(), AppError> {
    let session = session()?;
    session.cycle_id().await.map_err(store_failed)?;
    session
        .insert(SESSION_USER, user.id)
        .await
        .map_err(store_failed)?;
    session
        .insert(SESSION_RENEWED, unix_secs())
        .await
        .map_err(store_failed)?;
    let epoch = chat()?.auth_epoch(user.id).await.map_err(fail)?;
    session
        .insert(SESSION_EPOCH, epoch)
        .await
        .map_err(store_failed)?;
    Ok(())
}

/// Records in this request's session the account's new sign-in epoch
/// (after a password change made through it).
pub async fn set_session_epoch(epoch: i64) -> Result<(), AppError> {
    session()?
        .insert(SESSION_EPOCH, epoch)
        .await
        .map_err(store_failed)
}

/// The support-desk guest of `session`, if it has one (and it still exists).
pub async fn session_guest(session: &Session, chat: &Chat) -> Result<Option<UserBrief>, AppError> {
    let id = session
        .get::<UserId>(SESSION_GUEST)
        .await
        .map_err(store_failed)?;
    match id {
        Some(id) => chat.guest_user(id).await.map_err(fail),
        None => Ok(None),
    }
}

/// The guest of this server function's request, or `guest_required`.
pub async fn require_guest() -> Result<UserBrief, AppError> {
    let chat = chat()?;
    session_guest(&session()?, &chat)
        .await?
        .ok_or_else(|| reject(AppError::new(ErrorCode::GuestRequired)))
}

/// Remembers `guest` in this request's session (a new session id: a
/// planted cookie is useless).
pub async fn remember_guest(guest: UserId) -> Result<(), AppError> {
    let session = session()?;
    session.cycle_id().await.map_err(store_failed)?;
    session
        .insert(SESSION_GUEST, guest)
        .await
        .map_err(store_failed)
}

/// A request header of this server function's request, as text.
pub fn request_header(name: http::header::HeaderName) -> String {
    with_context::<http::request::Parts, _>(|parts| {
        parts
            .headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
    .flatten()
    .unwrap_or_default()
}
