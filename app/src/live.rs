//! The browser's push connection (`/ws`), hydrate builds only.
//!
//! One task keeps a socket open for the page's lifetime: it applies pushed
//! frames to [`ChatState`], pings every heartbeat and treats silence as a dead
//! connection, reconnects with exponential backoff (cut short when the
//! browser comes back online or the tab regains focus — mobile webviews drop
//! sockets in the background), and after every reconnect asks the server for
//! the events it missed, by sequence number.

use std::time::Duration;

use futures::channel::mpsc;
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use teahouse_protocol::{close_code, ClientFrame, RoomId, Seq, ServerFrame};

use crate::api::{messages::history, rooms::my_rooms};
use crate::state::{ChatState, Follow, Live};

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
    let mut heartbeat = Duration::from_secs(25);
    let mut opened = false;
    let mut last_seen = now_ms();
    loop {
        let tick = TimeoutFuture::new(heartbeat.as_millis() as u32);
        match select(rx.next(), tick).await {
            Either::Left((Some(Ok(Message::Text(text))), _)) => {
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
            Either::Left((Some(Ok(Message::Bytes(_))), _)) => last_seen = now_ms(),
            Either::Left((Some(Err(WebSocketError::ConnectionClose(ev))), _)) => {
                if ev.code == close_code::SESSION_ENDED {
                    return Outcome::LoggedOut;
                }
                return if opened {
                    Outcome::Dropped
                } else {
                    Outcome::NeverOpened
                };
            }
            Either::Left((Some(Err(_)) | None, _)) => {
                return if opened {
                    Outcome::Dropped
                } else {
                    Outcome::NeverOpened
                };
            }
            Either::Right(((), _)) => {
                // Two heartbeats of silence: the connection is dead.
                if now_ms() - last_seen > 2.0 * heartbeat.as_millis() as f64 {
                    return if opened {
                        Outcome::Dropped
                    } else {
                        Outcome::NeverOpened
                    };
                }
                let ping = serde_json::to_string(&ClientFrame::Ping).unwrap_or_default();
                if tx.send(Message::Text(ping)).await.is_err() {
                    return if opened {
                        Outcome::Dropped
                    } else {
                        Outcome::NeverOpened
                    };
                }
            }
        }
    }
}

fn handle(state: ChatState, frame: ServerFrame) {
    match frame {
        ServerFrame::Hello { .. } | ServerFrame::Pong => {}
        ServerFrame::Event { event } => match state.apply_event(event) {
            Follow::Nothing => {}
            Follow::FetchGap { room_id, after } => spawn_local(catch_up(state, room_id, after)),
            Follow::ReloadRooms => spawn_local(reload_rooms(state)),
        },
        ServerFrame::Presence { user_id, online } => state.online.update(|o| {
            if online {
                o.insert(user_id);
            } else {
                o.remove(&user_id);
            }
        }),
    }
}

/// After a reconnect: refresh the list and fill every loaded log's gap.
fn resync(state: ChatState) {
    spawn_local(reload_rooms(state));
    let loaded: Vec<(RoomId, Seq)> = state.logs.with_untracked(|l| {
        l.iter()
            .map(|(room, m)| (*room, m.keys().next_back().copied().unwrap_or(0)))
            .collect()
    });
    for (room_id, after) in loaded {
        spawn_local(catch_up(state, room_id, after));
    }
}

async fn reload_rooms(state: ChatState) {
    if let Ok(rooms) = my_rooms().await {
        state.replace_rooms(rooms);
    }
}

/// Fetches every event of `room_id` after `after`, page by page.
pub async fn catch_up(state: ChatState, room_id: RoomId, mut after: Seq) {
    const PAGE: u32 = 200;
    // Bounded: at most 50 pages (10k events) per catch-up; the rest is
    // reachable by scrolling.
    for _ in 0..50 {
        match history(room_id, None, Some(after), Some(PAGE)).await {
            Ok(events) => {
                let n = events.len();
                if let Some(last) = events.last() {
                    after = last.seq;
                }
                state.merge(room_id, events);
                if n < PAGE as usize {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
