//! `GET /compat/ws`: a drop-in for the tutorials' chat socket (seed 000's
//! JSON protocol, see [`wire`]), so a page written for it works after
//! changing only its URL.
//!
//! - **Identity** is the socket's: a sign-in hand-off token in the URL
//!   (`?token=`, from `POST /api/v1/users/{external_id}/handoff`; one use,
//!   so one connection per token, from any origin: the host backend vouched
//!   for the page), else the session cookie (then, as for `/ws`, only from
//!   this server's own origin or `--allowed-origins`). The frames'
//!   `from_user_id` / `from_username` are ignored; answers carry the real
//!   ones (the host's `external_id`, else the Teahouse id).
//! - `join` mode 2 joins the public room of `group_id` (made on first use,
//!   see `teahouse_domain::compat`) and from then on the socket gets its
//!   messages; `join` mode 1 turns on the user's private messages.
//!   `speak` stores a message through the same send path as the app's
//!   (`Chat::send_text`: validation, mutes, rate limit, group commit), in
//!   the room of `group_id` (members only) or in the private chat with
//!   the user whose `external_id` is `to_user_id`. So everything is in the same logs as the
//!   Teahouse UI's, both ways.
//! - A stored message is pushed in the seeds' shape to the sockets that
//!   joined its group, or, in a private chat, to the other person's
//!   sockets that joined mode 1. A private `speak`, which the seed never
//!   echoed, is answered `{code: 0, msg: "success"}` once stored; a group
//!   `speak` is answered by its own delivery to the group, as in the seed.
//! - A bad frame is answered with the seed's error shape (code 400 and a
//!   clear message) and the socket stays open. Queues are bounded (a
//!   client that falls behind is cut off with 4000) and heartbeats find
//!   dead sockets, as on `/ws`.

pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use teahouse_domain::{Chat, DomainError, KickReason, SessionKey, Subscription};
use teahouse_protocol::{
    close_code, ApiError, ConversationEvent, ConversationId, ConversationKind, ErrorCode,
    EventBody, ServerFrame, UserBrief, UserId,
};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{interval_at, timeout, Instant, MissedTickBehavior};

use crate::AppState;
use app::api::ssr::{fail, CurrentUser};
use app::error::AppError;
use wire::{Mode, Parties, Request};

/// Largest frame a client may send: a message at the longest allowed
/// length, every character escaped (`\uXXXX`), with room for the rest.
const MAX_CLIENT_FRAME: usize = 32 * 1024;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/compat/ws", get(upgrade))
}

/// Close code for a socket opened without an identity (policy violation).
const CLOSE_UNAUTHENTICATED: u16 = 1008;

/// The query string: `?token=` (a hand-off token), optional.
#[derive(Debug, Default, serde::Deserialize)]
struct CompatQuery {
    /// A one-time sign-in token for the user this page is for.
    token: Option<String>,
}

/// Why a socket gets no identity.
enum Denied {
    /// An HTTP answer instead of a socket (a foreign origin's cookie).
    Http(Response),
    /// A socket that is told this, then closed: the seeds' pages only log
    /// what they get.
    Tell(ErrorCode),
}

/// Who the socket is for, and the session it is tied to (cookie only).
async fn identify(
    app: &AppState,
    query: &CompatQuery,
    current: CurrentUser,
    headers: &HeaderMap,
) -> Result<(UserBrief, Option<SessionKey>), Denied> {
    if let Some(token) = &query.token {
        let user = match app.chat.redeem_handoff(token).await {
            Ok(id) => app.chat.user(id).await,
            Err(e) => Err(e),
        };
        return match user {
            Ok(Some(user)) => Ok((user, None)),
            Ok(None) => Err(Denied::Tell(ErrorCode::HandoffInvalid)),
            Err(e) if e.is_internal() => Err(Denied::Http(fail(e).into_response())),
            Err(e) => Err(Denied::Tell(e.to_api().code)),
        };
    }
    // The session cookie is ambient authority: a page of another origin
    // must not use it, as on `/ws`.
    if let Err(refusal) = app.origins.check(headers) {
        crate::security::origin::log_refusal(&refusal, "GET", "/compat/ws");
        return Err(Denied::Http(
            AppError::new(ErrorCode::CrossOrigin).into_response(),
        ));
    }
    let CurrentUser { user, session } = current;
    match user {
        Some(user) => Ok((user, session.id().map(|id| SessionKey(id.0)))),
        None => Err(Denied::Tell(ErrorCode::Unauthenticated)),
    }
}

