//! The bare peer: a room-broadcast server that does as little as a server
//! can — one `write` per delivery, nothing else — speaking the Node `ws`
//! peer's protocol (`bench/peers/ws/server.js`), so the load tool drives it
//! unchanged (`--target bare`).
//!
//! It is a measuring stick, not a product: no accounts, no persistence, no
//! heartbeat. It answers one question: how many deliveries per second can
//! one core make over loopback TCP when the server's own work is close to
//! nothing? In the rooms scenario no socket gets frames often enough for
//! writes to be batched, so every delivery is one `write`, and this peer's
//! maximum bounds what any server, Teahouse included, can reach there.
//!
//! How it stays bare: one thread (one core, like the Node peers); each
//! connection is a task that only reads; a broadcast serializes and frames
//! the event once and writes it straight into every member's socket from the
//! sender's task (`try_write`), so a delivery wakes no other task. Only a
//! socket whose kernel buffer is full gets the rest queued, written by that
//! connection's own flusher task when the socket is writable again.

mod frame;
mod handshake;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::LocalSet;

use frame::{ClientFrame, Opcode};

/// Bytes a connection may have queued (its kernel buffer full) before it is
/// dropped as too slow.
const MAX_BACKLOG: usize = 4 * 1024 * 1024;

/// One WebSocket connection, shared by its reader task, its flusher task
/// and every broadcast that reaches it.
struct Peer {
    /// The socket; every method used here takes `&self`, so the reader and
    /// the writers share it without a lock.
    stream: TcpStream,
    /// Bytes the kernel would not take yet, to be written in order before
    /// any later frame.
    backlog: RefCell<Vec<u8>>,
    /// Wakes the flusher when `backlog` gains bytes.
    flush: Notify,
    /// Set once the connection is gone; later deliveries are dropped.
    closed: Cell<bool>,
}

impl Peer {
    /// Writes one whole frame now if the kernel takes it; queues the rest.
    fn deliver(&self, frame: &[u8]) {
        if self.closed.get() {
            return;
        }
        let mut backlog = self.backlog.borrow_mut();
        if !backlog.is_empty() {
            if backlog.len() + frame.len() > MAX_BACKLOG {
                self.close();
            } else {
                backlog.extend_from_slice(frame);
            }
            return;
        }
        match self.stream.try_write(frame) {
            Ok(n) if n == frame.len() => {}
            Ok(n) => {
                backlog.extend_from_slice(&frame[n..]);
                self.flush.notify_one();
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                backlog.extend_from_slice(frame);
                self.flush.notify_one();
            }
            Err(_) => self.close(),
        }
    }

    fn close(&self) {
        self.closed.set(true);
        self.flush.notify_one();
    }

    /// The flusher: writes queued bytes whenever the socket can take them.
    async fn flush_backlog(self: Rc<Self>) {
        loop {
            self.flush.notified().await;
            loop {
                if self.closed.get() {
                    return;
                }
                if self.backlog.borrow().is_empty() {
                    break;
                }
                if self.stream.writable().await.is_err() {
                    self.close();
                    return;
                }
                let mut backlog = self.backlog.borrow_mut();
                match self.stream.try_write(&backlog) {
                    Ok(n) => {
                        backlog.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => {
                        drop(backlog);
                        self.close();
                        return;
                    }
                }
            }
        }
    }
}

/// A room: its members and the sequence number of its last event.
#[derive(Default)]
struct Room {
    members: Vec<Rc<Peer>>,
    seq: u64,
}

/// Every room, on the one thread.
#[derive(Default)]
struct Rooms {
    by_id: HashMap<u64, Room>,
}

/// The user a connection acts as (named by the `user` query parameter).
#[derive(Serialize)]
struct Actor {
    id: u64,
    username: String,
    nickname: String,
}

/// Frames a client sends.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientMsg {
    Join {
        room: u64,
    },
    Send {
        room: u64,
        client_id: String,
        text: String,
    },
    Ping,
}

/// The pushed event, in the same JSON shape as the ws peer's (and
/// Teahouse's `event` frame).
#[derive(Serialize)]
struct EventFrame<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    event: Event<'a>,
}

#[derive(Serialize)]
struct Event<'a> {
    room_id: u64,
    seq: u64,
    at_ms: u128,
    actor: &'a Actor,
    body: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    kind: &'static str,
    msgtype: &'static str,
    text: &'a str,
    client_id: &'a str,
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9003);
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    LocalSet::new().block_on(&runtime, serve(host, port))
}

