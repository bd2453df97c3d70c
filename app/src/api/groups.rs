//! Private groups: create by picking people, add members, and the owner's
//! moderation. `members` is a comma-separated list of user ids (`3,5,8`).

use leptos::prelude::*;
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationSummary, GroupInfo, Seq, UserId,
};

use crate::error::AppError;

/// Creates a private group with the people picked (you must share a
/// conversation with each); you own it.
#[server(endpoint = "create_group")]
pub async fn create_group(name: String, members: String) -> Result<ConversationSummary, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.create_group(&me, &name, &members).await.map_err(fail)
}

/// Adds people to a group (any member, or only the owner if the group
/// says so).
#[server(endpoint = "group_add_members")]
pub async fn group_add_members(
    room_id: ConversationId,
    members: String,
) -> Result<Vec<ConversationEvent>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.add_group_members(&me, room_id, &members)
        .await
        .map_err(fail)
}

/// A group's announcement, invite setting, mutes and bans (members only).
#[server(endpoint = "group_detail")]
pub async fn group_detail(room_id: ConversationId) -> Result<GroupInfo, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.group_detail(me.id, room_id).await.map_err(fail)
}

/// Runs one act of the group's owner.
#[cfg(feature = "ssr")]
async fn act(
    room_id: ConversationId,
    act: teahouse_domain::store::GroupAct,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.moderate_group(&me, room_id, act).await.map_err(fail)
}

/// Renames the group (owner).
#[server(endpoint = "group_rename")]
pub async fn group_rename(
    room_id: ConversationId,
    name: String,
) -> Result<ConversationEvent, AppError> {
    act(room_id, teahouse_domain::store::GroupAct::Rename(name)).await
}

/// Sets the announcement, pushed to every member (owner; empty clears).
#[server(endpoint = "group_announce")]
pub async fn group_announce(
    room_id: ConversationId,
    text: String,
) -> Result<ConversationEvent, AppError> {
    act(room_id, teahouse_domain::store::GroupAct::Announce(text)).await
}

/// Who may add members: `owner_only` = `true` / `false` (owner).
#[server(endpoint = "group_invite_policy")]
pub async fn group_invite_policy(
    room_id: ConversationId,
    owner_only: String,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::reject;
    use teahouse_protocol::ErrorCode;
    let owner_only = match owner_only.as_str() {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            return Err(reject(AppError {
                code: ErrorCode::BadRequest,
                field: Some("owner_only".into()),
            }))
        }
    };
    act(
        room_id,
        teahouse_domain::store::GroupAct::InvitePolicy { owner_only },
    )
    .await
}

/// Removes a member (owner); their sockets stop receiving the group at once.
#[server(endpoint = "group_remove_member")]
pub async fn group_remove_member(
    room_id: ConversationId,
    user_id: UserId,
) -> Result<ConversationEvent, AppError> {
    act(room_id, teahouse_domain::store::GroupAct::Remove(user_id)).await
}

/// Removes a member and bans them from being added again (owner).
#[server(endpoint = "group_ban")]
pub async fn group_ban(
    room_id: ConversationId,
    user_id: UserId,
) -> Result<ConversationEvent, AppError> {
    act(room_id, teahouse_domain::store::GroupAct::Ban(user_id)).await
}

/// Mutes a member for `minutes` (0 lifts it; at most 43200) (owner).
#[server(endpoint = "group_mute")]
pub async fn group_mute(
    room_id: ConversationId,
    user_id: UserId,
    minutes: u32,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.mute_member(&me, room_id, user_id, minutes)
        .await
        .map_err(fail)
}

/// Hands the group to another member (owner).
#[server(endpoint = "group_transfer")]
pub async fn group_transfer(
    room_id: ConversationId,
    user_id: UserId,
) -> Result<ConversationEvent, AppError> {
    act(room_id, teahouse_domain::store::GroupAct::Transfer(user_id)).await
}

/// Deletes any message of the group (owner): a recall as the owner, so the
/// answer is the `message_recalled` event and the entry then reads
/// `recalled` (`by` the owner), as after `recall_message`.
#[server(endpoint = "group_delete_message")]
pub async fn group_delete_message(
    room_id: ConversationId,
    seq: Seq,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.remove_group_message(&me, room_id, seq)
        .await
        .map_err(fail)
}