async fn upgrade(
    State(app): State<AppState>,
    query: Result<Query<CompatQuery>, QueryRejection>,
    current: CurrentUser,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Before the identity: a hand-off token is spent when redeemed. A
    // draining node opens no new sockets; the client retries (another node).
    if app.drain.is_draining() {
        return AppError::new(ErrorCode::ServerDraining).into_response();
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let ws = ws
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME);
    let (user, session_key) = match identify(&app, &query, current, &headers).await {
        Ok(found) => found,
        Err(Denied::Http(res)) => return res,
        Err(Denied::Tell(code)) => {
            tracing::info!(
                code = code.as_str(),
                "seed-protocol socket without an identity"
            );
            let why = wire::refusal(&ApiError::new(code));
            return ws.on_upgrade(|mut socket| async move {
                if socket.send(Message::Text(why.into())).await.is_ok() {
                    close(&mut socket, CLOSE_UNAUTHENTICATED, "no identity").await;
                }
            });
        }
    };
    let Ok(permit) = app.conn_limit.clone().try_acquire_owned() else {
        tracing::warn!("connection limit reached");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let sub = match app.chat.connect(user.id, session_key).await {
        Ok(sub) => sub,
        Err(e) => return fail(e).into_response(),
    };
    let conn = SeedConn {
        chat: app.chat.clone(),
        heartbeat: app.chat.config().heartbeat,
        seed_ids: HashMap::new(),
        groups: HashMap::new(),
        private: false,
        kinds: HashMap::new(),
        user,
        _permit: permit,
    };
    ws.on_upgrade(move |socket| serve(socket, sub, conn))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
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

/// One seed-protocol connection's state.
struct SeedConn {
    /// The chat service.
    chat: Arc<Chat>,
    /// Ping interval; two silent intervals close the connection.
    heartbeat: Duration,
    /// The socket's user: the sender of everything it says.
    user: UserBrief,
    /// Users' ids as the seeds name them (see [`SeedConn::seed_id`]).
    seed_ids: HashMap<UserId, String>,
    /// Rooms this socket joined as groups, with their group ids.
    groups: HashMap<ConversationId, String>,
    /// Whether it joined mode 1 (private messages).
    private: bool,
    /// Whether each conversation seen is a private chat (they never stop
    /// being one), so each is looked up once.
    kinds: HashMap<ConversationId, bool>,
    /// Its slot under `--max-connections`.
    _permit: OwnedSemaphorePermit,
}

impl SeedConn {
    /// How the seeds name `user`: the host's `external_id`, else their
    /// Teahouse id (looked up once per user and socket).
    async fn seed_id(&mut self, user: &UserBrief) -> String {
        if let Some(id) = self.seed_ids.get(&user.id) {
            return id.clone();
        }
        let id = match self.chat.seed_user_id(user.id).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "looking up an external id failed");
                return user.id.0.to_string();
            }
        };
        self.seed_ids.insert(user.id, id.clone());
        id
    }

    /// The user whose `external_id` a private `to_user_id` is.
    async fn addressee(&self, to: &str) -> Result<UserBrief, DomainError> {
        self.chat
            .user_by_external_id(to)
            .await
            .map_err(|e| match e {
                DomainError::Rejected(ApiError { code, .. }) => {
                    DomainError::field(code, "to_user_id")
                }
                other => other,
            })?
            .ok_or_else(|| DomainError::field(ErrorCode::NotFound, "to_user_id"))
    }

    /// Whether `room` is a private chat.
    async fn is_direct(&mut self, room: ConversationId) -> bool {
        if let Some(direct) = self.kinds.get(&room) {
            return *direct;
        }
        match self.chat.room_detail(self.user.id, room).await {
            Ok(detail) => {
                let direct = detail.room.kind == ConversationKind::Direct;
                self.kinds.insert(room, direct);
                direct
            }
            // Not a member (any more): nothing of it is for this socket.
            Err(e) => {
                if e.is_internal() {
                    tracing::warn!(error = %e, "looking up a conversation failed");
                }
                false
            }
        }
    }

    /// What to send for a frame from the hub, if anything.
    async fn deliver(&mut self, frame: &[u8]) -> Option<String> {
        let Ok(ServerFrame::Event { event }) = serde_json::from_slice::<ServerFrame>(frame) else {
            return None;
        };
        let EventBody::Message(message) = &event.body else {
            return None;
        };
        let from_id = self.seed_id(&event.actor).await;
        if let Some(group) = self.groups.get(&event.conversation_id) {
            let who = Parties {
                from_id: &from_id,
                from_name: &event.actor.nickname,
                to_id: "",
                group: Some(group),
            };
            return Some(wire::message(&event, &message.content, &who, None));
        }
        if !self.private
            || event.actor.id == self.user.id
            || !self.is_direct(event.conversation_id).await
        {
            return None;
        }
        let me = self.user.clone();
        let to_id = self.seed_id(&me).await;
        let who = Parties {
            from_id: &from_id,
            from_name: &event.actor.nickname,
            to_id: &to_id,
            group: None,
        };
        Some(wire::message(&event, &message.content, &who, None))
    }

    /// A message's text checked before anything else (so an empty one is
    /// `message_empty` wherever it was meant to go).
    fn checked_text(&self, content: &str) -> Result<(), DomainError> {
        teahouse_domain::validate::message_text(content, self.chat.config().max_message_chars)
            .map(drop)
            .map_err(DomainError::from)
    }

    /// Answers one text frame from the client.
    async fn handle(&mut self, text: &str) -> String {
        let request = match wire::parse(text) {
            Ok(r) => r,
            Err(e) => return wire::refusal(&e),
        };
        match self.act(request).await {
            Ok(answer) => answer,
            Err(e) => {
                if e.is_internal() {
                    tracing::error!(error = %e, user_id = %self.user.id, "seed-protocol frame failed");
                }
                wire::refusal(&e.to_api())
            }
        }
    }

    async fn act(&mut self, request: Request) -> Result<String, DomainError> {
        let me = self.user.clone();
        let me_id = self.seed_id(&me).await;
        match request {
            Request::Join {
                mode: Mode::Private,
                raw,
                ..
            } => {
                self.private = true;
                Ok(wire::joined(raw, &me_id, &me.nickname, None))
            }
            Request::Join {
                mode: Mode::Group,
                group,
                raw,
            } => {
                let key = group.unwrap_or_default();
                let room = self.chat.compat_join_group(&me, &key).await?;
                self.groups.insert(room.id, key.trim().to_owned());
                Ok(wire::joined(raw, &me_id, &me.nickname, Some(room.id.0)))
            }
            Request::Speak {
                mode: Mode::Group,
                group,
                content,
                ..
            } => {
                self.checked_text(&content)?;
                let key = group.unwrap_or_default();
                let room = self.chat.compat_group_room(me.id, &key).await?;
                let event = self.send(room, &content).await?;
                if self.groups.contains_key(&room) {
                    // Its delivery to the group (this socket too) says so.
                    return Ok(String::new());
                }
                let who = Parties {
                    from_id: &me_id,
                    from_name: &me.nickname,
                    to_id: "",
                    group: Some(key.trim()),
                };
                Ok(stored(&event, &who))
            }
            Request::Speak {
                mode: Mode::Private,
                to_user,
                content,
                ..
            } => {
                self.checked_text(&content)?;
                let peer = self
                    .addressee(to_user.as_deref().unwrap_or_default())
                    .await?;
                let chat = self
                    .chat
                    .open_direct(&me, peer.id)
                    .await
                    .map_err(|e| with_field(e, "to_user_id"))?;
                let event = self.send(chat.id, &content).await?;
                let to_id = self.seed_id(&peer).await;
                let who = Parties {
                    from_id: &me_id,
                    from_name: &me.nickname,
                    to_id: &to_id,
                    group: None,
                };
                Ok(stored(&event, &who))
            }
        }
    }

    /// Stores `content` from this socket's user in `room`: the app's send
    /// path, with a fresh idempotency key (the seeds have none).
    async fn send(
        &self,
        room: ConversationId,
        content: &str,
    ) -> Result<ConversationEvent, DomainError> {
        self.chat
            .send_text(&self.user, room, &new_client_id(), content)
            .await
    }
}

