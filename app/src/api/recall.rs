//! Recalling a message: your own within the recall window, or any message
//! of a room you own.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, ConversationId, Seq};

use crate::error::AppError;

/// Recalls the message at `seq` of a room; returns the `message_recalled`
/// event (also pushed to the room). `recall_too_late`, `recall_not_yours`,
/// `already_recalled`, `message_not_found`.
#[server(endpoint = "recall_message")]
pub async fn recall_message(
    room_id: ConversationId,
    seq: Seq,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.recall(&me, room_id, seq).await.map_err(fail)
}
