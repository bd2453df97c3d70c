//! `GET /ws`: the push channel.
//!
//! The upgrade is authenticated by the session cookie (no session, no
//! socket; a support-desk guest's session gets a socket for their one
//! conversation) and refused for foreign origins (the rule of
//! [`crate::security::origin`]). Each connection is one task that writes
//! queued frames (batched: everything already queued goes out in one
//! flush), answers pings, sends its own pings every heartbeat and closes
//! connections that fall silent, fall behind, or are told to go.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use teahouse_domain::{KickReason, SessionKey, Subscription};
use teahouse_protocol::{close_code, ClientFrame, ErrorCode, ServerFrame, UserBrief};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{interval_at, timeout, Instant, MissedTickBehavior};

use crate::AppState;
use app::api::ssr::{fail, session_guest, CurrentUser};
use app::error::AppError;
use axum::routing::get;
use axum::Router;

/// Largest frame a client may send (clients only send pings and typing).
const MAX_CLIENT_FRAME: usize = 4 * 1024;
/// Frames written per flush at most.
const WRITE_BATCH: usize = 64;
/// Bytes of queued frames gathered before a write to the socket. A batch is
/// written with one `write` (or a few, when it is larger than this) instead
/// of one per frame: under fan-out load this cut the server's syscalls per
/// delivery several-fold. Bench fanout, one core, Nagle still on: the build
/// before passed 175 sends/s (174k deliveries/s) and failed at 260; with a
/// 4 KiB buffer it passed 600, with 16 KiB 1,000. The cost: the buffer keeps
/// its capacity after a burst, so a connection that once had a full batch
/// holds up to about twice this much until it closes; an idle connection
/// that never did holds only its largest frame.
const WRITE_BUFFER: usize = 16 * 1024;

/// The push channel's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(
    State(app): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // The same rule as for state-changing requests: a page of another
    // origin must not open a socket with the user's cookie.
    if let Err(refusal) = app.origins.check(&headers) {
        crate::security::origin::log_refusal(&refusal, "GET", "/ws");
        return AppError::new(ErrorCode::CrossOrigin).into_response();
    }
    // A draining node opens no new sockets: the client retries (another node).
    if app.drain.is_draining() {
        return AppError::new(ErrorCode::ServerDraining).into_response();
    }
    let CurrentUser { user, session } = current;
    // A support-desk guest has no account, but a socket for their one
    // conversation (they are its only conversation's member).
    let user = match user {
        Some(user) => user,
        None => match session_guest(&session, &app.chat).await {
            Ok(Some(guest)) => guest,
            Ok(None) => return AppError::new(ErrorCode::Unauthenticated).into_response(),
            Err(e) => return e.into_response(),
        },
    };
    let Ok(permit) = app.conn_limit.clone().try_acquire_owned() else {
        tracing::warn!("connection limit reached");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    // Tied to the session, so that logging out closes this socket.
    let session_key = session.id().map(|id| SessionKey(id.0));
    // Subscribe before the upgrade completes so nothing published in between is missed.
    let sub = match app.chat.connect(user.id, session_key).await {
        Ok(sub) => sub,
        Err(e) => return fail(e).into_response(),
    };
    // Boxed once here: the upgrade task then carries a pointer, not the state.
    let conn = Box::new(ConnState {
        chat: app.chat.clone(),
        sub,
        user,
        heartbeat: app.chat.config().heartbeat,
        _permit: permit,
    });
    ws.max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        // Small read buffer: most connections are idle most of the time, and
        // clients only send pings (the buffer grows for a larger frame).
        .read_buffer_size(128)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| serve(Box::new(Live { socket, conn })))
}

fn text(bytes: bytes::Bytes) -> Option<Message> {
    Utf8Bytes::try_from(bytes).ok().map(Message::Text)
}

fn encode(frame: &ServerFrame) -> Option<Message> {
    text(teahouse_domain::hub::encode(frame))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    // Best effort: the peer may already be gone.
    if timeout(
        Duration::from_secs(2),
        socket.send(Message::Close(Some(frame))),
    )
    .await
    .is_err()
    {
        tracing::debug!("close frame not sent in time");
    }
}

/// Why the connection loop stopped.
enum Stop {
    Kicked(KickReason),
    PeerClosed,
    Silent,
    WriteFailed,
}

/// What a connection holds besides its socket, from the upgrade request on.
struct ConnState {
    /// The chat service, for the frames a client sends (typing).
    chat: std::sync::Arc<teahouse_domain::Chat>,
    /// Its queue in the hub (dropping it unsubscribes).
    sub: Subscription,
    /// The session's user, for the hello frame and logs.
    user: UserBrief,
    /// Ping interval; two silent intervals close the connection.
    heartbeat: Duration,
    /// Its slot under `--max-connections`, released on drop.
    _permit: OwnedSemaphorePermit,
}

