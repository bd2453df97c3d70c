//! Webhooks (admins only, checked on the server on every call): register
//! an endpoint (its signing secret is in this one answer, never again),
//! list them, see an endpoint's recent deliveries, enable, disable, remove.

use leptos::prelude::*;
use teahouse_protocol::{DeliveryView, WebhookCreated, WebhookView};

use crate::error::AppError;

/// Registers `url` for `events` (comma-separated: `message.stored`,
/// `message.recalled`, `member.joined`, `member.left`, `desk.opened`,
/// `desk.assigned`, `desk.returned`, `desk.closed`).
#[server(endpoint = "admin_create_webhook")]
pub async fn admin_create_webhook(url: String, events: String) -> Result<WebhookCreated, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.create_webhook(&me, &url, &events).await.map_err(fail)
}

/// Every endpoint, newest first (without secrets).
#[server(endpoint = "admin_webhooks")]
pub async fn admin_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.webhooks(&me).await.map_err(fail)
}

/// The newest delivery attempts to one endpoint.
#[server(endpoint = "admin_webhook_deliveries")]
pub async fn admin_webhook_deliveries(webhook_id: i64) -> Result<Vec<DeliveryView>, AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.webhook_deliveries(&me, webhook_id).await.map_err(fail)
}

/// Enables (`enabled` = `true`: resumes where it stopped) or disables
/// (`false`) an endpoint.
#[server(endpoint = "admin_set_webhook_enabled")]
pub async fn admin_set_webhook_enabled(
    webhook_id: i64,
    enabled: String,
) -> Result<WebhookView, AppError> {
    use super::ssr::*;
    use teahouse_protocol::ErrorCode;
    let enabled = match enabled.as_str() {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            return Err(reject(AppError {
                code: ErrorCode::BadRequest,
                field: Some("enabled".into()),
            }))
        }
    };
    let chat = chat()?;
    let me = require_user().await?;
    chat.set_webhook_enabled(&me, webhook_id, enabled)
        .await
        .map_err(fail)
}

/// Removes an endpoint.
#[server(endpoint = "admin_delete_webhook")]
pub async fn admin_delete_webhook(webhook_id: i64) -> Result<(), AppError> {
    use super::ssr::*;
    let chat = chat()?;
    let me = require_user().await?;
    chat.delete_webhook(&me, webhook_id).await.map_err(fail)
}
