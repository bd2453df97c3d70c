//! One endpoint's deliverer: a task that reads the logs past the
//! endpoint's cursors, delivers the events of the types it gets, one at a
//! time (so in order per conversation), retries a failure with backoff
//! until it succeeds or the endpoint has failed for the whole window (then
//! disables it), and saves its progress at most once a second and when it
//! stops. At-least-once: an event is past the cursor only once delivered,
//! so a crash or restart delivers again what was not saved, with the same
//! idempotency id.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use teahouse_domain::store::webhooks::{Attempt, Endpoint, PendingLog, Progress};
use teahouse_domain::webhooks::sign;
use teahouse_domain::{now_ms, WebhookFeed};
use teahouse_protocol::webhooks::{headers, PayloadConversation};
use teahouse_protocol::{ConversationEvent, ConversationId, Seq, WebhookEvent, WebhookPayload};
use tokio::sync::watch;

use super::flags::Settings;

/// Conversations read per round.
const LOGS_PER_ROUND: u32 = 64;

/// Events read per conversation per round.
const EVENTS_PER_READ: u32 = 100;

/// How one event's delivery ended.
enum Outcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// Asked to stop (shutdown, or the endpoint was removed or disabled).
    Stopped,
    /// Failed for the whole window: the endpoint is now disabled.
    Disabled,
}

/// An attempt's failure, as the admin page shows it (never the URL, which
/// may carry a token, nor the secret).
struct Failure {
    /// The status answered, if any.
    status: Option<u16>,
    /// What went wrong.
    reason: String,
}

/// The deliverer of one endpoint.
pub(super) struct Deliverer {
    /// Endpoints, cursors, logs.
    pub(super) feed: WebhookFeed,
    /// The shared HTTP client (timeouts, no redirects).
    pub(super) client: reqwest::Client,
    /// Timeouts, backoff, the failure window.
    pub(super) settings: Settings,
    /// Where each POST's outcome is counted (`/metrics`).
    pub(super) counters: crate::metrics::WebhookCounters,
    /// The endpoint, as when this task started.
    pub(super) endpoint: Endpoint,
    /// True when the task must stop.
    pub(super) stop: watch::Receiver<bool>,
    /// Cursor positions not saved yet.
    pub(super) unsaved: HashMap<ConversationId, Seq>,
    /// Attempts and the last success not saved yet.
    pub(super) progress: Progress,
    /// When progress was last saved.
    pub(super) saved_at: Instant,
}

impl Deliverer {
    /// Delivers until told to stop or the endpoint is disabled; saves its
    /// progress before returning.
    pub(super) async fn run(mut self) {
        let mut events = self.feed.events();
        let id = self.endpoint.id;
        tracing::debug!(webhook = id, "webhook deliverer started");
        loop {
            if *self.stop.borrow() {
                break;
            }
            // Seen before reading: anything stored from now on wakes us.
            events.borrow_and_update();
            let pending = match self.feed.pending_logs(id, LOGS_PER_ROUND).await {
                Ok(p) => self.not_done(p),
                Err(e) => {
                    tracing::error!(webhook = id, error = %e, "reading webhook cursors failed");
                    if self.pause(self.settings.poll_every).await {
                        break;
                    }
                    continue;
                }
            };
            if pending.is_empty() {
                if self.idle(&mut events).await {
                    break;
                }
                continue;
            }
            match self.round(&pending).await {
                Some(Outcome::Stopped) | Some(Outcome::Disabled) => break,
                _ => {}
            }
            self.save_if_due().await;
            if self.pause(self.settings.round_gap).await {
                break;
            }
        }
        self.save().await;
        tracing::debug!(webhook = id, "webhook deliverer stopped");
    }

    /// The pending logs with what this task did but has not saved taken
    /// into account.
    fn not_done(&self, pending: Vec<PendingLog>) -> Vec<PendingLog> {
        pending
            .into_iter()
            .map(|mut log| {
                if let Some(seq) = self.unsaved.get(&log.conversation) {
                    log.done = log.done.max(*seq);
                }
                log
            })
            .filter(|log| log.done < log.last)
            .collect()
    }