async fn serve(host: String, port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind((host.as_str(), port)).await?;
    println!("bare peer listening on {}", listener.local_addr()?);
    let rooms = Rc::new(RefCell::new(Rooms::default()));
    let mut next_user = 0u64;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors and the like: the next accept may work.
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        next_user += 1;
        tokio::task::spawn_local(connection(stream, next_user, rooms.clone()));
    }
}

/// One connection: the upgrade (or `/healthz`), then frames until it ends.
async fn connection(stream: TcpStream, user_id: u64, rooms: Rc<RefCell<Rooms>>) {
    // Same as Node's `ws` and Teahouse: frames go out as they are written.
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = Vec::with_capacity(4096);
    let username = match handshake::accept(&stream, &mut buf).await {
        Ok(Some(username)) => username,
        Ok(None) | Err(_) => return,
    };
    let peer = Rc::new(Peer {
        stream,
        backlog: RefCell::new(Vec::new()),
        flush: Notify::new(),
        closed: Cell::new(false),
    });
    tokio::task::spawn_local(peer.clone().flush_backlog());
    let actor = Actor {
        id: user_id,
        nickname: username.clone(),
        username,
    };
    let hello = serde_json::json!({"type": "hello", "user": &actor, "heartbeat_secs": 25});
    peer.deliver(&frame::text(hello.to_string().as_bytes()));

    let mut joined: Vec<u64> = Vec::new();
    'read: while !peer.closed.get() {
        loop {
            match frame::parse(&mut buf) {
                Ok(Some(ClientFrame { opcode, payload })) => match opcode {
                    Opcode::Text => {
                        handle(&peer, &actor, &payload, &rooms, &mut joined);
                    }
                    Opcode::Ping => peer.deliver(&frame::pong(&payload)),
                    Opcode::Pong => {}
                    Opcode::Close => {
                        peer.deliver(&frame::close());
                        break 'read;
                    }
                },
                Ok(None) => break,
                Err(()) => break 'read,
            }
        }
        if peer.stream.readable().await.is_err() {
            break;
        }
        buf.reserve(4096);
        match peer.stream.try_read_buf(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    peer.close();
    let mut rooms = rooms.borrow_mut();
    for id in joined {
        if let Some(room) = rooms.by_id.get_mut(&id) {
            room.members.retain(|m| !Rc::ptr_eq(m, &peer));
            if room.members.is_empty() {
                rooms.by_id.remove(&id);
            }
        }
    }
}

/// One text frame from a client: join, send (broadcast) or ping.
fn handle(
    peer: &Rc<Peer>,
    actor: &Actor,
    payload: &[u8],
    rooms: &RefCell<Rooms>,
    joined: &mut Vec<u64>,
) {
    // Frames that do not parse are ignored, as the ws peer does.
    let Ok(msg) = serde_json::from_slice::<ClientMsg>(payload) else {
        return;
    };
    match msg {
        ClientMsg::Join { room } => {
            let mut rooms = rooms.borrow_mut();
            let members = &mut rooms.by_id.entry(room).or_default().members;
            if !members.iter().any(|m| Rc::ptr_eq(m, peer)) {
                members.push(peer.clone());
                joined.push(room);
            }
            let reply = format!(r#"{{"type":"joined","room":{room}}}"#);
            peer.deliver(&frame::text(reply.as_bytes()));
        }
        ClientMsg::Send {
            room,
            client_id,
            text,
        } => {
            let mut rooms = rooms.borrow_mut();
            let Some(room_state) = rooms.by_id.get_mut(&room) else {
                return;
            };
            if !room_state.members.iter().any(|m| Rc::ptr_eq(m, peer)) {
                return;
            }
            room_state.seq += 1;
            let at_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let event = EventFrame {
                ty: "event",
                event: Event {
                    room_id: room,
                    seq: room_state.seq,
                    at_ms,
                    actor,
                    body: Body {
                        kind: "message",
                        msgtype: "text",
                        text: &text,
                        client_id: &client_id,
                    },
                },
            };
            let Ok(json) = serde_json::to_vec(&event) else {
                return;
            };
            let bytes = frame::text(&json);
            for member in &room_state.members {
                member.deliver(&bytes);
            }
        }
        ClientMsg::Ping => peer.deliver(&frame::text(br#"{"type":"pong"}"#)),
    }
}
