//! The agent console and the admin's view of the desk (agents and admins
//! only, checked on the server on every call). Agents send in a support
//! conversation assigned to them with `send_message` / `send_media`, like
//! in any conversation they are a member of.

use leptos::prelude::*;
use teahouse_protocol::{
    AgentLoad, ConversationEvent, ConversationId, DeskOverview, Seq, SupportView, UserId,
};

use crate::error::AppError;

/// The queue, next first.
#[server(endpoint = "desk_queue")]
pub async fn desk_queue() -> Result<Vec<SupportView>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_queue(&me).await.map_err(fail)
}

/// The conversations assigned to me.
#[server(endpoint = "desk_mine")]
pub async fn desk_mine() -> Result<Vec<SupportView>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_mine(&me).await.map_err(fail)
}

/// One support conversation with the guest's details (mine, waiting, or
/// any for admins).
#[server(endpoint = "desk_detail")]
pub async fn desk_detail(room_id: ConversationId) -> Result<SupportView, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_detail(&me, room_id).await.map_err(fail)
}

/// A support conversation's log (mine, waiting, or any for admins), like
/// `history`.
#[server(endpoint = "desk_history")]
pub async fn desk_history(
    room_id: ConversationId,
    before: Option<Seq>,
    after: Option<Seq>,
    limit: Option<u32>,
) -> Result<Vec<ConversationEvent>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_history(&me, room_id, super::support::page(before, after, limit))
        .await
        .map_err(fail)
}

/// Takes a waiting conversation (`already_assigned` if someone was first).
#[server(endpoint = "desk_accept")]
pub async fn desk_accept(room_id: ConversationId) -> Result<SupportView, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_accept(&me, room_id).await.map_err(fail)
}

/// Hands a conversation to another online agent.
#[server(endpoint = "desk_transfer")]
pub async fn desk_transfer(
    room_id: ConversationId,
    agent_id: UserId,
) -> Result<SupportView, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_transfer(&me, room_id, agent_id)
        .await
        .map_err(fail)
}

/// Closes a conversation (the guest writing again reopens it).
#[server(endpoint = "desk_close")]
pub async fn desk_close(room_id: ConversationId) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_close(&me, room_id).await.map_err(fail)
}

/// Agents and admins with their load and whether they are online.
#[server(endpoint = "desk_agents")]
pub async fn desk_agents() -> Result<Vec<AgentLoad>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_agents(&me).await.map_err(fail)
}

/// Every agent's load and the queue (admins only).
#[server(name = DeskOverviewArgs, endpoint = "desk_overview")]
pub async fn desk_overview() -> Result<DeskOverview, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.desk_overview(&me).await.map_err(fail)
}