    /// Nothing to do: saves when due and waits for an event, the poll
    /// interval or a stop. True if told to stop.
    async fn idle(&mut self, events: &mut watch::Receiver<u64>) -> bool {
        let dirty = !self.unsaved.is_empty() || !self.progress.attempts.is_empty();
        let save_in = match dirty {
            true => self
                .settings
                .save_every
                .saturating_sub(self.saved_at.elapsed()),
            false => self.settings.poll_every,
        };
        let save_now = tokio::select! {
            _ = self.stop.changed() => return true,
            woken = events.changed() => {
                // The service is gone (only at the very end): poll instead.
                if woken.is_err() && self.pause(self.settings.poll_every).await {
                    return true;
                }
                false
            }
            _ = tokio::time::sleep(self.settings.poll_every) => false,
            _ = tokio::time::sleep(save_in), if dirty => true,
        };
        if save_now {
            self.save().await;
        }
        false
    }

    /// Sleeps `wait` unless told to stop first (then true).
    async fn pause(&mut self, wait: Duration) -> bool {
        tokio::select! {
            _ = self.stop.changed() => true,
            _ = tokio::time::sleep(wait) => *self.stop.borrow(),
        }
    }

    /// Goes through one batch of each pending log; Some(outcome) when the
    /// task must end.
    async fn round(&mut self, pending: &[PendingLog]) -> Option<Outcome> {
        for log in pending {
            let events = match self
                .feed
                .events_after(log.conversation, log.done, EVENTS_PER_READ)
                .await
            {
                Ok(events) => events,
                Err(e) => {
                    tracing::error!(webhook = self.endpoint.id, error = %e, "reading a log failed");
                    continue;
                }
            };
            for event in events {
                let wanted =
                    WebhookEvent::of(&event.body).filter(|t| self.endpoint.events.contains(t));
                if let Some(event_type) = wanted {
                    match self.deliver(log, &event, event_type).await {
                        Outcome::Delivered => {}
                        end => return Some(end),
                    }
                }
                self.unsaved.insert(log.conversation, event.seq);
                self.save_if_due().await;
            }
        }
        None
    }

