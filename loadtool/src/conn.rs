//! One simulated client connection: the TCP connect from a spread-out
//! loopback source address, the WebSocket upgrade and the target's handshake
//! (hello / Engine.IO open + connect / room joins), then a task that reads
//! pushed frames, times every delivery of one of our messages into the
//! [`Recorder`], answers protocol pings and writes frames the scenario queues
//! for it (peer sends). The task ends when the scenario signals stop, the
//! server closes the socket, the socket fails, or the scenario tells it to
//! [`Leave`] (the soak's churn: a clean close, a TCP reset, or going silent
//! until the server gives up on it).

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use teahouse_protocol::{close_code, Seq};

use crate::target::RoomId;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::stats::{bump, now_ns, Marker, Recorder};
use crate::target::{
    classify, join_frame, sio_connect_frame, ws_url, EventLite, Incoming, Session, Target,
    ENGINE_PONG,
};
use crate::wire::{Opcode, SocketEnded, WsConn};

/// What every connection of a run shares.
pub struct Ctx {
    /// Protocol to speak.
    pub target: Target,
    /// Server address (loopback).
    pub server: SocketAddr,
    /// Number of source addresses to spread over (127.0.0.2 ..= 127.0.0.(1+n));
    /// 0 lets the kernel choose (127.0.0.1).
    pub src_ips: u8,
    /// Ask the kernel for arrival stamps (see [`WsConn::arrived_ns`]).
    pub stamp_arrivals: bool,
    /// Where deliveries and errors are counted.
    pub recorder: Arc<Recorder>,
    /// Becomes `true` when the scenario is over.
    pub stop: watch::Receiver<bool>,
}

/// What one connection is asked to do.
pub struct ConnPlan {
    /// Index of the connection in the run (also picks its source address and
    /// histogram shard).
    pub idx: usize,
    /// Who connects.
    pub session: Session,
    /// Rooms to join over the socket before reporting ready (peers only).
    pub rooms: Vec<RoomId>,
    /// When non-zero, count deliveries per message number below this bound
    /// and check per-room seq order (the smoke test's exactly-once check).
    pub track: usize,
    /// Parse every event and check that each room's seqs arrive without a
    /// gap, a repeat or a step back, keeping the last seq per room (the
    /// soak's check, which cannot keep a count per message for hours).
    pub check_seqs: bool,
}

/// How a connection is told to go away (the soak's churn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// Send a close frame (1000) and wait for the server to answer or hang up.
    Close,
    /// Drop the socket with a TCP reset (`SO_LINGER` 0): no close frame.
    Reset,
    /// Stop reading and answering pings, as a peer whose network vanished,
    /// for `hold`; then read what is left and see whether the server ended
    /// the connection meanwhile (its heartbeat or slow-consumer path).
    Silent {
        /// How long to stay silent before checking.
        hold: Duration,
    },
}

/// How a connection that was told to [`Leave`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Close sent; the server answered with a close frame or hung up.
    Closed,
    /// Close sent; the server did neither within [`LEAVE_WAIT`].
    CloseUnanswered,
    /// Reset sent.
    Reset,
    /// Silent; the server had ended the connection when checked, with this
    /// close code (`None`: it hung up without a close frame).
    SilentEnded(Option<u16>),
    /// Silent; the server was still holding the connection open when checked.
    SilentNotEnded,
}

/// How long a leaving connection waits for the server's side of the close,
/// and a silent one reads what is left before deciding it was not ended.
pub const LEAVE_WAIT: Duration = Duration::from_secs(10);

/// A connection that completed its handshake and is reading.
pub struct ConnHandle {
    /// Frames to write on the socket (peer sends). Bounded: a full queue is a
    /// send error, never unbounded memory.
    pub tx: mpsc::Sender<String>,
    /// The reading task; yields its report once stopped.
    pub task: JoinHandle<ConnReport>,
    /// Tells the connection to leave (see [`Leave`]); dropping it unused
    /// changes nothing.
    pub leave: oneshot::Sender<Leave>,
}

/// What a connection saw, returned when its task ends.
#[derive(Debug, Default)]
pub struct ConnReport {
    /// Deliveries of our messages.
    pub deliveries: u64,
    /// With tracking: how many times each message number was delivered.
    pub counts: Vec<u32>,
    /// With tracking: events whose seq did not increase within their room.
    pub order_violations: u64,
    /// With seq checking: events missing between two consecutive events of
    /// a room (seq jumped by more than one).
    pub seq_gaps: u64,
    /// With seq checking: the last seq received per room.
    pub last_seqs: HashMap<RoomId, Seq>,
    /// How the connection went when it was told to leave.
    pub left: Option<Left>,
    /// Why the connection ended before the stop signal, if it did.
    pub ended_early: Option<String>,
}

