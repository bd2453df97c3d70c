//! Server-side helpers for server functions: reaching the [`Chat`] service,
//! resolving the session's user, and turning domain errors into responses.

use std::sync::Arc;

use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use teahouse_domain::{Chat, DomainError};
use teahouse_protocol::{ErrorCode, UserBrief, UserId};
use tower_sessions::Session;

use crate::error::AppError;

/// Session key holding the logged-in user's id.
pub const SESSION_USER: &str = "uid";

/// Marks the HTTP response with the status matching `err` and returns it.
pub fn reject(err: AppError) -> AppError {
    if let Some(opts) = use_context::<ResponseOptions>() {
        let status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        opts.set_status(status);
    }
    err
}

/// Maps a domain error, logging the internal ones (never their details to the client).
pub fn fail(err: DomainError) -> AppError {
    if err.is_internal() {
        tracing::error!(error = %err, "request failed");
    }
    reject(err.to_api().into())
}

/// The chat service, provided to every server function by the server.
pub fn chat() -> Result<Arc<Chat>, AppError> {
    use_context::<Arc<Chat>>().ok_or_else(|| {
        tracing::error!("Chat service missing from context");
        reject(AppError::new(ErrorCode::Internal))
    })
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

/// The logged-in user's id, if any.
pub async fn session_user_id(session: &Session) -> Result<Option<UserId>, AppError> {
    session.get::<UserId>(SESSION_USER).await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        reject(AppError::new(ErrorCode::Internal))
    })
}

/// The logged-in user, or `unauthenticated`.
pub async fn require_user(chat: &Chat) -> Result<UserBrief, AppError> {
    let session = session()?;
    let Some(id) = session_user_id(&session).await? else {
        return Err(reject(AppError::new(ErrorCode::Unauthenticated)));
    };
    match chat.user(id).await.map_err(fail)? {
        Some(user) => Ok(user),
        None => Err(reject(AppError::new(ErrorCode::Unauthenticated))),
    }
}

/// Starts a fresh session for `user` (a new id, so a planted cookie is useless).
pub async fn log_in(user: &UserBrief) -> Result<(), AppError> {
    let session = session()?;
    let store_failed = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failed");
        reject(AppError::new(ErrorCode::Internal))
    };
    session.cycle_id().await.map_err(store_failed)?;
    session
        .insert(SESSION_USER, user.id)
        .await
        .map_err(store_failed)?;
    Ok(())
}
