//! Webhooks (issue 17): admins register endpoints (an http(s) URL and the
//! event types it gets) and each one is sent the events of every
//! conversation's log, signed, in order per conversation, at least once.
//!
//! The domain's part: the admins' operations on endpoints (checked: admins
//! only), the signature and secrets ([`sign`]), and the [`WebhookFeed`] the
//! server's deliverers read through. Delivery itself (HTTP, retries,
//! backoff, disabling a failing endpoint) is the server's
//! (`server::webhooks`): the domain has no HTTP client.
//!
//! Nothing here changes how sends are stored: an endpoint has durable
//! cursors over the logs ([`crate::store::WebhookStore`]), and a deliverer
//! reads the events after them. The only thing added to the send path is
//! [`wake::WakeOnPublish`], which bumps a counter after each published
//! event so that deliverers need not poll.

pub mod sign;
pub(crate) mod wake;

use std::sync::Arc;

use teahouse_protocol::{
    ConversationEvent, ConversationId, DeliveryView, ErrorCode, Seq, UserBrief, WebhookCreated,
    WebhookEvent, WebhookView,
};
use tokio::sync::watch;

use crate::log::Page;
use crate::store::webhooks::{Endpoint, NewWebhook, PendingLog, Progress};
use crate::store::Store;
use crate::{now_ms, Chat, DomainError, Result};

/// Most endpoints that may be registered (each has one delivery task).
pub const MAX_WEBHOOKS: u32 = 20;

/// Longest endpoint URL accepted.
pub const URL_MAX_CHARS: usize = 2000;

/// Attempts the admin page is shown per endpoint.
pub const DELIVERIES_SHOWN: u32 = 50;

/// Attempts kept per endpoint (older ones are pruned).
pub const DELIVERIES_KEPT: u32 = 200;

/// Why an endpoint was disabled after failing for the whole window.
pub const DISABLED_FAILING: &str = "failing";

/// Why an endpoint was disabled by an admin.
pub const DISABLED_BY_ADMIN: &str = "admin";

/// The service's webhook signals.
#[derive(Debug)]
pub(crate) struct WebhookState {
    /// Bumped after every published event (see [`wake`]).
    pub(crate) events: watch::Sender<u64>,
    /// Bumped whenever endpoints are added, removed, enabled or disabled.
    pub(crate) endpoints: watch::Sender<u64>,
}

impl WebhookState {
    pub(crate) fn new() -> WebhookState {
        WebhookState {
            events: watch::Sender::new(0),
            endpoints: watch::Sender::new(0),
        }
    }

    fn endpoints_changed(&self) {
        self.endpoints.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// An endpoint URL as given: an absolute `http`/`https` URL with a host,
/// no user name or password, at most [`URL_MAX_CHARS`]; `webhook_url_invalid`
/// otherwise. (Any host is allowed, loopback and private ones too: only
/// admins register endpoints, and a bot on the same machine is common.)
pub fn check_url(raw: &str) -> Result<String> {
    let invalid = || DomainError::field(ErrorCode::WebhookUrlInvalid, "url");
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > URL_MAX_CHARS {
        return Err(invalid());
    }
    let url = url::Url::parse(raw).map_err(|_| invalid())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    match ok {
        true => Ok(url.to_string()),
        false => Err(invalid()),
    }
}

/// Event types given as a comma-separated list of names (repeats are
/// ignored); `webhook_events_invalid` if empty or a name is unknown.
pub fn parse_events(raw: &str) -> Result<Vec<WebhookEvent>> {
    let mut events = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let event = WebhookEvent::parse(name)
            .ok_or_else(|| DomainError::field(ErrorCode::WebhookEventsInvalid, "events"))?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(DomainError::field(
            ErrorCode::WebhookEventsInvalid,
            "events",
        ));
    }
    events.sort();
    Ok(events)
}

impl Chat {
    /// Registers an endpoint (admins only): it gets the events of the
    /// given types stored from now on. The answer carries its signing
    /// secret, which is never shown again.
    pub async fn create_webhook(
        &self,
        admin: &UserBrief,
        url: &str,
        events: &str,
    ) -> Result<WebhookCreated> {
        self.require_admin(admin).await?;
        let url = check_url(url)?;
        let events = parse_events(events)?;
        let secret = sign::new_secret();
        let webhook = self
            .store
            .insert_webhook(NewWebhook {
                url: &url,
                events: &events,
                secret: &secret,
                created_by: admin.id,
                now_ms: now_ms(),
                max: MAX_WEBHOOKS,
            })
            .await?;
        tracing::info!(
            webhook = webhook.id,
            admin = admin.id.0,
            "webhook registered"
        );
        self.webhooks.endpoints_changed();
        Ok(WebhookCreated { webhook, secret })
    }

    /// Every endpoint, newest first (admins only; never the secrets).
    pub async fn webhooks(&self, admin: &UserBrief) -> Result<Vec<WebhookView>> {
        self.require_admin(admin).await?;
        self.store.webhooks().await
    }