/// Capacity of a connection's outbound frame queue.
const OUT_QUEUE: usize = 256;

/// Connects, upgrades and completes the target's handshake (bounded by
/// `timeout`), then spawns the reading task.
pub async fn open(plan: ConnPlan, ctx: Arc<Ctx>, timeout: Duration) -> Result<ConnHandle> {
    let ws = tokio::time::timeout(timeout, handshake(&plan, &ctx))
        .await
        .map_err(|_| anyhow!("connection {}: handshake timed out", plan.idx))??;
    let (tx, rx) = mpsc::channel(OUT_QUEUE);
    let (leave, leave_rx) = oneshot::channel();
    let task = tokio::spawn(run(ws, rx, leave_rx, plan, ctx));
    Ok(ConnHandle { tx, task, leave })
}

/// Opens the TCP connection from source address 127.0.0.(2 + idx % n).
async fn connect_tcp(ctx: &Ctx, idx: usize) -> Result<TcpStream> {
    let sock = TcpSocket::new_v4().context("socket()")?;
    if ctx.src_ips > 0 {
        let last = 2 + (idx % ctx.src_ips as usize) as u8;
        let src = SocketAddr::new(Ipv4Addr::new(127, 0, 0, last).into(), 0);
        sock.bind(src)
            .with_context(|| format!("binding source address {src}"))?;
    }
    let stream = sock
        .connect(ctx.server)
        .await
        .with_context(|| format!("connecting to {}", ctx.server))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    Ok(stream)
}

async fn handshake(plan: &ConnPlan, ctx: &Ctx) -> Result<WsConn> {
    let stream = connect_tcp(ctx, plan.idx).await?;
    let url = ws_url(ctx.target, ctx.server, &plan.session);
    let mut ws = WsConn::upgrade(
        stream,
        &url,
        plan.session.cookie.as_deref(),
        ctx.stamp_arrivals,
    )
    .await
    .with_context(|| format!("WebSocket upgrade for {}", plan.session.username))?;
    // Wait for the server to say the connection is ready.
    loop {
        let text = next_text(&mut ws).await?;
        match classify(ctx.target, &text)? {
            Incoming::Ready => break,
            Incoming::EngineOpen => ws
                .send(Opcode::Text, sio_connect_frame().as_bytes())
                .await
                .context("sending Socket.IO connect")?,
            Incoming::EnginePing => ws
                .send(Opcode::Text, ENGINE_PONG.as_bytes())
                .await
                .context("answering ping")?,
            Incoming::Refused(why) => bail!("server refused the connection: {why}"),
            _ => {}
        }
    }
    // Join rooms over the socket (peers) and wait for every confirmation.
    let mut pending: HashSet<RoomId> = HashSet::new();
    for &room in &plan.rooms {
        if let Some(frame) = join_frame(ctx.target, room) {
            ws.queue(Opcode::Text, frame.as_bytes());
            pending.insert(room);
        }
    }
    ws.flush().await.context("sending joins")?;
    while !pending.is_empty() {
        let text = next_text(&mut ws).await?;
        match classify(ctx.target, &text)? {
            Incoming::Joined(room) => {
                pending.remove(&room);
            }
            Incoming::EnginePing => ws
                .send(Opcode::Text, ENGINE_PONG.as_bytes())
                .await
                .context("answering ping")?,
            _ => {}
        }
    }
    Ok(ws)
}

/// The next text frame, answering pings and skipping other control frames;
/// an error on close or EOF.
async fn next_text(ws: &mut WsConn) -> Result<String> {
    loop {
        let (op, range) = ws.next_frame().await.context("reading from the socket")?;
        match op {
            Opcode::Text => {
                return String::from_utf8(ws.payload(range).to_vec())
                    .context("text frame is not UTF-8")
            }
            Opcode::Ping => {
                let payload = ws.payload(range).to_vec();
                ws.send(Opcode::Pong, &payload).await?;
            }
            Opcode::Close => bail!(
                "server closed the socket: {:?}",
                close_of(ws.payload(range))
            ),
            Opcode::Binary | Opcode::Pong => {}
        }
    }
}