/// The sender's acknowledgement: the stored message, `msg` "success".
fn stored(event: &ConversationEvent, who: &Parties<'_>) -> String {
    match &event.body {
        EventBody::Message(m) => wire::message(event, &m.content, who, Some("success")),
        _ => wire::answer(0, "success", serde_json::Value::Null),
    }
}

/// `err` about the field `field` if it names none.
fn with_field(err: DomainError, field: &str) -> DomainError {
    match err {
        DomainError::Rejected(ApiError { code, field: None }) => DomainError::field(code, field),
        other => other,
    }
}

/// A fresh idempotency key: a UUIDv7 (its text sorts by time, so the
/// idempotency index appends; as the browser makes them).
fn new_client_id() -> String {
    let random = uuid::Uuid::new_v4().into_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    let millis = u64::try_from(teahouse_domain::now_ms()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &tail)
        .into_uuid()
        .to_string()
}

/// Why the loop stopped.
enum Stop {
    Kicked(KickReason),
    Gone,
    Silent,
}

async fn serve(mut socket: WebSocket, sub: Subscription, mut conn: SeedConn) {
    let heartbeat = conn.heartbeat;
    tracing::debug!(user_id = %conn.user.id, conn_id = sub.conn_id, "seed-protocol socket open");
    let mut ticker = interval_at(Instant::now() + heartbeat, heartbeat);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let stop = loop {
        tokio::select! {
            biased;
            reason = sub.kicked() => break Stop::Kicked(reason),
            frame = sub.rx.recv() => {
                if let Some(out) = conn.deliver(&frame).await {
                    if !send_within(&mut socket, out, heartbeat).await {
                        break Stop::Gone;
                    }
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    last_heard = Instant::now();
                    let answer = conn.handle(t.as_str()).await;
                    if !answer.is_empty() && !send_within(&mut socket, answer, heartbeat).await {
                        break Stop::Gone;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    last_heard = Instant::now();
                    let answer = wire::refusal(&ApiError::new(ErrorCode::CompatJsonInvalid));
                    if !send_within(&mut socket, answer, heartbeat).await {
                        break Stop::Gone;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Stop::Gone,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > heartbeat * 2 {
                    break Stop::Silent;
                }
                let ping = timeout(heartbeat, socket.send(Message::Ping(bytes::Bytes::new())));
                if ping.await.map_or(true, |r| r.is_err()) {
                    break Stop::Gone;
                }
            }
        }
    };
    match stop {
        Stop::Kicked(KickReason::Lagging) => {
            close(&mut socket, close_code::RESUME, "lagging").await
        }
        Stop::Kicked(KickReason::Shutdown) => {
            close(&mut socket, close_code::SHUTDOWN, "server shutting down").await
        }
        Stop::Kicked(KickReason::SessionEnded) => {
            close(&mut socket, close_code::SESSION_ENDED, "session ended").await
        }
        Stop::Kicked(KickReason::Draining) => {
            close(
                &mut socket,
                close_code::SERVER_DRAINING,
                "server_draining: reconnect",
            )
            .await
        }
        Stop::Silent => {
            close(
                &mut socket,
                close_code::HEARTBEAT_TIMEOUT,
                "heartbeat timeout",
            )
            .await
        }
        Stop::Gone => {}
    }
    tracing::debug!(user_id = %conn.user.id, "seed-protocol socket closed");
}

/// Sends one text frame; false if the peer does not take it within a
/// heartbeat or is gone.
async fn send_within(socket: &mut WebSocket, text: String, heartbeat: Duration) -> bool {
    matches!(
        timeout(heartbeat, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}
