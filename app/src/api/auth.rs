//! Accounts: register, log in, log out, who am I.

use leptos::prelude::*;
use teahouse_protocol::UserBrief;

use crate::error::AppError;

/// Creates an account, logs it in and joins it to the lobby.
#[server(endpoint = "register")]
pub async fn register(
    username: String,
    nickname: String,
    password: String,
) -> Result<UserBrief, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let user = chat
        .register(teahouse_domain::accounts::NewAccount {
            username,
            nickname,
            password,
        })
        .await
        .map_err(fail)?;
    log_in(&user).await?;
    tracing::info!(user_id = %user.id, "registered");
    leptos_axum::redirect("/");
    Ok(user)
}

/// Logs in with a username and password. Failed attempts are throttled
/// per (username, client address) and per address: `rate_limited` with a
/// `Retry-After` while locked.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<UserBrief, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let user = chat
        .login(&username, &password, client_ip())
        .await
        .map_err(fail)?;
    log_in(&user).await?;
    leptos_axum::redirect("/");
    Ok(user)
}

/// Ends the session; every socket opened under it closes at once.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::ssr::*;
    let services = services()?;
    let session = session()?;
    let user = session_user_id(&session, services.renewal).await?;
    let key = session.id();
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session flush failed");
        reject(AppError::new(teahouse_protocol::ErrorCode::Internal))
    })?;
    if let (Some(user), Some(key)) = (user, key) {
        let key = teahouse_domain::SessionKey(key.0);
        services.chat.end_session(user, key);
        // An agent signing out hands their support conversations back.
        services.chat.staff_logged_out(user, key);
    }
    Ok(())
}

/// The logged-in user, or None.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<UserBrief>, AppError> {
    use super::ssr::*;
    current_user(&session()?, &services()?).await
}