/// The code and reason of a close frame's payload.
fn close_of(payload: &[u8]) -> Option<(u16, String)> {
    let code = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
    Some((code, String::from_utf8_lossy(&payload[2..]).into_owned()))
}

/// Per-connection delivery bookkeeping.
struct Tracker {
    /// See [`ConnReport`].
    report: ConnReport,
    /// Last seq seen per room (tracking or seq checking only).
    last_seq: HashMap<RoomId, Seq>,
    /// Tracking enabled.
    track: bool,
    /// Seq checking enabled (see [`ConnPlan::check_seqs`]).
    check_seqs: bool,
}

impl Tracker {
    fn on_event(
        &mut self,
        ev: &EventLite<'_>,
        arrived_ns: Option<u64>,
        shard: usize,
        recorder: &Recorder,
    ) {
        if self.track || self.check_seqs {
            let last = self.last_seq.insert(ev.room_id, ev.seq);
            if let Some(last) = last {
                if ev.seq <= last {
                    self.report.order_violations += 1;
                } else if self.check_seqs && ev.seq > last + 1 {
                    self.report.seq_gaps += (ev.seq - last - 1) as u64;
                }
            }
        }
        let (true, Some(text)) = (ev.body.kind == "message", &ev.body.text) else {
            bump(&recorder.other_frames);
            return;
        };
        let Some(marker) = Marker::parse(text) else {
            bump(&recorder.other_frames);
            return;
        };
        self.on_marker(marker, arrived_ns, shard, recorder);
    }

    /// Records one delivery of our message `marker`, whose bytes reached the
    /// socket at `arrived_ns` (if known).
    fn on_marker(
        &mut self,
        marker: Marker,
        arrived_ns: Option<u64>,
        shard: usize,
        recorder: &Recorder,
    ) {
        let latency_us = now_ns().saturating_sub(marker.sent_ns) / 1000;
        let at_socket_us = arrived_ns.map(|at| at.saturating_sub(marker.sent_ns) / 1000);
        recorder.record(shard, marker.phase, latency_us, at_socket_us);
        self.report.deliveries += 1;
        if self.track {
            if let Some(c) = self.report.counts.get_mut(marker.msg as usize) {
                *c += 1;
            }
        }
    }
}

/// What the reading loop must do after looking at a frame (done once the
/// frame's bytes are no longer borrowed).
enum After {
    Nothing,
    Reply(Opcode, Vec<u8>),
    End(String),
    Leave(Leave),
}

