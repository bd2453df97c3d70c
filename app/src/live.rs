//! The browser's push connection (`/ws`), hydrate builds only.
//!
//! One task keeps a socket open for the page's lifetime: it applies pushed
//! frames to [`ChatState`], pings every heartbeat and treats silence as a dead
//! connection, reconnects with exponential backoff (cut short when the
//! browser comes back online or the tab regains focus — mobile webviews drop
//! sockets in the background), and after every reconnect asks the server for
//! the events it missed, by sequence number. A failed catch-up or list
//! refresh is shown and retried with backoff (and again on reconnect), so a
//! gap is never left silently.

use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{close_code, ClientFrame, ConversationId, ServerFrame};

use crate::api::{messages::history, rooms::my_rooms};
use crate::state::{ChatState, ConversationLog, Follow, Live};

const MIN_BACKOFF_MS: u32 = 500;
const MAX_BACKOFF_MS: u32 = 30_000;

/// How a socket session ended.
enum Outcome {
    /// It had been open; reconnect promptly.
    Dropped,
    /// It never opened (server down, network gone).
    NeverOpened,
    /// The server ended the session (logout): go to the login page.
    LoggedOut,
}

/// Starts the push connection for this page.
pub fn start(state: ChatState) {
    let (wake_tx, wake_rx) = mpsc::unbounded::<()>();
    for ev in ["online", "focus"] {
        let tx = wake_tx.clone();
        let handle = window_event_listener_untyped(ev, move |_| {
            let _ = tx.unbounded_send(());
        });
        // The listeners live as long as the page.
        std::mem::forget(handle);
    }
    spawn_local(run(state, wake_rx));
}

fn ws_url() -> Option<String> {
    let loc = window().location();
    let proto = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{proto}://{}/ws", loc.host().ok()?))
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn run(state: ChatState, mut wake: mpsc::UnboundedReceiver<()>) {
    let mut backoff = MIN_BACKOFF_MS;
    let mut resumed = false;
    loop {
        state.live.set(Live::Connecting);
        match session(state, resumed).await {
            Outcome::LoggedOut => {
                let _ = window().location().set_href("/login");
                return;
            }
            Outcome::Dropped => {
                backoff = MIN_BACKOFF_MS;
                resumed = true;
            }
            Outcome::NeverOpened => {}
        }
        state.live.set(Live::Down);
        let jitter = (js_sys::Math::random() * f64::from(backoff) * 0.3) as u32;
        let timer = TimeoutFuture::new(backoff + jitter);
        // Drain stale wake-ups, then wait for the timer or a fresh one.
        while wake.try_recv().is_ok() {}
        let _ = select(timer, wake.next()).await;
        backoff = (backoff * 2).min(MAX_BACKOFF_MS);
    }
}

async fn session(state: ChatState, resumed: bool) -> Outcome {
    let Some(url) = ws_url() else {
        return Outcome::NeverOpened;
    };
    let Ok(ws) = WebSocket::open(&url) else {
        return Outcome::NeverOpened;
    };
    let (mut tx, mut rx) = ws.split();
    // Frames the page writes (typing) go through this queue to the socket.
    let (out_tx, mut out_rx) = mpsc::unbounded::<String>();
    state
        .socket_out
        .set_value(Some(std::sync::Arc::new(move |text: String| {
            let _ = out_tx.unbounded_send(text);
        })));
    let outcome = run_socket(state, resumed, &mut tx, &mut rx, &mut out_rx).await;
    state.socket_out.set_value(None);
    outcome
}

/// What woke the socket loop.
enum Step {
    Incoming(Option<Result<Message, WebSocketError>>),
    Outgoing(String),
    Tick,
}

async fn run_socket(
    state: ChatState,
    resumed: bool,
    tx: &mut futures::stream::SplitSink<WebSocket, Message>,
    rx: &mut futures::stream::SplitStream<WebSocket>,
    out_rx: &mut mpsc::UnboundedReceiver<String>,
) -> Outcome {
    let mut heartbeat = Duration::from_secs(25);
    let mut opened = false;
    let mut last_seen = now_ms();
    let ended = |opened: bool| {
        if opened {
            Outcome::Dropped
        } else {
            Outcome::NeverOpened
        }
    };
    loop {
        let tick = TimeoutFuture::new(heartbeat.as_millis() as u32);
        let step = match select(select(rx.next(), out_rx.next()), tick).await {
            Either::Left((Either::Left((incoming, _)), _)) => Step::Incoming(incoming),
            Either::Left((Either::Right((Some(text), _)), _)) => Step::Outgoing(text),
            Either::Left((Either::Right((None, _)), _)) => continue,
            Either::Right(((), _)) => Step::Tick,
        };
        match step {
            Step::Incoming(Some(Ok(Message::Text(text)))) => {
                last_seen = now_ms();
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                    leptos::logging::warn!("ignoring unknown frame");
                    continue;
                };
                if let ServerFrame::Hello { heartbeat_secs, .. } = &frame {
                    opened = true;
                    heartbeat = Duration::from_secs(u64::from((*heartbeat_secs).clamp(5, 300)));
                    state.live.set(Live::Open);
                    if resumed {
                        resync(state);
                    }
                }
                handle(state, frame);
            }
            Step::Incoming(Some(Ok(Message::Bytes(_)))) => last_seen = now_ms(),
            Step::Incoming(Some(Err(WebSocketError::ConnectionClose(ev)))) => {
                if ev.code == close_code::SESSION_ENDED {
                    return Outcome::LoggedOut;
                }
                return ended(opened);
            }
            Step::Incoming(Some(Err(_)) | None) => return ended(opened),
            Step::Outgoing(text) => {
                if tx.send(Message::Text(text)).await.is_err() {
                    return ended(opened);
                }
            }
            Step::Tick => {
                // Two heartbeats of silence: the connection is dead.
                if now_ms() - last_seen > 2.0 * heartbeat.as_millis() as f64 {
                    return ended(opened);
                }
                let ping = serde_json::to_string(&ClientFrame::Ping).unwrap_or_default();
                if tx.send(Message::Text(ping)).await.is_err() {
                    return ended(opened);
                }
            }
        }
    }
}

