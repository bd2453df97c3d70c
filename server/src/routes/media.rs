//! Media routes: `POST /api/upload/{kind}` (kind = image | voice | video)
//! receives a file as the raw request body, streamed to disk with its
//! kind's limits (this route alone is outside the 64 KB body limit of the
//! rest, see [`crate::build`]); `GET /media/{id}` and `GET
//! /media/{id}/thumb` serve a file to those who may read the conversation
//! it was sent in (or to its uploader before it is sent) and answer 404 to
//! everyone else, whether it exists or not.
//!
//! Serving is tower-http's `ServeFile` (single `Range` requests with 206,
//! `Last-Modified`/`If-Modified-Since`) plus what it lacks: a strong `ETag`
//! with `If-None-Match` (files never change under their id), `private`
//! caching and `Content-Disposition: inline`. `X-Content-Type-Options:
//! nosniff` is on every answer (`security::headers`). The authorization is
//! the domain's ([`Chat::media_file`]).
//!
//! Avatars: `POST /api/upload/avatar` takes a picture the same way and
//! makes it the user's avatar (the answer is the user as they now are);
//! `GET /avatar/{id}/{side}` serves its square JPEG at `side` px (128 or
//! 256) to anyone signed in or a desk guest ([`Chat::avatar_file`]), cached for a week:
//! an avatar's id changes with every upload, so its picture never does.

use std::sync::Arc;
use std::time::Duration;

use app::api::ssr::{fail, session_guest, CurrentUser};
use app::error::AppError;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use teahouse_domain::media::{ServedFile, Upload};
use teahouse_domain::{Chat, MediaKind};
use teahouse_protocol::{ErrorCode, MediaRef, UserBrief, UserId};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::AppState;

/// An upload that sends nothing for this long is dropped as aborted (a
/// client that stalls must not hold its upload slot for ever).
const UPLOAD_IDLE: Duration = Duration::from_secs(30);

/// How long a browser may reuse a fetched file without asking again
/// (private: never in shared caches). Short, because access ends when a
/// member leaves; a revalidation is a cheap 304.
const CACHE_CONTROL: &str = "private, max-age=3600";

/// Avatar files never change under their id (a new upload is a new id).
const AVATAR_CACHE_CONTROL: &str = "private, max-age=604800, immutable";

/// The media routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/upload/avatar", post(upload_avatar))
        .route("/api/upload/{kind}", post(upload))
        .route("/avatar/{id}/{side}", get(avatar))
        .route("/media/{id}", get(file))
        .route("/media/{id}/thumb", get(thumb))
}

/// The upload's query string.
#[derive(Debug, Deserialize)]
struct UploadQuery {
    /// Playing time of a voice clip or video, as the browser measured it
    /// (checked against the kind's limit).
    duration_ms: Option<u32>,
}

async fn upload(
    State(chat): State<Arc<Chat>>,
    Path(kind): Path<String>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    current: CurrentUser,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&chat, &kind, query, current, &headers, body).await {
        Ok(media) => Json(media).into_response(),
        Err(e) => {
            // Internal failures were logged as errors where they happened.
            if e.code != ErrorCode::Internal {
                tracing::info!(kind = %kind, code = e.code.as_str(), "upload refused");
            }
            e.into_response()
        }
    }
}

/// Streams the body into an upload and stores it.
async fn receive(
    chat: &Chat,
    kind: &str,
    query: Result<Query<UploadQuery>, QueryRejection>,
    current: CurrentUser,
    headers: &HeaderMap,
    body: Body,
) -> Result<MediaRef, AppError> {
    let kind = MediaKind::parse(kind).ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let user = match current.user {
        Some(user) => user,
        // Guests of the support desk upload pictures and voice too.
        None => session_guest(&current.session, chat)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?,
    };
    let Query(query) = query.map_err(|_| AppError {
        code: ErrorCode::BadRequest,
        field: Some("duration_ms".into()),
    })?;
    let declared = content_length(headers);
    let upload = chat
        .start_upload(&user, kind, declared, query.duration_ms)
        .map_err(fail)?;
    let upload = stream_into(upload, body, &user).await?;
    chat.finish_upload(upload).await.map_err(fail)
}