async fn run(
    mut ws: WsConn,
    mut rx: mpsc::Receiver<String>,
    mut leave_rx: oneshot::Receiver<Leave>,
    plan: ConnPlan,
    ctx: Arc<Ctx>,
) -> ConnReport {
    let recorder = &ctx.recorder;
    let mut stop = ctx.stop.clone();
    if *stop.borrow() {
        return ConnReport::default();
    }
    let mut tracker = Tracker {
        report: ConnReport {
            counts: vec![0; plan.track],
            ..ConnReport::default()
        },
        last_seq: HashMap::new(),
        track: plan.track > 0,
        check_seqs: plan.check_seqs,
    };
    // Until the scenario drops its sender unused.
    let mut leave_open = true;
    let mut leave = None;
    // Teahouse sends over HTTP, never on the socket: not polling the empty
    // queue after every frame saves ~2% of the tool's core.
    let mut rx_open = ctx.target != Target::Teahouse;
    // One long-lived future for the stop signal (cheaper than a new one per frame).
    let stopped = async move {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    tokio::pin!(stopped);
    loop {
        let after = tokio::select! {
            // Reading first: a flood of frames is what the tool is measuring.
            biased;
            frame = ws.next_frame() => match frame {
                Ok((Opcode::Text, range)) => {
                    on_text(ctx.target, ws.payload(range), ws.arrived_ns(), &mut tracker, plan.idx, recorder)
                }
                Ok((Opcode::Ping, range)) => After::Reply(Opcode::Pong, ws.payload(range).to_vec()),
                Ok((Opcode::Close, range)) => {
                    let close = close_of(ws.payload(range));
                    bump(&recorder.errors.closed);
                    if close.as_ref().map(|c| c.0) == Some(close_code::RESUME) {
                        bump(&recorder.errors.closed_resume);
                    }
                    After::End(format!("closed by server: {close:?}"))
                }
                Ok((Opcode::Binary | Opcode::Pong, _)) => After::Nothing,
                Err(e) => {
                    if e.downcast_ref::<SocketEnded>().is_some() {
                        bump(&recorder.errors.closed);
                    } else {
                        bump(&recorder.errors.socket);
                    }
                    After::End(format!("read failed: {e:#}"))
                }
            },
            out = rx.recv(), if rx_open => match out {
                Some(frame) => match ws.send(Opcode::Text, frame.as_bytes()).await {
                    Ok(()) => After::Nothing,
                    Err(e) => {
                        bump(&recorder.errors.send);
                        bump(&recorder.errors.socket);
                        After::End(format!("write failed: {e:#}"))
                    }
                },
                None => {
                    rx_open = false;
                    After::Nothing
                }
            },
            how = &mut leave_rx, if leave_open => match how {
                Ok(how) => After::Leave(how),
                Err(_) => {
                    leave_open = false;
                    After::Nothing
                }
            },
            () = &mut stopped => break,
        };
        match after {
            After::Nothing => {}
            After::Reply(op, payload) => {
                if let Err(e) = ws.send(op, &payload).await {
                    bump(&recorder.errors.socket);
                    tracker.report.ended_early = Some(format!("reply write failed: {e:#}"));
                    break;
                }
            }
            After::End(why) => {
                tracker.report.ended_early = Some(why);
                break;
            }
            After::Leave(how) => {
                leave = Some(how);
                break;
            }
        }
    }
    if let Some(how) = leave {
        tracker.report.left = Some(depart(ws, how).await);
    }
    if tracker.check_seqs {
        tracker.report.last_seqs = std::mem::take(&mut tracker.last_seq);
    }
    tracker.report
}

/// Leaves as told; bounded by `hold` plus [`LEAVE_WAIT`]. Frames that
/// arrive meanwhile are not counted: the connection is no longer a member
/// whose deliveries are checked.
async fn depart(mut ws: WsConn, how: Leave) -> Left {
    match how {
        Leave::Reset => {
            ws.reset();
            Left::Reset
        }
        Leave::Close => {
            let normal = 1000u16.to_be_bytes();
            if ws.send(Opcode::Close, &normal).await.is_err() {
                // The server hung up first: it ended the connection anyway.
                return Left::Closed;
            }
            match tokio::time::timeout(LEAVE_WAIT, ended_by_server(&mut ws)).await {
                Ok(_) => Left::Closed,
                Err(_) => Left::CloseUnanswered,
            }
        }
        Leave::Silent { hold } => {
            tokio::time::sleep(hold).await;
            match tokio::time::timeout(LEAVE_WAIT, ended_by_server(&mut ws)).await {
                Ok(code) => Left::SilentEnded(code),
                Err(_) => Left::SilentNotEnded,
            }
        }
    }
}

/// Reads (and drops) frames until the server's close frame, whose code it
/// returns, or until the socket ends (`None`).
async fn ended_by_server(ws: &mut WsConn) -> Option<u16> {
    loop {
        match ws.next_frame().await {
            Ok((Opcode::Close, range)) => return close_of(ws.payload(range)).map(|c| c.0),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Counts a text frame and says what it asks for. Without seq tracking only
/// the marker matters, so it is found without parsing the frame (see
/// [`Marker::find_in_frame`]); anything else gets a full parse.
fn on_text(
    target: Target,
    payload: &[u8],
    arrived_ns: Option<u64>,
    tracker: &mut Tracker,
    shard: usize,
    recorder: &Recorder,
) -> After {
    let Ok(text) = std::str::from_utf8(payload) else {
        bump(&recorder.errors.parse);
        return After::Nothing;
    };
    if !tracker.track && !tracker.check_seqs {
        if let Some(marker) = Marker::find_in_frame(text) {
            tracker.on_marker(marker, arrived_ns, shard, recorder);
            return After::Nothing;
        }
    }
    match classify(target, text) {
        Ok(Incoming::Event(ev)) => {
            tracker.on_event(&ev, arrived_ns, shard, recorder);
            After::Nothing
        }
        Ok(Incoming::EnginePing) => After::Reply(Opcode::Text, ENGINE_PONG.into()),
        Ok(Incoming::Refused(why)) => {
            bump(&recorder.errors.closed);
            After::End(why)
        }
        Ok(_) => {
            bump(&recorder.other_frames);
            After::Nothing
        }
        Err(_) => {
            bump(&recorder.errors.parse);
            After::Nothing
        }
    }
}
