//! Media messages: sending a message that carries an uploaded file. The
//! file itself is uploaded first through the plain route
//! `POST /api/upload/{kind}` (not a server function: a raw streamed body),
//! which answers with its [`MediaRef`](teahouse_protocol::MediaRef).

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId, MediaId};

use crate::error::AppError;

/// Sends the uploaded file `media_id` as a message of the session's user
/// (an image, voice or video message by the file's kind). `client_id`
/// makes retries safe, as for text.
///
/// On this branch (the browser half of media messages) the body is a
/// placeholder that refuses every call with `internal`: the server half
/// (`chat.send_media(&me, room_id, &client_id, &media_id)`) comes with the
/// domain's media code.
#[server(endpoint = "send_media")]
pub async fn send_media(
    room_id: ConversationId,
    client_id: String,
    media_id: MediaId,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let _ = (room_id, client_id, media_id);
    let _me = require_user().await?;
    Err(reject(AppError::new(
        teahouse_protocol::ErrorCode::Internal,
    )))
}
