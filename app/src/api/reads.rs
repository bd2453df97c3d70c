//! Read positions: moving mine forward as I see messages. The badge that
//! follows (unread count, mentioned) is in every conversation summary and
//! pushed to all my sockets as a `read` frame when it moves.

use leptos::prelude::*;
use teahouse_protocol::{ConversationId, ReadState, Seq};

use crate::error::AppError;

/// Moves my read position in a room up to `seq` (never back; clamped to
/// the newest event) and returns the badge after. Members only.
#[server(endpoint = "mark_read")]
pub async fn mark_read(room_id: ConversationId, seq: Seq) -> Result<ReadState, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.mark_read(&me, room_id, seq).await.map_err(fail)
}
