//! `GET /api/v1/online`: everyone online on this server.

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use teahouse_domain::Chat;

use super::auth::ApiKey;
use super::model::{ErrorBody, OnlineList};
use crate::AppState;

/// The online route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/online", get(online))
}

/// Everyone with an open connection, with their numbers of connections.
#[utoipa::path(get, path = "/api/v1/online", tag = "users",
    responses(
        (status = 200, body = OnlineList),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_room_denied (a key limited to rooms)", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn online(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
) -> Result<Json<OnlineList>, AppError> {
    let online = chat.online_users(&caller).await.map_err(fail)?;
    Ok(Json(OnlineList::of(online)))
}