/// A live connection's whole state, in one heap block.
///
/// Idle connections are the common case, so their memory matters: an async
/// fn keeps its arguments *and* the locals they move into, so passing the
/// socket and friends by value made each connection's future about 1.4 KB.
/// Behind one `Box` (and with the rare large steps boxed separately) it holds
/// a pointer and the `select!` state.
struct Live {
    socket: WebSocket,
    conn: Box<ConnState>,
}

async fn serve(mut live: Box<Live>) {
    let Live { socket, conn } = &mut *live;
    let ConnState {
        chat,
        sub,
        user,
        heartbeat,
        ..
    } = &mut **conn;
    let heartbeat = *heartbeat;
    let conn_id = sub.conn_id;
    tracing::debug!(user_id = %user.id, conn_id, "socket open");
    let hello = encode(&ServerFrame::Hello {
        user: user.clone(),
        heartbeat_secs: heartbeat.as_secs() as u32,
    });
    if let Some(hello) = hello {
        if Box::pin(socket.send(hello)).await.is_err() {
            return;
        }
    }
    let mut ticker = interval_at(Instant::now() + heartbeat, heartbeat);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let stop = loop {
        tokio::select! {
            biased;
            reason = sub.kicked() => break Stop::Kicked(reason),
            first = sub.rx.recv() => {
                // Boxed, like the other rare and large steps below: the
                // connection's future stays small while it idles.
                if !Box::pin(write_batch(socket, sub, first, heartbeat)).await {
                    break Stop::WriteFailed;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    last_heard = Instant::now();
                    match ClientFrame::parse(t.as_str()) {
                        Some(ClientFrame::Ping) => {
                            if let Some(pong) = encode(&ServerFrame::Pong) {
                                if Box::pin(socket.send(pong)).await.is_err() {
                                    break Stop::WriteFailed;
                                }
                            }
                        }
                        Some(ClientFrame::Typing { room_id }) => {
                            // Best effort: a refusal (not a member, too
                            // often) or a failure is not answered.
                            if let Err(e) = Box::pin(chat.typing(user, room_id)).await {
                                tracing::warn!(error = %e, "typing signal failed");
                            }
                        }
                        None => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Stop::PeerClosed,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > heartbeat * 2 {
                    break Stop::Silent;
                }
                let ping = Box::pin(timeout(heartbeat, socket.send(Message::Ping(bytes::Bytes::new()))));
                if ping.await.map_or(true, |r| r.is_err()) {
                    break Stop::WriteFailed;
                }
            }
        }
    };
    Box::pin(say_goodbye(socket, stop, user, conn_id)).await;
}

/// Sends the close frame that tells the client why (and whether to resume).
async fn say_goodbye(socket: &mut WebSocket, stop: Stop, user: &UserBrief, conn_id: u64) {
    match stop {
        Stop::Kicked(KickReason::Lagging) => {
            tracing::info!(
                user_id = %user.id,
                conn_id,
                "slow connection closed; it will resume"
            );
            close(
                socket,
                close_code::RESUME,
                "lagging: resume from your last seq",
            )
            .await;
        }
        Stop::Kicked(KickReason::Shutdown) => {
            close(socket, close_code::SHUTDOWN, "server shutting down").await
        }
        Stop::Kicked(KickReason::SessionEnded) => {
            close(socket, close_code::SESSION_ENDED, "session ended").await
        }
        Stop::Kicked(KickReason::Draining) => {
            close(
                socket,
                close_code::SERVER_DRAINING,
                "server_draining: reconnect and resume",
            )
            .await
        }
        Stop::Silent => close(socket, close_code::HEARTBEAT_TIMEOUT, "heartbeat timeout").await,
        Stop::PeerClosed | Stop::WriteFailed => {}
    }
    tracing::debug!(user_id = %user.id, conn_id, "socket closed");
}

/// Writes `first` and whatever else is already queued, then flushes once.
/// A peer that does not take the data within a heartbeat is given up on.
async fn write_batch(
    socket: &mut WebSocket,
    sub: &Subscription,
    first: bytes::Bytes,
    heartbeat: Duration,
) -> bool {
    let work = async {
        if let Some(m) = text(first) {
            socket.feed(m).await?;
        }
        for _ in 1..WRITE_BATCH {
            let Some(more) = sub.rx.try_recv() else { break };
            if let Some(m) = text(more) {
                socket.feed(m).await?;
            }
        }
        socket.flush().await
    };
    matches!(timeout(heartbeat, work).await, Ok(Ok(())))
}
