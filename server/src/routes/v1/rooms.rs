//! `/api/v1/rooms/{room_id}`: a room's online members, a text from the
//! key's bot to the room, and adding and removing host users.

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use teahouse_domain::Chat;
use teahouse_protocol::ConversationId;

use super::auth::{ApiKey, V1Json, V1Path};
use super::model::{ErrorBody, Membership, OnlineList, SendText, Stored};
use crate::AppState;

/// The room routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rooms/{room_id}/online", get(online))
        .route("/api/v1/rooms/{room_id}/messages", post(send))
        .route(
            "/api/v1/rooms/{room_id}/members/{external_id}",
            put(add).delete(remove),
        )
}

/// The room's members who are online.
#[utoipa::path(get, path = "/api/v1/rooms/{room_id}/online", tag = "rooms",
    params(("room_id" = i64, Path, description = "The room")),
    responses(
        (status = 200, body = OnlineList),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_room_denied", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn online(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(room): V1Path<i64>,
) -> Result<Json<OnlineList>, AppError> {
    let online = chat
        .online_in_room(&caller, ConversationId(room))
        .await
        .map_err(fail)?;
    Ok(Json(OnlineList::of(online)))
}

/// Sends a text from the key's bot to a public room (the bot joins it
/// first if it is not in it).
#[utoipa::path(post, path = "/api/v1/rooms/{room_id}/messages", tag = "messages",
    params(("room_id" = i64, Path, description = "The room")),
    request_body = SendText,
    responses(
        (status = 200, description = "Stored (or, for a repeated client_id, the message stored before)", body = Stored),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied, forbidden (not a public room)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "client_id_invalid, message_empty, message_too_long", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn send(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(room): V1Path<i64>,
    V1Json(body): V1Json<SendText>,
) -> Result<Json<Stored>, AppError> {
    let sent = chat
        .api_send_to_room(&caller, ConversationId(room), &body.client_id, &body.text)
        .await
        .map_err(fail)?;
    Ok(Json(sent.into()))
}

/// Adds a host user to a public room (announced live; their open sockets
/// receive it at once).
#[utoipa::path(put, path = "/api/v1/rooms/{room_id}/members/{external_id}", tag = "rooms",
    params(("room_id" = i64, Path, description = "The room"),
           ("external_id" = String, Path, description = "The host system's id for the user")),
    responses(
        (status = 200, body = Membership),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied, forbidden (not a public room)", body = ErrorBody),
        (status = 404, description = "not_found (room or user)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn add(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path((room, external_id)): V1Path<(i64, String)>,
) -> Result<Json<Membership>, AppError> {
    let changed = chat
        .api_add_member(&caller, ConversationId(room), &external_id)
        .await
        .map_err(fail)?;
    Ok(Json(Membership {
        room_id: room,
        external_id,
        changed,
    }))
}

/// Removes a host user from a room (their sockets stop receiving it).
#[utoipa::path(delete, path = "/api/v1/rooms/{room_id}/members/{external_id}", tag = "rooms",
    params(("room_id" = i64, Path, description = "The room"),
           ("external_id" = String, Path, description = "The host system's id for the user")),
    responses(
        (status = 200, body = Membership),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied", body = ErrorBody),
        (status = 404, description = "not_found (room or user)", body = ErrorBody),
        (status = 409, description = "owner_cannot_leave, direct_fixed_members, support_fixed_members", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn remove(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path((room, external_id)): V1Path<(i64, String)>,
) -> Result<Json<Membership>, AppError> {
    let changed = chat
        .api_remove_member(&caller, ConversationId(room), &external_id)
        .await
        .map_err(fail)?;
    Ok(Json(Membership {
        room_id: room,
        external_id,
        changed,
    }))
}
