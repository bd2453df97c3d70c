//! The servers the tool can drive and how to speak to each: the Teahouse
//! HTTP server functions (register, rooms, send, history) and `/ws` push;
//! the Node `ws` peer's JSON frames (also spoken by the bare Rust peer); and
//! Socket.IO v5 over an Engine.IO v4 WebSocket. Everything protocol-specific lives here, so the
//! connection and scenario code is the same for every target.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use teahouse_protocol::{ConversationEvent, Seq};

/// A room's id as the load tool handles it: the plain number every peer
/// (Teahouse, ws, Socket.IO, the bare peer) puts on the wire.
pub type RoomId = i64;

/// Which server is under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Teahouse: sends through `POST /api/send_message`, push over `/ws`.
    Teahouse,
    /// Node `ws` peer (bench/peers/ws): sends and push over one socket.
    Ws,
    /// Socket.IO 4 peer (bench/peers/socketio): sends and push over one socket.
    Socketio,
    /// Bare Rust peer (bench/peers/bare): the ws peer's protocol with one
    /// `write` per delivery and nothing else, the floor no server beats
    /// where writes cannot be batched.
    Bare,
}

impl Target {
    /// Short name used in file names and tables.
    pub fn name(self) -> &'static str {
        match self {
            Target::Teahouse => "teahouse",
            Target::Ws => "ws",
            Target::Socketio => "socketio",
            Target::Bare => "bare",
        }
    }
}

/// A logged-in Teahouse user (peers have no accounts; only `username` is used).
#[derive(Clone, Debug)]
pub struct Session {
    /// Login name; peers get it as a query parameter.
    pub username: String,
    /// `Cookie` header value carrying the session (Teahouse only).
    pub cookie: Option<String>,
}

/// Client of Teahouse's server functions (`POST /api/<name>`, form-encoded).
#[derive(Clone)]
pub struct Api {
    /// Shared keep-alive HTTP client; cookies are passed per request.
    http: reqwest::Client,
    /// `http://host:port`.
    base: String,
}

/// The only field of a RoomSummary the tool needs.
#[derive(Deserialize)]
struct RoomIdOnly {
    id: RoomId,
}

