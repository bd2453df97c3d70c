//! The admin page's calls for the server API's keys (admins only, checked
//! on the server on every call): list, create (the secret is in the answer
//! once and never again), revoke.

use leptos::prelude::*;
use teahouse_protocol::{ApiKeyInfo, CreatedApiKey};

use crate::error::AppError;

/// Every API key, newest first (never their secrets).
#[server(endpoint = "admin_api_keys")]
pub async fn admin_api_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.api_keys(&me).await.map_err(fail)
}

/// Makes a key: `scope` `read_only` or `full`; `rooms` comma-separated
/// room ids it is limited to (empty: all); the bot it acts as (nickname,
/// default the name; avatar URL, `https://`).
#[server(endpoint = "admin_create_api_key")]
pub async fn admin_create_api_key(
    name: String,
    scope: String,
    rooms: Option<String>,
    bot_nickname: Option<String>,
    bot_avatar_url: Option<String>,
) -> Result<CreatedApiKey, AppError> {
    use super::ssr::*;
    use teahouse_protocol::ErrorCode;
    let chat = chat()?;
    let me = require_user().await?;
    let rooms = match rooms.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(list) => Some(
            list.split(',')
                .map(|id| {
                    id.trim()
                        .parse::<i64>()
                        .map(teahouse_protocol::ConversationId)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    reject(AppError {
                        code: ErrorCode::ApiKeyScopeInvalid,
                        field: Some("rooms".into()),
                    })
                })?,
        ),
    };
    let request = teahouse_domain::api::keys::KeyRequest {
        name,
        scope,
        rooms,
        bot_nickname,
        bot_avatar_url,
    };
    chat.create_api_key(&me, request).await.map_err(fail)
}

/// Revokes a key: from now on it is refused (`api_key_revoked`).
#[server(endpoint = "admin_revoke_api_key")]
pub async fn admin_revoke_api_key(id: i64) -> Result<ApiKeyInfo, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.revoke_api_key(&me, id).await.map_err(fail)
}
