//! The storage seam of webhooks ([`WebhookStore`]): registered endpoints,
//! each one's durable cursors over the conversation logs, and the recent
//! delivery attempts the admin page shows.
//!
//! The logs themselves are read through [`super::EventLog`]; nothing here
//! touches how events are stored.

use async_trait::async_trait;
use teahouse_protocol::{
    ConversationId, ConversationKind, DeliveryView, Seq, UserId, WebhookEvent, WebhookView,
};

use crate::Result;

/// A checked new endpoint.
#[derive(Clone, Copy, Debug)]
pub struct NewWebhook<'a> {
    /// Where deliveries go (validated).
    pub url: &'a str,
    /// The event types it gets (at least one, no repeats).
    pub events: &'a [WebhookEvent],
    /// Its signing secret.
    pub secret: &'a str,
    /// The admin registering it.
    pub created_by: UserId,
    /// When (ms since the epoch).
    pub now_ms: i64,
    /// At most this many endpoints may exist (`webhook_limit` beyond).
    pub max: u32,
}

/// An enabled endpoint as its deliverer needs it (with its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: i64,
    /// Where deliveries go.
    pub url: String,
    /// The types it gets; entries of other types are skipped.
    pub events: Vec<WebhookEvent>,
    /// The HMAC key.
    pub secret: String,
    /// Since when it has been failing (kept across restarts, so the
    /// window that disables it is the real one).
    pub failing_since_ms: Option<i64>,
}

/// A conversation with entries an endpoint has not gone past yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingLog {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its kind (carried in the payload).
    pub kind: ConversationKind,
    /// The last seq the endpoint is done with (stored cursor; 0 if none).
    pub done: Seq,
    /// The conversation's last seq now.
    pub last: Seq,
}

/// One delivery attempt to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The conversation of the event.
    pub conversation: ConversationId,
    /// The event's seq.
    pub seq: Seq,
    /// Its type.
    pub event: WebhookEvent,
    /// 1, 2, … for this event.
    pub attempt: u32,
    /// When it started.
    pub at_ms: i64,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why it failed; None: success.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// What a deliverer has done since it last saved: stored in one
/// transaction.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// New cursor positions (only ever forward).
    pub cursors: Vec<(ConversationId, Seq)>,
    /// Attempts made.
    pub attempts: Vec<Attempt>,
    /// The last success among them, if any: clears `failing_since`.
    pub last_success_ms: Option<i64>,
}

/// Webhook endpoints and their delivery state.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint and gives it a cursor at the current end of
    /// every existing conversation (it gets what happens from now on), in
    /// one transaction; `webhook_limit` if `max` exist already.
    async fn insert_webhook(&self, new: NewWebhook<'_>) -> Result<WebhookView>;

    /// Every endpoint, newest first.
    async fn webhooks(&self) -> Result<Vec<WebhookView>>;

    /// One endpoint; `not_found`.
    async fn webhook(&self, id: i64) -> Result<WebhookView>;

    /// The enabled endpoints, with their secrets.
    async fn enabled_endpoints(&self) -> Result<Vec<Endpoint>>;

    /// Removes an endpoint with its cursors and attempts; `not_found`.
    async fn delete_webhook(&self, id: i64) -> Result<()>;

    /// Enables an endpoint (clearing its failure state: the window starts
    /// again) or disables it for `reason`; `not_found`.
    async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        reason: &str,
        now_ms: i64,
    ) -> Result<WebhookView>;

    /// Up to `limit` conversations whose log goes past endpoint `id`'s
    /// cursor, the least recently created first.
    async fn pending_logs(&self, id: i64, limit: u32) -> Result<Vec<PendingLog>>;

    /// Stores `progress` of endpoint `id` and prunes its attempts to the
    /// newest `keep`. Nothing happens if the endpoint was deleted.
    async fn save_progress(&self, id: i64, progress: &Progress, keep: u32) -> Result<()>;

    /// Records that endpoint `id` has been failing since `since_ms`.
    async fn set_failing_since(&self, id: i64, since_ms: i64) -> Result<()>;

    /// The newest `limit` attempts of endpoint `id`, newest first.
    async fn deliveries(&self, id: i64, limit: u32) -> Result<Vec<DeliveryView>>;
}