impl Api {
    /// A client for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base: format!("http://{addr}"),
        })
    }

    /// `GET /healthz` answered 200.
    pub async fn healthy(&self) -> bool {
        match self.http.get(format!("{}/healthz", self.base)).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    /// Calls server function `name`; returns the response body and, when
    /// asked, the `Set-Cookie` pairs joined as a `Cookie` header value.
    async fn call(
        &self,
        name: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Result<(Vec<u8>, Option<String>)> {
        let mut req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("accept", "application/json")
            .form(form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("POST /api/{name}"))?;
        let status = resp.status();
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|s| s.trim().to_string())
            .collect();
        let body = resp
            .bytes()
            .await
            .with_context(|| format!("reading the answer of /api/{name}"))?;
        if !status.is_success() {
            bail!(
                "/api/{name}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
        Ok((body.to_vec(), cookie))
    }

    /// Registers `username` (which also logs in and joins the lobby).
    pub async fn register(&self, username: &str, password: &str) -> Result<Session> {
        let (_, cookie) = self
            .call(
                "register",
                None,
                &[
                    ("username", username),
                    ("nickname", username),
                    ("password", password),
                ],
            )
            .await?;
        let cookie = cookie.ok_or_else(|| anyhow!("register {username}: no session cookie"))?;
        Ok(Session {
            username: username.to_string(),
            cookie: Some(cookie),
        })
    }

    /// Creates a room owned by `s`; returns its id.
    pub async fn create_room(&self, s: &Session, name: &str) -> Result<RoomId> {
        let (body, _) = self
            .call(
                "create_room",
                s.cookie.as_deref(),
                &[("name", name), ("description", "load test")],
            )
            .await?;
        let room: RoomIdOnly =
            serde_json::from_slice(&body).context("create_room answer is not a RoomSummary")?;
        Ok(room.id)
    }

    /// Makes `s` a member of `room`.
    pub async fn join_room(&self, s: &Session, room: RoomId) -> Result<()> {
        let room = room.to_string();
        self.call("join_room", s.cookie.as_deref(), &[("room_id", &room)])
            .await?;
        Ok(())
    }

    /// Sends a text message; returns once the server has stored it.
    pub async fn send_message(
        &self,
        s: &Session,
        room: RoomId,
        client_id: &str,
        text: &str,
    ) -> Result<()> {
        let room = room.to_string();
        self.call(
            "send_message",
            s.cookie.as_deref(),
            &[("room_id", &room), ("client_id", client_id), ("text", text)],
        )
        .await?;
        Ok(())
    }

    /// Makes a full API key for the server API (`s` must be an admin);
    /// returns its secret.
    pub async fn create_api_key(&self, s: &Session, name: &str) -> Result<String> {
        let (body, _) = self
            .call(
                "admin_create_api_key",
                s.cookie.as_deref(),
                &[("name", name), ("scope", "full")],
            )
            .await?;
        let made: serde_json::Value =
            serde_json::from_slice(&body).context("admin_create_api_key answer is not JSON")?;
        made["secret"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("admin_create_api_key answered without a secret"))
    }

    /// Sends a text to `room` through the server API
    /// (`POST /api/v1/rooms/{room}/messages` with a bearer key); returns
    /// once the server has stored it.
    pub async fn api_send_to_room(
        &self,
        secret: &str,
        room: RoomId,
        client_id: &str,
        text: &str,
    ) -> Result<()> {
        let resp = self
            .http
            .post(format!("{}/api/v1/rooms/{room}/messages", self.base))
            .bearer_auth(secret)
            .json(&serde_json::json!({ "client_id": client_id, "text": text }))
            .send()
            .await
            .with_context(|| format!("POST /api/v1/rooms/{room}/messages"))?;
        let status = resp.status();
        let body = resp.bytes().await.context("reading the API's answer")?;
        if !status.is_success() {
            bail!(
                "/api/v1/rooms/{room}/messages: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        Ok(())
    }

    /// Fetches `limit` events of `room` before seq `before` (the newest when
    /// None); returns the seqs that came back, ascending.
    pub async fn history(
        &self,
        s: &Session,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<i64>> {
        let room = room.to_string();
        let limit = limit.to_string();
        let before = before.map(|b| b.to_string());
        let mut form = vec![("room_id", room.as_str()), ("limit", limit.as_str())];
        if let Some(b) = &before {
            form.push(("before", b.as_str()));
        }
        let (body, _) = self.call("history", s.cookie.as_deref(), &form).await?;
        let events: Vec<ConversationEvent> =
            serde_json::from_slice(&body).context("history answer is not a list of events")?;
        Ok(events.iter().map(|e| e.seq).collect())
    }
}

/// The WebSocket URL one connection opens (the session cookie, if any, goes
/// in the upgrade request's `Cookie` header).
pub fn ws_url(target: Target, addr: SocketAddr, session: &Session) -> String {
    match target {
        Target::Teahouse => format!("ws://{addr}/ws"),
        Target::Ws | Target::Bare => format!("ws://{addr}/ws?user={}", session.username),
        Target::Socketio => format!(
            "ws://{addr}/socket.io/?EIO=4&transport=websocket&user={}",
            session.username
        ),
    }
}

/// The parts of a pushed [`ConversationEvent`] the load tool needs, borrowed from
/// the frame (no allocation per delivery; unknown fields such as the actor
/// are skipped). The tests check it against frames built with
/// `teahouse_protocol::ServerFrame`, so it cannot drift from the protocol.
#[derive(Debug, Deserialize)]
pub struct EventLite<'a> {
    /// Room whose log the event belongs to.
    pub room_id: RoomId,
    /// Position in that log.
    pub seq: Seq,
    /// The event's body.
    #[serde(borrow)]
    pub body: BodyLite<'a>,
}

/// The parts of an [`teahouse_protocol::EventBody`] the load tool needs.
#[derive(Debug, Deserialize)]
pub struct BodyLite<'a> {
    /// `message`, `member_joined`, …
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// The message text (messages only).
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
}

/// A `ServerFrame` (or a peer's frame of the same shape), read lazily.
#[derive(Deserialize)]
struct FrameLite<'a> {
    /// `hello`, `event`, `presence`, `pong`, and the peers' `joined`.
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    /// Present on `event` frames.
    #[serde(borrow, default)]
    event: Option<EventLite<'a>>,
    /// Present on the peers' `joined` frames.
    #[serde(default)]
    room: Option<RoomId>,
}

/// What a server text frame means to the load tool.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// The connection is authenticated and ready (Teahouse/ws `hello`,
    /// Socket.IO `40` connect).
    Ready,
    /// Engine.IO open packet (`0{...}`): answer with [`sio_connect_frame`].
    EngineOpen,
    /// Engine.IO ping (`2`): answer [`ENGINE_PONG`].
    EnginePing,
    /// A room membership was confirmed (peers).
    Joined(RoomId),
    /// A stored room event pushed to this member.
    Event(EventLite<'a>),
    /// Anything else that parsed (presence, pong, …).
    Other,
    /// The server refused the connection (e.g. Socket.IO `44` connect error).
    Refused(String),
}

/// The Engine.IO pong packet.
pub const ENGINE_PONG: &str = "3";

/// The Socket.IO connect packet for the default namespace.
pub fn sio_connect_frame() -> &'static str {
    "40"
}

/// Classifies a text frame; `Err` when it does not parse.
pub fn classify(target: Target, text: &str) -> Result<Incoming<'_>> {
    match target {
        Target::Teahouse | Target::Ws | Target::Bare => {
            let frame: FrameLite = serde_json::from_str(text).context("server frame")?;
            Ok(match (frame.ty.as_ref(), frame.event, frame.room) {
                ("hello", _, _) => Incoming::Ready,
                ("event", Some(event), _) => Incoming::Event(event),
                ("event", None, _) => bail!("event frame without an event"),
                ("joined", _, Some(room)) => Incoming::Joined(room),
                _ => Incoming::Other,
            })
        }
        Target::Socketio => classify_socketio(text),
    }
}

