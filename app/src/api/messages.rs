//! Messages: sending, and reading a room's log by sequence cursor.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId, Seq};

use crate::error::AppError;

/// Sends a text message as the session's user. `client_id` makes retries
/// safe: the same id returns the already stored event.
#[server(endpoint = "send_message")]
pub async fn send_message(
    room_id: ConversationId,
    client_id: String,
    text: String,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.send_text(&me, room_id, &client_id, &text)
        .await
        .map_err(fail)
}

/// Events of a room, ascending by seq: with `after`, those following it (catch-up
/// after a disconnect); otherwise the newest `limit` before `before` (history).
#[server(endpoint = "history")]
pub async fn history(
    room_id: ConversationId,
    before: Option<Seq>,
    after: Option<Seq>,
    limit: Option<u32>,
) -> Result<Vec<ConversationEvent>, AppError> {
    use super::ssr::*;
    use teahouse_domain::log::Page;
    let chat = chat()?;
    let me = require_user().await?;
    let limit = limit
        .unwrap_or(50)
        .clamp(1, teahouse_protocol::limits::HISTORY_PAGE_MAX);
    let page = match after {
        Some(after) => Page::After { after, limit },
        None => Page::Before { before, limit },
    };
    chat.history(me.id, room_id, page).await.map_err(fail)
}
