//! The guest's side of the support desk: no account, a guest identity in
//! the server-side session (cookie `teahouse_sid`), one conversation.
//! A guest reaches only their own conversation: no argument names one.

use leptos::prelude::*;
use teahouse_protocol::{ConversationEvent, GuestSession, Seq};

use crate::error::AppError;

/// Which page of a log the arguments ask for (as `history`).
#[cfg(feature = "ssr")]
pub(crate) fn page(
    before: Option<Seq>,
    after: Option<Seq>,
    limit: Option<u32>,
) -> teahouse_domain::log::Page {
    use teahouse_domain::log::Page;
    let limit = limit
        .unwrap_or(50)
        .clamp(1, teahouse_protocol::limits::HISTORY_PAGE_MAX);
    match after {
        Some(after) => Page::After { after, limit },
        None => Page::Before { before, limit },
    }
}

/// Opens the desk: the session's guest and their conversation, created on
/// the first call (rate-limited per address) and the same on every later
/// one (reloads, reconnects). `page` is the page the visitor came from.
#[server(endpoint = "support_start")]
pub async fn support_start(
    name: Option<String>,
    contact: Option<String>,
    page: Option<String>,
) -> Result<GuestSession, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    if let Some(guest) = session_guest(&session()?, &chat).await? {
        return chat.guest_session(guest.id).await.map_err(fail);
    }
    let start = teahouse_domain::GuestStart {
        name: name.unwrap_or_default(),
        contact: contact.unwrap_or_default(),
        first_page: page.unwrap_or_else(|| request_header(http::header::REFERER)),
        browser: request_header(http::header::USER_AGENT),
    };
    let session = chat.start_guest(client_ip(), start).await.map_err(fail)?;
    remember_guest(session.guest.user.id).await?;
    Ok(session)
}

/// The guest's identity and conversation now (status, agent, position).
#[server(endpoint = "support_state")]
pub async fn support_state() -> Result<GuestSession, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let guest = require_guest().await?;
    chat.guest_session(guest.id).await.map_err(fail)
}

/// Gives (or changes) the guest's name and contact.
#[server(endpoint = "support_details")]
pub async fn support_details(name: String, contact: String) -> Result<GuestSession, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let guest = require_guest().await?;
    chat.set_guest_details(guest.id, &name, &contact)
        .await
        .map_err(fail)
}

/// Sends text to the guest's conversation (kept whether or not an agent
/// has it yet; reopens it if closed). Rate-limited per address.
#[server(endpoint = "support_send")]
pub async fn support_send(client_id: String, text: String) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let guest = require_guest().await?;
    chat.guest_send_text(&guest, client_ip(), &client_id, &text)
        .await
        .map_err(fail)
}

/// Sends the guest's upload (image, voice) to their conversation.
#[server(endpoint = "support_send_media")]
pub async fn support_send_media(
    client_id: String,
    media_id: String,
) -> Result<ConversationEvent, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let guest = require_guest().await?;
    chat.guest_send_media(&guest, client_ip(), &client_id, &media_id)
        .await
        .map_err(fail)
}

/// A page of the guest's conversation, as `history`.
#[server(endpoint = "support_history")]
pub async fn support_history(
    before: Option<Seq>,
    after: Option<Seq>,
    limit: Option<u32>,
) -> Result<Vec<ConversationEvent>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let guest = require_guest().await?;
    chat.guest_history(guest.id, page(before, after, limit))
        .await
        .map_err(fail)
}
