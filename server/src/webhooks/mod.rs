//! Webhook delivery (issue 17): one task per enabled endpoint
//! ([`endpoint::Deliverer`]), started and stopped by a supervisor that
//! follows the endpoints the admins register, remove, enable and disable.
//!
//! Why this shape: the events are already stored, in order, in each
//! conversation's log, so an endpoint needs only durable cursors over the
//! logs, not a queue of its own; sends are stored exactly as before and
//! never wait for a deliverer (they only bump a counter that wakes the
//! tasks). Each endpoint has its own task, so a slow or failing endpoint
//! delays only itself; one request at a time per endpoint keeps its events
//! in order, and at most [`teahouse_domain::webhooks::MAX_WEBHOOKS`]
//! endpoints bounds the concurrency. Every request has a timeout.
//!
//! The HTTP client is `reqwest` (hyper underneath, rustls for https, the
//! same crate the tests already use): it never follows a redirect (a 3xx
//! counts as a failure: following one would re-send the body to wherever
//! the answer points, or turn the POST into a GET).
//!
//! - [`flags`]: `--webhook-*` flags and the settings they make.
//! - [`endpoint`]: one endpoint's deliverer.

pub mod endpoint;
pub mod flags;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use teahouse_domain::store::webhooks::Progress;
use teahouse_domain::{Chat, WebhookFeed};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use flags::{Settings, WebhookFlags};

use crate::metrics::WebhookCounters;

/// How long stopping waits for the deliverers to save their progress.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// How often the supervisor looks at the endpoints even when not told of
/// a change (a deliverer that ended on an error is restarted then).
const RECONCILE_EVERY: Duration = Duration::from_secs(30);

/// The running deliverers; [`Deliveries::stop`] ends them.
pub struct Deliveries {
    /// Set to true to stop.
    stop: watch::Sender<bool>,
    /// The supervisor.
    supervisor: JoinHandle<()>,
}

/// A running deliverer.
struct Running {
    /// Tells it to stop.
    stop: watch::Sender<bool>,
    /// Its task.
    task: JoinHandle<()>,
}

impl Deliveries {
    /// Starts delivering to every enabled endpoint of `chat`.
    pub fn start(
        chat: &Chat,
        settings: Settings,
        counters: WebhookCounters,
    ) -> Result<Deliveries, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .timeout(settings.timeout)
            .user_agent(concat!("Teahouse-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        let (stop, stopped) = watch::channel(false);
        let supervisor = tokio::spawn(supervise(
            chat.webhook_feed(),
            client,
            settings,
            counters,
            stopped,
        ));
        Ok(Deliveries { stop, supervisor })
    }

    /// Stops every deliverer (an in-flight request is abandoned: it is
    /// delivered again after the restart) and waits for them to save their
    /// progress.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(STOP_WAIT * 2, self.supervisor)
            .await
            .is_err()
        {
            tracing::warn!("webhook deliverers did not stop in time");
        }
    }
}

/// Keeps one deliverer per enabled endpoint until told to stop.
async fn supervise(
    feed: WebhookFeed,
    client: reqwest::Client,
    settings: Settings,
    counters: WebhookCounters,
    mut stopped: watch::Receiver<bool>,
) {
    let mut endpoints = feed.endpoints();
    let mut running: HashMap<i64, Running> = HashMap::new();
    loop {
        endpoints.borrow_and_update();
        match feed.enabled_endpoints().await {
            Ok(enabled) => {
                let wanted: HashMap<i64, _> = enabled.into_iter().map(|e| (e.id, e)).collect();
                // Stopped first (and waited for), so that an endpoint
                // disabled and enabled again never has two deliverers.
                let gone: Vec<i64> = running
                    .iter()
                    .filter(|(id, r)| !wanted.contains_key(id) || r.task.is_finished())
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    if let Some(r) = running.remove(&id) {
                        finish(r).await;
                    }
                }
                for (id, endpoint) in wanted {
                    if running.contains_key(&id) {
                        continue;
                    }
                    let (stop, stop_rx) = watch::channel(false);
                    let deliverer = endpoint::Deliverer {
                        feed: feed.clone(),
                        client: client.clone(),
                        settings: settings.clone(),
                        counters: counters.clone(),
                        endpoint,
                        stop: stop_rx,
                        unsaved: HashMap::new(),
                        progress: Progress::default(),
                        saved_at: Instant::now(),
                    };
                    let task = tokio::spawn(deliverer.run());
                    running.insert(id, Running { stop, task });
                }
            }
            Err(e) => tracing::error!(error = %e, "reading webhook endpoints failed"),
        }
        tokio::select! {
            _ = stopped.changed() => break,
            changed = endpoints.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep(RECONCILE_EVERY) => {}
        }
    }
    for r in running.values() {
        let _ = r.stop.send(true);
    }
    for (_, r) in running {
        finish(r).await;
    }
}

/// Tells a deliverer to stop and waits (a while) for it to save.
async fn finish(r: Running) {
    let _ = r.stop.send(true);
    if tokio::time::timeout(STOP_WAIT, r.task).await.is_err() {
        tracing::warn!("a webhook deliverer did not stop in time");
    }
}