fn classify_socketio(text: &str) -> Result<Incoming<'_>> {
    if let Some(rest) = text.strip_prefix("42") {
        // An event packet: 42["name",data]
        if let Some(data) = rest.strip_prefix(r#"["event","#) {
            let data = data
                .strip_suffix(']')
                .context("unterminated Socket.IO event")?;
            let event: EventLite = serde_json::from_str(data).context("Socket.IO event data")?;
            return Ok(Incoming::Event(event));
        }
        if let Some(data) = rest.strip_prefix(r#"["joined","#) {
            let data = data
                .strip_suffix(']')
                .context("unterminated Socket.IO joined")?;
            return Ok(Incoming::Joined(data.parse().context("joined room id")?));
        }
        return Ok(Incoming::Other);
    }
    if text == "2" {
        return Ok(Incoming::EnginePing);
    }
    if text.starts_with("40") {
        return Ok(Incoming::Ready);
    }
    if text.starts_with("44") {
        return Ok(Incoming::Refused(text.to_string()));
    }
    if text.starts_with('0') {
        return Ok(Incoming::EngineOpen);
    }
    if text.starts_with('1') {
        return Ok(Incoming::Refused("engine.io close".into()));
    }
    Ok(Incoming::Other)
}

/// The frame that joins `room` over the socket (peers only; Teahouse joins
/// over HTTP and pushes every room of the user).
pub fn join_frame(target: Target, room: RoomId) -> Option<String> {
    match target {
        Target::Teahouse => None,
        Target::Ws | Target::Bare => Some(format!(r#"{{"type":"join","room":{room}}}"#)),
        Target::Socketio => Some(format!(r#"42["join",{room}]"#)),
    }
}

/// The frame that sends a message over the socket (peers only).
pub fn send_frame(target: Target, room: RoomId, client_id: &str, text: &str) -> Option<String> {
    #[derive(Serialize)]
    struct Send<'a> {
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        ty: Option<&'a str>,
        room: RoomId,
        client_id: &'a str,
        text: &'a str,
    }
    match target {
        Target::Teahouse => None,
        Target::Ws | Target::Bare => serde_json::to_string(&Send {
            ty: Some("send"),
            room,
            client_id,
            text,
        })
        .ok(),
        Target::Socketio => serde_json::to_string(&Send {
            ty: None,
            room,
            client_id,
            text,
        })
        .ok()
        .map(|json| format!(r#"42["send",{json}]"#)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"room_id":3,"seq":7,"at_ms":1,"actor":{"id":1,"username":"u","nickname":"u"},"body":{"kind":"message","msgtype":"text","text":"lt 0 1 2","client_id":"c1"}}"#;

    #[test]
    fn teahouse_and_ws_frames_classify() {
        let hello =
            r#"{"type":"hello","user":{"id":1,"username":"u","nickname":"u"},"heartbeat_secs":25}"#;
        assert!(matches!(
            classify(Target::Teahouse, hello).unwrap(),
            Incoming::Ready
        ));
        let ev = format!(r#"{{"type":"event","event":{EVENT}}}"#);
        match classify(Target::Ws, &ev).unwrap() {
            Incoming::Event(e) => assert_eq!((e.room_id, e.seq), (3, 7)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(Target::Ws, r#"{"type":"joined","room":5}"#).unwrap(),
            Incoming::Joined(5)
        ));
        assert!(matches!(
            classify(Target::Teahouse, r#"{"type":"pong"}"#).unwrap(),
            Incoming::Other
        ));
        assert!(classify(Target::Teahouse, "garbage").is_err());
    }

    #[test]
    fn markers_are_found_in_whole_frames_of_every_target() {
        use crate::stats::Marker;
        use teahouse_protocol::{EventBody, Message, ServerFrame, UserBrief};
        let marker = Marker {
            phase: 3,
            msg: 41,
            sent_ns: 123_456_789,
        };
        let frame = |text: &str, nickname: &str| {
            serde_json::to_string(&ServerFrame::Event {
                event: ConversationEvent {
                    conversation_id: teahouse_protocol::ConversationId(4),
                    seq: 11,
                    at_ms: 5,
                    actor: UserBrief {
                        id: teahouse_protocol::UserId(9),
                        username: "bob".into(),
                        nickname: nickname.into(),
                        avatar: None,
                        avatar_url: None,
                        bot: false,
                    },
                    body: EventBody::Message(Message::text(text, "c")),
                },
            })
            .unwrap()
        };
        // A nickname that imitates the key is escaped, so it cannot match.
        let teahouse = frame(&marker.text(), r#""text":"lt 9 9 9"#);
        assert_eq!(Marker::find_in_frame(&teahouse), Some(marker));
        let event = serde_json::to_string(
            &serde_json::from_str::<serde_json::Value>(&teahouse).unwrap()["event"],
        )
        .unwrap();
        let socketio = format!(r#"42["event",{event}]"#);
        assert_eq!(Marker::find_in_frame(&socketio), Some(marker));
        assert_eq!(Marker::find_in_frame(&frame("hello", "bob")), None);
        assert_eq!(Marker::find_in_frame(&frame("lt x", "bob")), None);
        assert_eq!(Marker::find_in_frame(r#"{"type":"pong"}"#), None);
    }

    #[test]
    fn lite_parser_reads_frames_built_with_the_protocol_types() {
        use teahouse_protocol::{EventBody, Message, ServerFrame, UserBrief};
        let actor = UserBrief {
            id: teahouse_protocol::UserId(9),
            username: "bob".into(),
            nickname: "鲍勃 \"b\"".into(),
            avatar: None,
            avatar_url: None,
            bot: false,
        };
        let message = ServerFrame::Event {
            event: ConversationEvent {
                conversation_id: teahouse_protocol::ConversationId(4),
                seq: 11,
                at_ms: 5,
                actor: actor.clone(),
                body: EventBody::Message(Message::text("lt 1 2 3 \"quoted\"", "c")),
            },
        };
        let json = serde_json::to_string(&message).unwrap();
        match classify(Target::Teahouse, &json).unwrap() {
            Incoming::Event(e) => {
                assert_eq!((e.room_id, e.seq), (4, 11));
                assert_eq!(e.body.kind, "message");
                assert_eq!(e.body.text.as_deref(), Some("lt 1 2 3 \"quoted\""));
            }
            other => panic!("{other:?}"),
        }
        let joined = ServerFrame::Event {
            event: ConversationEvent {
                conversation_id: teahouse_protocol::ConversationId(4),
                seq: 12,
                at_ms: 5,
                actor: actor.clone(),
                body: EventBody::MemberJoined,
            },
        };
        match classify(Target::Teahouse, &serde_json::to_string(&joined).unwrap()).unwrap() {
            Incoming::Event(e) => assert!(e.body.text.is_none()),
            other => panic!("{other:?}"),
        }
        let hello = ServerFrame::Hello {
            user: actor,
            heartbeat_secs: 25,
        };
        assert!(matches!(
            classify(Target::Teahouse, &serde_json::to_string(&hello).unwrap()).unwrap(),
            Incoming::Ready
        ));
        let presence = ServerFrame::Presence {
            user_id: teahouse_protocol::UserId(1),
            online: true,
        };
        assert!(matches!(
            classify(Target::Teahouse, &serde_json::to_string(&presence).unwrap()).unwrap(),
            Incoming::Other
        ));
    }

    #[test]
    fn socketio_packets_classify() {
        let open = r#"0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert!(matches!(
            classify(Target::Socketio, open).unwrap(),
            Incoming::EngineOpen
        ));
        assert!(matches!(
            classify(Target::Socketio, r#"40{"sid":"y"}"#).unwrap(),
            Incoming::Ready
        ));
        assert!(matches!(
            classify(Target::Socketio, "2").unwrap(),
            Incoming::EnginePing
        ));
        assert!(matches!(
            classify(Target::Socketio, r#"42["joined",12]"#).unwrap(),
            Incoming::Joined(12)
        ));
        match classify(Target::Socketio, &format!(r#"42["event",{EVENT}]"#)).unwrap() {
            Incoming::Event(e) => assert_eq!(e.seq, 7),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(Target::Socketio, r#"44{"message":"no"}"#).unwrap(),
            Incoming::Refused(_)
        ));
    }

    #[test]
    fn send_frames_are_json() {
        assert_eq!(
            send_frame(Target::Ws, 2, "c", "t\"x").unwrap(),
            r#"{"type":"send","room":2,"client_id":"c","text":"t\"x"}"#
        );
        assert_eq!(
            send_frame(Target::Socketio, 2, "c", "t").unwrap(),
            r#"42["send",{"room":2,"client_id":"c","text":"t"}]"#
        );
        assert!(send_frame(Target::Teahouse, 2, "c", "t").is_none());
        assert_eq!(join_frame(Target::Socketio, 4).unwrap(), r#"42["join",4]"#);
    }
}