    /// The newest delivery attempts to endpoint `id` (admins only).
    pub async fn webhook_deliveries(
        &self,
        admin: &UserBrief,
        id: i64,
    ) -> Result<Vec<DeliveryView>> {
        self.require_admin(admin).await?;
        self.store.webhook(id).await?;
        self.store.deliveries(id, DELIVERIES_SHOWN).await
    }

    /// Removes endpoint `id` (admins only): nothing more is sent to it.
    pub async fn delete_webhook(&self, admin: &UserBrief, id: i64) -> Result<()> {
        self.require_admin(admin).await?;
        self.store.delete_webhook(id).await?;
        tracing::info!(webhook = id, admin = admin.id.0, "webhook removed");
        self.webhooks.endpoints_changed();
        Ok(())
    }

    /// Enables or disables endpoint `id` (admins only). Enabling one that
    /// was disabled resumes where its cursors stopped: nothing stored
    /// meanwhile is lost, and the failure window starts again.
    pub async fn set_webhook_enabled(
        &self,
        admin: &UserBrief,
        id: i64,
        enabled: bool,
    ) -> Result<WebhookView> {
        self.require_admin(admin).await?;
        let view = self
            .store
            .set_webhook_enabled(id, enabled, DISABLED_BY_ADMIN, now_ms())
            .await?;
        self.webhooks.endpoints_changed();
        Ok(view)
    }

    /// What the server's deliverers read through.
    pub fn webhook_feed(&self) -> WebhookFeed {
        WebhookFeed {
            store: self.store.clone(),
            events: self.webhooks.events.subscribe(),
            endpoints: self.webhooks.endpoints.subscribe(),
            endpoints_tx: self.webhooks.endpoints.clone(),
        }
    }
}

/// The deliverers' access to endpoints, cursors and logs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WebhookFeed {
    /// Storage.
    store: Arc<dyn Store>,
    /// Changes after every published event.
    events: watch::Receiver<u64>,
    /// Changes whenever the set of enabled endpoints may have.
    endpoints: watch::Receiver<u64>,
    /// To say so when a deliverer disables its endpoint.
    endpoints_tx: watch::Sender<u64>,
}

impl WebhookFeed {
    /// Resolves when an event was published since this receiver last
    /// looked (see [`wake`]).
    pub fn events(&self) -> watch::Receiver<u64> {
        self.events.clone()
    }

    /// Resolves when endpoints were added, removed, enabled or disabled.
    pub fn endpoints(&self) -> watch::Receiver<u64> {
        self.endpoints.clone()
    }

    /// The enabled endpoints.
    pub async fn enabled_endpoints(&self) -> Result<Vec<Endpoint>> {
        self.store.enabled_endpoints().await
    }

    /// Up to `limit` conversations with events past endpoint `id`'s cursor.
    pub async fn pending_logs(&self, id: i64, limit: u32) -> Result<Vec<PendingLog>> {
        self.store.pending_logs(id, limit).await
    }

    /// Up to `limit` events of `conversation` after `after`, in order.
    pub async fn events_after(
        &self,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<ConversationEvent>> {
        self.store
            .read(conversation, Page::After { after, limit })
            .await
    }

    /// Stores a deliverer's progress (cursors, attempts, last success).
    pub async fn save_progress(&self, id: i64, progress: &Progress) -> Result<()> {
        self.store
            .save_progress(id, progress, DELIVERIES_KEPT)
            .await
    }

    /// Records the start of a run of failures.
    pub async fn set_failing_since(&self, id: i64, since_ms: i64) -> Result<()> {
        self.store.set_failing_since(id, since_ms).await
    }

    /// Disables endpoint `id` for having failed for the whole window (the
    /// admin page says so).
    pub async fn disable_failing(&self, id: i64) -> Result<WebhookView> {
        let view = self
            .store
            .set_webhook_enabled(id, false, DISABLED_FAILING, now_ms())
            .await?;
        self.endpoints_tx.send_modify(|n| *n = n.wrapping_add(1));
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert_eq!(
            check_url(" https://bot.example.com/hook?x=1 ").unwrap(),
            "https://bot.example.com/hook?x=1"
        );
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "",
            "ftp://example.com/",
            "javascript:alert(1)",
            "/relative",
            "https://user:pw@example.com/",
            "http://",
            "https://exa mple.com/",
            &format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS)),
        ] {
            let err = check_url(bad).unwrap_err().to_api();
            assert_eq!(err.code, ErrorCode::WebhookUrlInvalid, "{bad}");
        }
    }

    #[test]
    fn event_lists_are_checked_and_deduplicated() {
        assert_eq!(
            parse_events("member.joined, message.stored,message.stored").unwrap(),
            vec![WebhookEvent::MessageStored, WebhookEvent::MemberJoined]
        );
        for bad in ["", " , ", "message.stored,nope"] {
            let err = parse_events(bad).unwrap_err().to_api();
            assert_eq!(err.code, ErrorCode::WebhookEventsInvalid, "{bad:?}");
        }
    }
}
