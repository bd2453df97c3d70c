//! `POST /api/v1/broadcast`: a system notice to everyone (stored in the
//! lobby's log as a `notice` message, shown centred without a bubble).

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use teahouse_domain::Chat;

use super::auth::{ApiKey, V1Json};
use super::model::{ErrorBody, SendText, Stored};
use crate::AppState;

/// The broadcast route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/broadcast", post(broadcast))
}

/// Sends a system notice to everyone.
#[utoipa::path(post, path = "/api/v1/broadcast", tag = "messages",
    request_body = SendText,
    responses(
        (status = 200, description = "Stored in the lobby (or, for a repeated client_id, the notice stored before)", body = Stored),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied (a key limited to rooms)", body = ErrorBody),
        (status = 422, description = "client_id_invalid, message_empty, message_too_long", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn broadcast(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Json(body): V1Json<SendText>,
) -> Result<Json<Stored>, AppError> {
    let sent = chat
        .api_send_to_all(&caller, &body.client_id, &body.text)
        .await
        .map_err(fail)?;
    Ok(Json(sent.into()))
}
