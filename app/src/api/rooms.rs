//! Rooms: my conversations, the public directory, create/join/leave, members.

use leptos::prelude::*;
use teahouse_protocol::{ConversationDetail, ConversationId, ConversationSummary, RoomPage};

use crate::error::AppError;

/// The rooms I belong to, most recently active first.
#[server(endpoint = "my_rooms")]
pub async fn my_rooms() -> Result<Vec<ConversationSummary>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.my_rooms(me.id).await.map_err(fail)
}

/// A page of public rooms (joined or not), largest first; `query` searches
/// room names, `cursor` is the previous page's `next_cursor`.
#[server(endpoint = "public_rooms")]
pub async fn public_rooms(
    query: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<RoomPage, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.public_rooms(
        me.id,
        query.as_deref().unwrap_or(""),
        cursor.as_deref(),
        limit,
    )
    .await
    .map_err(fail)
}

/// Creates a room; the caller becomes its owner.
#[server(endpoint = "create_room")]
pub async fn create_room(
    name: String,
    description: String,
) -> Result<ConversationSummary, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.create_room(&me, &name, &description)
        .await
        .map_err(fail)
}

/// Joins a public room.
#[server(endpoint = "join_room")]
pub async fn join_room(room_id: ConversationId) -> Result<ConversationSummary, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.join_room(&me, room_id).await.map_err(fail)
}

/// Leaves a room (owners cannot).
#[server(endpoint = "leave_room")]
pub async fn leave_room(room_id: ConversationId) -> Result<(), AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.leave_room(&me, room_id)
        .await
        .map_err(fail)
        .map(|_| ())
}

/// A room and its members (members only). The arguments' struct is named
/// apart from the `ConversationDetail` view it returns.
#[server(name = RoomDetailArgs, endpoint = "room_detail")]
pub async fn room_detail(room_id: ConversationId) -> Result<ConversationDetail, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.room_detail(me.id, room_id).await.map_err(fail)
}
