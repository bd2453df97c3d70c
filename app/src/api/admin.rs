//! Roles: who am I, and the admin page's calls (admins only, checked on
//! the server on every call): find accounts, grant and revoke agent and
//! admin.

use leptos::prelude::*;
use teahouse_protocol::{UserId, UserWithRole};

use crate::error::AppError;

/// The signed-in user and their role now (for drawing: the server checks
/// roles itself on every call).
#[server(endpoint = "my_role")]
pub async fn my_role() -> Result<UserWithRole, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.my_role(&me).await.map_err(fail)
}

/// Accounts whose username or nickname contains `query` (empty: all),
/// staff first, at most 100 (admins only).
#[server(endpoint = "admin_accounts")]
pub async fn admin_accounts(query: Option<String>) -> Result<Vec<UserWithRole>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.accounts_with_roles(&me, query.as_deref().unwrap_or(""))
        .await
        .map_err(fail)
}

/// Sets an account's role: `user`, `agent` or `admin` (admins only; the
/// last admin cannot be revoked). Applies at once to every open session and
/// socket of that user.
#[server(endpoint = "admin_set_role")]
pub async fn admin_set_role(user_id: UserId, role: String) -> Result<UserWithRole, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.set_role(&me, user_id, &role).await.map_err(fail)
}