    /// Delivers one event, retrying until it is delivered, the task is
    /// stopped, or the endpoint has failed for the whole window.
    async fn deliver(
        &mut self,
        log: &PendingLog,
        event: &ConversationEvent,
        event_type: WebhookEvent,
    ) -> Outcome {
        let id = self.endpoint.id;
        let payload = WebhookPayload {
            id: WebhookPayload::id_for(id, log.conversation, event.seq),
            event_type: event_type.as_str().to_owned(),
            conversation: PayloadConversation {
                id: log.conversation,
                kind: log.kind,
            },
            event: event.clone(),
        };
        let body = match serde_json::to_vec(&payload) {
            Ok(body) => Bytes::from(body),
            Err(e) => {
                // Cannot happen for these types; skipping beats a stuck endpoint.
                tracing::error!(webhook = id, error = %e, "encoding a webhook payload failed");
                return Outcome::Delivered;
            }
        };
        let mut attempt = 1u32;
        loop {
            let at_ms = now_ms();
            let started = Instant::now();
            let answer = tokio::select! {
                _ = self.stop.changed() => return Outcome::Stopped,
                answer = post(&self.client, &self.endpoint, &payload, body.clone()) => answer,
            };
            let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            let (status, error) = match &answer {
                Ok(status) => (Some(*status), None),
                Err(f) => (f.status, Some(f.reason.clone())),
            };
            self.progress.attempts.push(Attempt {
                conversation: log.conversation,
                seq: event.seq,
                event: event_type,
                attempt,
                at_ms,
                status,
                error,
                duration_ms,
            });
            let Err(failure) = answer else {
                self.counters.delivered.increment(1);
                self.progress.last_success_ms = Some(now_ms());
                self.endpoint.failing_since_ms = None;
                return Outcome::Delivered;
            };
            self.counters.failed.increment(1);
            tracing::warn!(
                webhook = id,
                delivery = %payload.id,
                attempt,
                error = %failure.reason,
                "webhook delivery failed"
            );
            let since = match self.endpoint.failing_since_ms {
                Some(since) => since,
                None => {
                    self.endpoint.failing_since_ms = Some(at_ms);
                    if let Err(e) = self.feed.set_failing_since(id, at_ms).await {
                        tracing::error!(webhook = id, error = %e, "storing a webhook failure failed");
                    }
                    at_ms
                }
            };
            let window = i64::try_from(self.settings.disable_after.as_millis()).unwrap_or(i64::MAX);
            let left_ms = since.saturating_add(window).saturating_sub(now_ms());
            if left_ms <= 0 {
                return self.disable().await;
            }
            self.save_if_due().await;
            let wait = self
                .settings
                .backoff(attempt)
                .min(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)));
            if self.pause(wait).await {
                return Outcome::Stopped;
            }
            attempt = attempt.saturating_add(1);
        }
    }

    /// Disables the endpoint after a whole window of failures.
    async fn disable(&mut self) -> Outcome {
        let id = self.endpoint.id;
        self.save().await;
        match self.feed.disable_failing(id).await {
            Ok(_) => tracing::warn!(
                webhook = id,
                "webhook disabled: it failed for the whole window; an admin can enable it again"
            ),
            Err(e) => tracing::error!(webhook = id, error = %e, "disabling a webhook failed"),
        }
        Outcome::Disabled
    }

    /// Saves if the last save is older than `save_every`.
    async fn save_if_due(&mut self) {
        if self.saved_at.elapsed() >= self.settings.save_every {
            self.save().await;
        }
    }

    /// Stores cursors, attempts and the last success in one transaction.
    /// On failure they stay in memory and are tried again next time.
    async fn save(&mut self) {
        self.saved_at = Instant::now();
        if self.unsaved.is_empty() && self.progress.attempts.is_empty() {
            return;
        }
        let mut progress = std::mem::take(&mut self.progress);
        progress.cursors = self.unsaved.iter().map(|(c, s)| (*c, *s)).collect();
        match self.feed.save_progress(self.endpoint.id, &progress).await {
            Ok(()) => self.unsaved.clear(),
            Err(e) => {
                tracing::error!(webhook = self.endpoint.id, error = %e, "saving webhook progress failed");
                progress.cursors.clear();
                self.progress = progress;
            }
        }
    }
}

/// One signed POST of `body`: Ok(status) on 2xx.
async fn post(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    payload: &WebhookPayload,
    body: Bytes,
) -> Result<u16, Failure> {
    let timestamp = now_ms() / 1000;
    let signature = sign::signature(&endpoint.secret, timestamp, &body);
    let sent = client
        .post(&endpoint.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(headers::ID, &payload.id)
        .header(headers::EVENT, &payload.event_type)
        .header(headers::TIMESTAMP, timestamp.to_string())
        .header(headers::SIGNATURE, signature)
        .body(body)
        .send()
        .await;
    let response = sent.map_err(|e| Failure {
        status: None,
        reason: describe(&e),
    })?;
    let status = response.status();
    match status.as_u16() {
        200..=299 => Ok(status.as_u16()),
        300..=399 => Err(Failure {
            status: Some(status.as_u16()),
            reason: format!("redirect ({status}) not followed"),
        }),
        code => Err(Failure {
            status: Some(code),
            reason: format!("answered {status}"),
        }),
    }
}

/// A request error in words, without the URL (it may carry a token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "redirect not followed".into()
    } else {
        // Without the URL: it may carry a token.
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        format!("request failed: {text}")
    }
}
