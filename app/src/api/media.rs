//! Media messages: sending an uploaded file. (The upload itself is a plain
//! route, `POST /api/upload/{kind}`, with the file as a streamed body; the
//! files are served from `/media/{id}`: see the server's `routes::media`.)

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId};

use crate::error::AppError;

/// Sends the session user's upload `media_id` to a room as a message of its
/// kind (image, voice, video). `client_id` makes retries safe: the same id
/// returns the already stored event. An upload is sent once.
#[server(endpoint = "send_media")]
pub async fn send_media(
    room_id: ConversationId,
    client_id: String,
    media_id: String,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.send_media(&me, room_id, &client_id, &media_id)
        .await
        .map_err(fail)
}
