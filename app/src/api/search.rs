//! Message search, within one conversation or across all of mine.

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, SearchPage};

use crate::error::AppError;

/// Text messages containing every word of `query` (at most 40
/// characters), in `room_id` or, without it, in all my conversations;
/// never recalled ones. Open a hit with `history(around = seq)`.
#[server(endpoint = "search_messages")]
pub async fn search_messages(
    query: String,
    room_id: Option<ConversationId>,
) -> Result<SearchPage, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.search_messages(me.id, &query, room_id)
        .await
        .map_err(fail)
}