/// The declared size of a request body, if it says.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Streams `body` into `upload` (its limits apply as it goes); an upload
/// that breaks off or stalls is `upload_aborted`.
async fn stream_into(mut upload: Upload, body: Body, user: &UserBrief) -> Result<Upload, AppError> {
    let mut stream = body.into_data_stream();
    loop {
        match tokio::time::timeout(UPLOAD_IDLE, stream.next()).await {
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => upload.write(&chunk).await.map_err(fail)?,
            Ok(Some(Err(e))) => {
                tracing::info!(user = %user.id, error = %e, "upload aborted by the client");
                return Err(AppError::new(ErrorCode::UploadAborted));
            }
            Err(_) => {
                tracing::info!(user = %user.id, "upload stalled; dropped");
                return Err(AppError::new(ErrorCode::UploadAborted));
            }
        }
    }
    Ok(upload)
}

async fn upload_avatar(
    State(chat): State<Arc<Chat>>,
    current: CurrentUser,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive_avatar(&chat, current, &headers, body).await {
        Ok(user) => Json(user).into_response(),
        Err(e) => {
            if e.code != ErrorCode::Internal {
                tracing::info!(code = e.code.as_str(), "avatar upload refused");
            }
            e.into_response()
        }
    }
}

/// Streams the body into an avatar upload and makes it the user's avatar.
async fn receive_avatar(
    chat: &Chat,
    current: CurrentUser,
    headers: &HeaderMap,
    body: Body,
) -> Result<UserBrief, AppError> {
    let user = current
        .user
        .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated))?;
    let upload = chat
        .start_avatar_upload(&user, content_length(headers))
        .map_err(fail)?;
    let upload = stream_into(upload, body, &user).await?;
    chat.finish_avatar_upload(upload).await.map_err(fail)
}

async fn avatar(
    State(chat): State<Arc<Chat>>,
    Path((id, side)): Path<(String, String)>,
    current: CurrentUser,
    req: Request,
) -> Response {
    let user = match viewer(&chat, current).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    match chat.avatar_file(user, &id, &side).await {
        Ok(served) => send_file(served, AVATAR_CACHE_CONTROL, req).await,
        Err(e) => fail(e).into_response(),
    }
}

async fn file(
    State(chat): State<Arc<Chat>>,
    Path(id): Path<String>,
    current: CurrentUser,
    req: Request,
) -> Response {
    serve(&chat, current, &id, false, req).await
}

async fn thumb(
    State(chat): State<Arc<Chat>>,
    Path(id): Path<String>,
    current: CurrentUser,
    req: Request,
) -> Response {
    serve(&chat, current, &id, true, req).await
}

/// Who is asking for a file: the signed-in user, else the support desk's
/// guest of this session (guests see pictures and their agent's avatar).
async fn viewer(chat: &Chat, current: CurrentUser) -> Result<Option<UserId>, AppError> {
    match current.user {
        Some(user) => Ok(Some(user.id)),
        None => Ok(session_guest(&current.session, chat).await?.map(|g| g.id)),
    }
}

/// Serves a file `current` may fetch, else 404.
async fn serve(chat: &Chat, current: CurrentUser, id: &str, thumb: bool, req: Request) -> Response {
    let user = match viewer(chat, current).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let served = match chat.media_file(user, id, thumb).await {
        Ok(served) => served,
        Err(e) => return fail(e).into_response(),
    };
    send_file(served, CACHE_CONTROL, req).await
}

/// Answers `req` with a file that may be served, with its validators and
/// `cache_control`.
async fn send_file(served: ServedFile, cache_control: &'static str, req: Request) -> Response {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == served.etag || t.trim() == "*")
        });
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = served
            .mime
            .parse::<mime::Mime>()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM);
        match ServeFile::new_with_mime(&served.path, &mime)
            .oneshot(req)
            .await
        {
            Ok(res) => res.map(Body::new),
            Err(never) => match never {},
        }
    };
    add_headers(res.headers_mut(), &served, cache_control);
    res
}

/// The headers every served file gets.
fn add_headers(headers: &mut HeaderMap, served: &ServedFile, cache_control: &'static str) {
    if let Ok(etag) = HeaderValue::from_str(&served.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
}
