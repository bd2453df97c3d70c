//! `POST /api/v1/users/{external_id}/handoff`: a one-time sign-in token
//! for a host user, with the URL their app opens in its webview (the
//! browser side is [`crate::routes::handoff`]).

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use teahouse_domain::Chat;
use teahouse_protocol::ErrorCode;

use super::auth::{ApiKey, V1Path};
use super::model::{ErrorBody, HandoffRequest, HandoffToken};
use crate::routes::handoff::checked_next;
use crate::AppState;

/// The hand-off route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users/{external_id}/handoff", post(create))
}

/// Makes a one-time sign-in token for a host user: it works once, for
/// `--handoff-secs` (60 by default), and signs in that user only.
#[utoipa::path(post, path = "/api/v1/users/{external_id}/handoff", tag = "handoff",
    params(("external_id" = String, Path, description = "The host system's id for the user")),
    request_body(content = HandoffRequest, description = "Optional: where to land (`next`)"),
    responses(
        (status = 200, body = HandoffToken),
        (status = 401, description = "api_key_missing, api_key_invalid, api_key_revoked", body = ErrorBody),
        (status = 403, description = "api_key_read_only, api_key_room_denied", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "handoff_next_invalid", body = ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn create(
    State(chat): State<Arc<Chat>>,
    ApiKey(caller): ApiKey,
    V1Path(external_id): V1Path<String>,
    body: Bytes,
) -> Result<Json<HandoffToken>, AppError> {
    // The body is optional: none (or empty) means land on `/`.
    let request: HandoffRequest = if body.iter().all(u8::is_ascii_whitespace) {
        HandoffRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| AppError::new(ErrorCode::BadRequest))?
    };
    let next = request.next.as_deref().map(checked_next).transpose()?;
    let handoff = chat
        .create_handoff(&caller, &external_id)
        .await
        .map_err(fail)?;
    Ok(Json(HandoffToken::of(handoff, next.as_deref())))
}
