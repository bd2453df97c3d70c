//! `/api/v1/users/{external_id}`: host users by the host system's own id.
//!
//! - `PUT` creates or updates one (nickname, avatar URL);
//! - `GET` looks one up;
//! - `GET …/online`: online or not, with the number of connections;
//! - `POST …/messages`: a text from the key's bot, in their private chat;
//! - `DELETE …/connections`: closes every connection of theirs.

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use teahouse_domain::Chat;

use super::auth::{ApiKey, V1Json, V1Path};
use super::model::{Closed, Presence, SendText, Stored, UpsertUser, Upserted, User};
use crate::AppState;

/// The user routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{external_id}", get(lookup).put(upsert))
        .route("/api/v1/users/{external_id}/online", get(online))
        .route("/api/v1/users/{external_id}/messages", post(send))
        .route("/api/v1/users/{external_id}/connections", delete(close))
}

/// Creates or updates a host user.
#[utoipa::path(put, path = "/api/v1/users/{external_id}", tag = "users",
    params(("external_id" = String, Path, description = "The host system's id for the user: 1–64 of [A-Za-z0-9_.@:-]")),
    request_body = UpsertUser,
    responses(
        (status = 200, description = "Stored (created or updated); a new user joins the lobby, a change is pushed live", body = Upserted),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = super::model::ErrorBody),
        (status = 403, description = "api_key_read_only", body = super::model::ErrorBody),
        (status = 422, description = "external_id_invalid, nickname_invalid, avatar_url_invalid", body = super::model::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn upsert(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(external_id): V1Path<String>,
    V1Json(body): V1Json<UpsertUser>,
) -> Result<Json<Upserted>, AppError> {
    let (user, created) = chat
        .upsert_external_user(
            &caller,
            &external_id,
            &body.nickname,
            body.avatar_url.as_deref(),
        )
        .await
        .map_err(fail)?;
    Ok(Json(Upserted {
        user: User::of(user, Some(external_id)),
        created,
    }))
}

/// Looks a host user up.
#[utoipa::path(get, path = "/api/v1/users/{external_id}", tag = "users",
    params(("external_id" = String, Path, description = "The host system's id for the user")),
    responses(
        (status = 200, body = User),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = super::model::ErrorBody),
        (status = 404, description = "not_found", body = super::model::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn lookup(
    State(chat): State<Arc<Chat>>,
    ApiKey(_caller): ApiKey,
    V1Path(external_id): V1Path<String>,
) -> Result<Json<User>, AppError> {
    let user = chat.external_user(&external_id).await.map_err(fail)?;
    Ok(Json(User::of(user, Some(external_id))))
}

/// Whether a host user is online, and with how many connections.
#[utoipa::path(get, path = "/api/v1/users/{external_id}/online", tag = "users",
    params(("external_id" = String, Path, description = "The host system's id for the user")),
    responses(
        (status = 200, body = Presence),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = super::model::ErrorBody),
        (status = 404, description = "not_found", body = super::model::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn online(
    State(chat): State<Arc<Chat>>,
    ApiKey(_caller): ApiKey,
    V1Path(external_id): V1Path<String>,
) -> Result<Json<Presence>, AppError> {
    let user = chat.external_user(&external_id).await.map_err(fail)?;
    let connections = chat.connections_of(user.id);
    Ok(Json(Presence {
        external_id,
        online: connections > 0,
        connections,
    }))
}

/// Sends a text from the key's bot to a host user (their private chat
/// with the bot, opened if new).
#[utoipa::path(post, path = "/api/v1/users/{external_id}/messages", tag = "messages",
    params(("external_id" = String, Path, description = "The host system's id for the user")),
    request_body = SendText,
    responses(
        (status = 200, description = "Stored (or, for a repeated client_id, the message stored before)", body = Stored),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = super::model::ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied (a key limited to rooms)", body = super::model::ErrorBody),
        (status = 404, description = "not_found", body = super::model::ErrorBody),
        (status = 422, description = "client_id_invalid, message_empty, message_too_long", body = super::model::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn send(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(external_id): V1Path<String>,
    V1Json(body): V1Json<SendText>,
) -> Result<Json<Stored>, AppError> {
    let sent = chat
        .api_send_to_user(&caller, &external_id, &body.client_id, &body.text)
        .await
        .map_err(fail)?;
    Ok(Json(sent.into()))
}

/// Closes every connection of a host user (their pages are told the
/// session ended and do not reconnect by themselves).
#[utoipa::path(delete, path = "/api/v1/users/{external_id}/connections", tag = "users",
    params(("external_id" = String, Path, description = "The host system's id for the user")),
    responses(
        (status = 200, body = Closed),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = super::model::ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied", body = super::model::ErrorBody),
        (status = 404, description = "not_found", body = super::model::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn close(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(external_id): V1Path<String>,
) -> Result<Json<Closed>, AppError> {
    let closed = chat
        .api_close_connections(&caller, &external_id)
        .await
        .map_err(fail)?;
    Ok(Json(Closed { closed }))
}