fn handle(state: ChatState, frame: ServerFrame) {
    match frame {
        ServerFrame::Hello { .. } | ServerFrame::Pong => {}
        // A gap starts after `log.synced_through()`, which the catch-up
        // reads itself.
        ServerFrame::Event { event } => match state.apply_event(event) {
            Follow::Nothing => {}
            Follow::FetchGap { room_id, .. } => request_catch_up(state, room_id),
            Follow::ReloadRooms => spawn_local(reload_rooms(state)),
        },
        ServerFrame::Presence { user_id, online } => state.online.update(|o| {
            if online {
                o.insert(user_id);
            } else {
                o.remove(&user_id);
            }
        }),
        ServerFrame::UserUpdated { user } => state.apply_profile(user),
        // My read position moved (here or in another tab or device).
        ServerFrame::Read { state: read } => state.apply_read(&read),
        ServerFrame::Typing { room_id, user } => state.apply_typing(room_id, user),
        // Roles and the desk: drawn by the admin page and the consoles.
        ServerFrame::RoleChanged { .. }
        | ServerFrame::QueuePosition { .. }
        | ServerFrame::DeskChanged => {}
    }
}

/// After a reconnect: refresh the list and fill every loaded log's gap (a
/// catch-up still waiting to retry is woken and retries now).
fn resync(state: ChatState) {
    spawn_local(reload_rooms(state));
    for room_id in state.loaded_rooms() {
        request_catch_up(state, room_id);
    }
}

/// Waits before retry `attempt` (0-based): exponential backoff with
/// jitter, cut short if `wake` fires first.
async fn backoff(attempt: u32, wake: impl std::future::Future + Unpin) {
    let base = MIN_BACKOFF_MS
        .saturating_mul(1 << attempt.min(6))
        .min(MAX_BACKOFF_MS);
    let jitter = (js_sys::Math::random() * f64::from(base) * 0.3) as u32;
    let _ = select(TimeoutFuture::new(base + jitter), wake).await;
}

/// Replaces the conversation list with the server's, retrying with
/// backoff while that fails (the failure is shown above the list).
async fn reload_rooms(state: ChatState) {
    for attempt in 0.. {
        match my_rooms().await {
            Ok(rooms) => {
                state.list_error.set(None);
                state.replace_rooms(rooms);
                return;
            }
            Err(err) => {
                state.list_error.set(Some(err));
                backoff(attempt, futures::future::pending::<()>()).await;
            }
        }
    }
}

/// Makes sure `room_id`'s log gets every event after
/// [`ConversationLog::synced_through`]: starts a catch-up, or wakes the one
/// that is waiting to retry. No-op for a room whose log is not loaded.
pub fn request_catch_up(state: ChatState, room_id: ConversationId) {
    if let Some(log) = state.log(room_id) {
        if log.claim_catch_up() {
            spawn_local(catch_up(state, room_id, log));
        }
    }
}

/// Fetches `room_id`'s missing events page by page until the log has no
/// hole and the server has nothing newer. A failed fetch is shown in the
/// pane and retried with backoff (or at once on a reconnect), never
/// dropped; the task ends when the room is left.
async fn catch_up(state: ChatState, room_id: ConversationId, log: ConversationLog) {
    const PAGE: u32 = 200;
    // Bounded: at most 50 pages (10k events) per catch-up; the next
    // reconnect or gap goes on from where it stopped.
    let mut pages = 0;
    let mut attempt = 0;
    while pages < 50 && state.log(room_id).is_some_and(|l| l.same_as(&log)) {
        let after = log.synced_through();
        match history(room_id, None, Some(after), Some(PAGE), None).await {
            Ok(events) => {
                attempt = 0;
                pages += 1;
                log.catch_up_error.set(None);
                let full = events.len() >= PAGE as usize;
                log.merge(events);
                // A short page ends it, unless it filled a hole below newer
                // events and more may be missing (checked with no await
                // since the merge, so a gap found meanwhile is seen here).
                if !full && (!log.has_hole() || log.synced_through() == after) {
                    break;
                }
            }
            Err(err) => {
                log.catch_up_error.set(Some(err));
                let (tx, rx) = oneshot::channel::<()>();
                log.on_wake(move || {
                    let _ = tx.send(());
                });
                backoff(attempt, rx).await;
                attempt += 1;
            }
        }
    }
    log.release_catch_up();
}
