//! Messages: sending, and reading a room's log by sequence cursor.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId, Seq};

use crate::error::AppError;

/// Sends a text message as the session's user. `client_id` makes retries
/// safe: the same id returns the already stored event. `reply_to` quotes
/// the message at that seq of the same room; `mentions` names members by
/// id, comma-separated (`"3,7"`).
#[server(endpoint = "send_message")]
pub async fn send_message(
    room_id: ConversationId,
    client_id: String,
    text: String,
    reply_to: Option<Seq>,
    mentions: Option<String>,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    use teahouse_domain::Compose;
    let chat = chat()?;
    let me = require_user().await?;
    let compose = Compose {
        reply_to,
        mentions: Compose::parse_mentions(mentions.as_deref().unwrap_or("")).map_err(fail)?,
    };
    chat.send_text_with(&me, room_id, &client_id, &text, compose)
        .await
        .map_err(fail)
}

/// Events of a room, ascending by seq: with `after`, those following it (catch-up
/// after a disconnect); with `around`, that seq and its neighbours (a search
/// hit or a quote opened in context); otherwise the newest `limit` before
/// `before` (history).
#[server(endpoint = "history")]
pub async fn history(
    room_id: ConversationId,
    before: Option<Seq>,
    after: Option<Seq>,
    limit: Option<u32>,
    around: Option<Seq>,
) -> Result<Vec<ConversationEvent>, AppError> {
    use super::ssr::*;
    use teahouse_domain::log::Page;
    let chat = chat()?;
    let me = require_user().await?;
    let limit = limit
        .unwrap_or(50)
        .clamp(1, teahouse_protocol::limits::HISTORY_PAGE_MAX);
    let page = match (after, around) {
        (Some(after), _) => Page::After { after, limit },
        (None, Some(seq)) => Page::Around { seq, limit },
        (None, None) => Page::Before { before, limit },
    };
    chat.history(me.id, room_id, page).await.map_err(fail)
}
