//! Private 1:1 chats: opening one with a person, and finding the people you
//! may open one with (those you share a conversation with).

use leptos::prelude::*;
use teahouse_protocol::{ConversationSummary, UserBrief, UserId};

use crate::error::AppError;

/// Opens the private chat with `user_id` (or returns the one you have):
/// `not_found`, `no_shared_room`, `direct_with_self`.
#[server(endpoint = "open_direct")]
pub async fn open_direct(user_id: UserId) -> Result<ConversationSummary, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.open_direct(&me, user_id).await.map_err(fail)
}

/// Up to 20 people you share a conversation with whose username or
/// nickname contains `query` (empty or absent: everyone), by nickname.
#[server(endpoint = "search_contacts")]
pub async fn search_contacts(query: Option<String>) -> Result<Vec<UserBrief>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.search_contacts(me.id, query.as_deref().unwrap_or(""))
        .await
        .map_err(fail)
}
