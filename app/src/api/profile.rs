//! The signed-in user's profile: nickname, password, and removing the
//! avatar (a new one is uploaded to `POST /api/upload/avatar`, a plain
//! route: server functions are no place for files).

use leptos::prelude::*;
use teahouse_protocol::UserBrief;

use crate::error::AppError;

/// Changes my nickname; everyone sharing a conversation with me sees it
/// live (a `user_updated` frame).
#[server(endpoint = "change_nickname")]
pub async fn change_nickname(nickname: String) -> Result<UserBrief, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.change_nickname(&me, &nickname).await.map_err(fail)
}

/// Goes back to the generated avatar (the picture's files are removed);
/// pushed live like a new one. Returns me as I now am.
#[server(endpoint = "remove_avatar")]
pub async fn remove_avatar() -> Result<UserBrief, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.remove_avatar(&me).await.map_err(fail)
}

/// Changes my password, given the current one (`wrong_password`
/// otherwise; wrong guesses are throttled like logins). Every other session
/// of mine is signed out and its sockets closed; this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    let keep = session()?.id().map(|id| teahouse_domain::SessionKey(id.0));
    let epoch = chat
        .change_password(&me, &current_password, &new_password, client_ip(), keep)
        .await
        .map_err(fail)?;
    set_session_epoch(epoch).await
}
