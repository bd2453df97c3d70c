//! The scenarios (idle, fanout, rooms, persist, smoke; soak in [`soak`]) and
//! the shared machinery they are built from: a [`World`] (server, users,
//! rooms, open connections), a paced sender that goes through each target's real send
//! path, and the measured phase / rate ramp. Every loop here is bounded by a
//! count or a deadline.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::target::RoomId;
use anyhow::{bail, Context, Result};
use futures::StreamExt;
use tokio::sync::{watch, Semaphore};

use crate::conn::{self, ConnHandle, ConnPlan, ConnReport, Ctx};
use crate::procfs::{wait_until_quiet, Machine, ProcSample, Snapshot};
use crate::report::{Figure, Headline, RunResult, Step};
use crate::server::{Server, SpawnOpts};
use crate::stats::{bump, new_histogram, now_ns, ErrorSnapshot, LatencySummary, Marker, Recorder};
use crate::target::{send_frame, Api, Session, Target};

pub mod api_send;
pub mod soak;

/// Options every scenario shares (resolved from the command line).
#[derive(Clone, Debug)]
pub struct Env {
    /// Protocol / server kind.
    pub target: Target,
    /// Spawn the server with these options, unless `external` is set.
    pub spawn: SpawnOpts,
    /// A server that is already running: address and optional pid.
    pub external: Option<(SocketAddr, Option<u32>)>,
    /// Source addresses to spread client sockets over.
    pub src_ips: u8,
    /// Where result JSON files go.
    pub out_dir: PathBuf,
    /// WebSocket handshakes in flight at once.
    pub connect_concurrency: usize,
    /// Registrations (Argon2 on the server) in flight at once.
    pub register_concurrency: usize,
    /// Worker threads of the load tool's runtime.
    pub threads: usize,
    /// Description of this machine.
    pub machine: Machine,
    /// Short unique prefix for user and room names of this run.
    pub run_id: String,
    /// Before starting, wait at most this long for the machine to be quiet.
    pub quiet_wait: Duration,
    /// Name of a set-up variant ("" for the plain one).
    pub variant: String,
    /// Have every socket report when its bytes arrived (`--stamp-arrivals`).
    pub stamp_arrivals: bool,
}

impl Env {
    fn cores_label(&self) -> String {
        if self.external.is_some() {
            "external".into()
        } else {
            self.spawn.cores.clone()
        }
    }

    fn result(&self, scenario: &str, case: String, started: Instant, wall: u64) -> RunResult {
        RunResult {
            scenario: scenario.into(),
            case,
            target: self.target,
            variant: self.variant.clone(),
            server_cores: self.cores_label(),
            loadtool_threads: self.threads,
            headline: Headline {
                name: String::new(),
                value: None,
                higher_is_better: true,
            },
            figures: Vec::new(),
            steps: Vec::new(),
            samples: Vec::new(),
            errors: ErrorSnapshot::default(),
            notes: Vec::new(),
            machine: self.machine.clone(),
            started_unix: wall,
            duration_s: started.elapsed().as_secs_f64(),
        }
    }
}

/// Builds figures from `(name, value)` pairs.
fn figures(pairs: &[(&str, Option<f64>)]) -> Vec<Figure> {
    pairs
        .iter()
        .map(|(n, v)| Figure {
            name: (*n).to_string(),
            value: *v,
        })
        .collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A room of the run.
struct Room {
    /// Server-side id.
    id: RoomId,
    /// Member users (indexes into `World::users`).
    members: Vec<usize>,
}

/// One measured phase of a ramp.
struct PhaseSpec {
    /// Shown in tables.
    label: String,
    /// Phase number carried in the markers.
    phase: u32,
    /// Sends per second.
    rate: f64,
    /// Seconds of sending.
    secs: f64,
    /// The step is over the limit above this p99.
    max_p99_ms: f64,
}

/// Server, users, rooms and connections of one run.
struct World {
    /// The server under test (stopped on drop when spawned).
    server: Server,
    /// Teahouse server-function client (None for peers).
    api: Option<Api>,
    /// Where every connection reports.
    recorder: Arc<Recorder>,
    /// Flipped to `true` to end every connection task.
    stop_tx: watch::Sender<bool>,
    /// Shared by every connection.
    ctx: Arc<Ctx>,
    /// Users (Teahouse: logged in; peers: names only).
    users: Arc<[Session]>,
    /// Rooms and their members.
    rooms: Vec<Room>,
    /// Open connections; `None` where opening failed.
    conns: Vec<Option<ConnHandle>>,
    /// Reports of connections the server closed and that were reopened.
    retired: Vec<ConnReport>,
    /// Open connection indexes of each user.
    user_conns: Vec<Vec<usize>>,
    /// Sends that were acknowledged (Teahouse) or queued (peers).
    sends_ok: Arc<AtomicU64>,
    /// HTTP sends in flight at most (more are counted as backlog).
    inflight: Arc<Semaphore>,
    /// Size of `inflight`.
    max_inflight: usize,
    /// Send → acknowledgement latency of HTTP sends, per phase (µs).
    acks: Arc<Recorder>,
    /// Error messages printed so far (only the first few are printed).
    printed_errors: Arc<AtomicU64>,
    /// Copy of the run options.
    env: Env,
    /// Remarks for the result (e.g. the machine was busy).
    notes: Vec<String>,
}

/// The client id of message `n` of run `run_id`. Zero-padded, so ids sort
/// in the order they are sent, as the browser's time-ordered UUIDv7 ids do
/// (the server's idempotency index is laid out for that).
fn client_id(run_id: &str, n: u64) -> String {
    format!("{run_id}-{n:012}")
}

/// Prints an error unless many have been printed already.
fn print_limited(counter: &AtomicU64, what: &str, e: &anyhow::Error) {
    if counter.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("  {what}: {e:#}");
    }
}

impl World {
    /// Starts (or attaches to) the server.
    async fn start(env: &Env, max_inflight: usize) -> Result<Self> {
        let mut notes = Vec::new();
        if !env.quiet_wait.is_zero() {
            let busy = wait_until_quiet(15.0, env.quiet_wait).await;
            if busy >= 15.0 {
                eprintln!("warning: the machine is busy ({busy:.0}% of a core used by others)");
                notes.push(format!(
                    "the machine was busy when the run started ({busy:.0}% of a core used by other processes)"
                ));
            }
        }
        let server = match env.external {
            Some((addr, pid)) => Server::external(addr, pid),
            None => {
                let t = Instant::now();
                let s = Server::spawn(&env.spawn).await?;
                eprintln!(
                    "{} started on {} (pid {:?}, cores {:?}) in {:.1} s",
                    env.target.name(),
                    s.addr,
                    s.pid,
                    env.spawn.cores,
                    t.elapsed().as_secs_f64()
                );
                s
            }
        };
        let api = match env.target {
            Target::Teahouse => Some(Api::new(server.addr)?),
            _ => None,
        };
        let recorder = Arc::new(Recorder::new(env.threads.max(1) * 4));
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = Arc::new(Ctx {
            target: env.target,
            server: server.addr,
            src_ips: env.src_ips,
            stamp_arrivals: env.stamp_arrivals,
            recorder: recorder.clone(),
            stop: stop_rx,
        });
        Ok(Self {
            server,
            api,
            recorder,
            stop_tx,
            ctx,
            users: Arc::from(Vec::new()),
            rooms: Vec::new(),
            conns: Vec::new(),
            retired: Vec::new(),
            user_conns: Vec::new(),
            sends_ok: Arc::new(AtomicU64::new(0)),
            inflight: Arc::new(Semaphore::new(max_inflight)),
            max_inflight,
            acks: Arc::new(Recorder::new(1)),
            printed_errors: Arc::new(AtomicU64::new(0)),
            env: env.clone(),
            notes,
        })
    }

    /// A result skeleton carrying this world's notes.
    fn result(&self, scenario: &str, case: String, started: Instant, wall: u64) -> RunResult {
        let mut r = self.env.result(scenario, case, started, wall);
        r.notes = self.notes.clone();
        r
    }

    fn server_sample(&self) -> Option<ProcSample> {
        self.server.pid.and_then(|p| ProcSample::read(Some(p)).ok())
    }

    /// Creates `n` users (Teahouse registers them: Argon2 on the server).
    async fn make_users(&mut self, n: usize) -> Result<()> {
        let t = Instant::now();
        let names: Vec<String> = (0..n).map(|i| format!("{}_{i}", self.env.run_id)).collect();
        let users: Vec<Session> = match &self.api {
            None => names
                .into_iter()
                .map(|username| Session {
                    username,
                    cookie: None,
                })
                .collect(),
            Some(api) => {
                let results: Vec<Result<Session>> =
                    futures::stream::iter(names.into_iter().map(|name| {
                        let api = api.clone();
                        async move { api.register(&name, "Bench-pass-2024!").await }
                    }))
                    .buffered(self.env.register_concurrency.max(1))
                    .collect()
                    .await;
                results.into_iter().collect::<Result<Vec<_>>>()?
            }
        };
        if self.api.is_some() {
            eprintln!("registered {n} users in {:.1} s", t.elapsed().as_secs_f64());
        }
        self.user_conns = vec![Vec::new(); users.len()];
        self.users = Arc::from(users);
        Ok(())
    }

    /// Creates rooms with the given members (user indexes; the first member
    /// creates a Teahouse room, the others join it). Peers number rooms from
    /// 1 and join over the socket when connecting.
    async fn make_rooms(&mut self, members: Vec<Vec<usize>>) -> Result<()> {
        let t = Instant::now();
        let n = members.len();
        let Some(api) = self.api.clone() else {
            self.rooms = members
                .into_iter()
                .enumerate()
                .map(|(i, members)| Room {
                    id: i as RoomId + 1,
                    members,
                })
                .collect();
            return Ok(());
        };
        let users = self.users.clone();
        let run_id = self.env.run_id.clone();
        let conc = self.env.register_concurrency.max(1) * 4;
        let rooms: Vec<Result<Room>> =
            futures::stream::iter(members.into_iter().enumerate().map(|(i, members)| {
                let api = api.clone();
                let users = users.clone();
                let name = format!("{run_id} room {i}");
                async move {
                    let owner = members.first().copied().context("a room needs a member")?;
                    let id = api.create_room(&users[owner], &name).await?;
                    for &m in &members[1..] {
                        api.join_room(&users[m], id).await?;
                    }
                    Ok(Room { id, members })
                }
            }))
            .buffered(conc)
            .collect()
            .await;
        self.rooms = rooms.into_iter().collect::<Result<Vec<_>>>()?;
        eprintln!("created {n} rooms in {:.1} s", t.elapsed().as_secs_f64());
        Ok(())
    }

    /// Rooms of each user, for peers that join over the socket (Teahouse
    /// subscribes a connection to its user's rooms by itself).
    fn socket_rooms(&self) -> Vec<Vec<RoomId>> {
        let mut user_rooms: Vec<Vec<RoomId>> = vec![Vec::new(); self.users.len()];
        if self.env.target != Target::Teahouse {
            for room in &self.rooms {
                for &m in &room.members {
                    user_rooms[m].push(room.id);
                }
            }
        }
        user_rooms
    }

    /// Opens the connections of `plans` concurrently, in index order.
    /// Failures are counted and come back as `None`, not as an error.
    async fn open_all(&self, plans: Vec<ConnPlan>) -> Vec<(usize, Option<ConnHandle>)> {
        let ctx = self.ctx.clone();
        let printed = self.printed_errors.clone();
        let recorder = self.recorder.clone();
        let mut opened: Vec<(usize, Option<ConnHandle>)> =
            futures::stream::iter(plans.into_iter().map(|plan| {
                let ctx = ctx.clone();
                let printed = printed.clone();
                let recorder = recorder.clone();
                async move {
                    let idx = plan.idx;
                    match conn::open(plan, ctx, Duration::from_secs(20)).await {
                        Ok(h) => (idx, Some(h)),
                        Err(e) => {
                            bump(&recorder.errors.connect);
                            print_limited(&printed, "connect failed", &e);
                            (idx, None)
                        }
                    }
                }
            }))
            .buffer_unordered(self.env.connect_concurrency.max(1))
            .collect()
            .await;
        opened.sort_by_key(|(idx, _)| *idx);
        opened
    }

    /// Opens `n` connections; connection `i` belongs to user `i % users`.
    /// Returns the seconds it took. Failures are counted, not fatal.
    async fn connect(&mut self, n: usize, track: usize) -> Result<f64> {
        if self.users.is_empty() {
            bail!("no users to connect");
        }
        let t = Instant::now();
        let user_rooms = self.socket_rooms();
        let base = self.conns.len();
        let plans: Vec<ConnPlan> = (0..n)
            .map(|i| {
                let idx = base + i;
                let user = idx % self.users.len();
                ConnPlan {
                    idx,
                    session: self.users[user].clone(),
                    rooms: user_rooms[user].clone(),
                    track,
                    check_seqs: false,
                }
            })
            .collect();
        for (idx, handle) in self.open_all(plans).await {
            if handle.is_some() {
                self.user_conns[idx % self.users.len()].push(idx);
            }
            self.conns.push(handle);
        }
        let secs = t.elapsed().as_secs_f64();
        let failed = self.conns.iter().filter(|c| c.is_none()).count();
        eprintln!(
            "opened {} of {n} connections in {secs:.1} s{}",
            n - failed,
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            }
        );
        Ok(secs)
    }

    /// After the step `label`: reopens the connections the server closed
    /// during it and says so in `notes`.
    async fn reopen_after(&mut self, label: &str, notes: &mut Vec<String>) {
        let (closed, reopened) = self.reopen_closed().await;
        if closed > 0 {
            eprintln!(
                "  {closed} connections closed by the server in step {label}; {reopened} reopened"
            );
            notes.push(format!(
                "the server closed {closed} connections during step {label} (they fell behind); \
                 {reopened} were reopened before the next step"
            ));
        }
    }

    /// Reopens every connection the server closed (a Teahouse socket that
    /// fell too far behind is told to resume, as real clients do), so that
    /// one overloaded step does not leave the next steps with fewer members.
    /// Returns how many were closed and how many of those are open again; a
    /// connection that cannot be reopened leaves its user's fan-out.
    async fn reopen_closed(&mut self) -> (usize, usize) {
        let closed: Vec<usize> = self
            .conns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_ref().is_some_and(|h| h.task.is_finished()))
            .map(|(i, _)| i)
            .collect();
        if closed.is_empty() {
            return (0, 0);
        }
        let user_rooms = self.socket_rooms();
        let mut plans = Vec::with_capacity(closed.len());
        for &idx in &closed {
            if let Some(h) = self.conns[idx].take() {
                // Finished: its report is ready (kept for `finish`).
                if let Ok(report) = h.task.await {
                    self.retired.push(report);
                }
            }
            let user = idx % self.users.len();
            plans.push(ConnPlan {
                idx,
                session: self.users[user].clone(),
                rooms: user_rooms[user].clone(),
                track: 0,
                check_seqs: false,
            });
        }
        let mut reopened = 0;
        for (idx, handle) in self.open_all(plans).await {
            if handle.is_some() {
                reopened += 1;
            } else {
                self.user_conns[idx % self.users.len()].retain(|&c| c != idx);
            }
            self.conns[idx] = handle;
        }
        (closed.len(), reopened)
    }

    /// Connections that would receive one message sent to room `r`.
    fn room_fanout(&self, r: usize) -> u64 {
        self.rooms[r]
            .members
            .iter()
            .map(|&u| self.user_conns[u].len() as u64)
            .sum()
    }

    /// Sends message number `msg` to room `r` as `user`, through the target's
    /// real send path. HTTP sends run as tasks, bounded by the in-flight
    /// limit: with `wait` a free slot is awaited, otherwise a send finding
    /// none is counted as backlog and skipped. Peer sends are queued on one
    /// of the user's sockets.
    async fn send(&self, r: usize, user: usize, phase: u32, msg: u64, wait: bool) {
        let room = self.rooms[r].id;
        let marker = Marker {
            phase,
            msg,
            sent_ns: now_ns(),
        };
        let client_id = client_id(&self.env.run_id, msg);
        let text = marker.text();
        let errors = &self.recorder.errors;
        match &self.api {
            Some(api) => {
                let permit = if wait {
                    self.inflight.clone().acquire_owned().await.ok()
                } else {
                    self.inflight.clone().try_acquire_owned().ok()
                };
                let Some(permit) = permit else {
                    bump(&errors.send_backlog);
                    return;
                };
                let api = api.clone();
                let users = self.users.clone();
                let ok = self.sends_ok.clone();
                let recorder = self.recorder.clone();
                let acks = self.acks.clone();
                let printed = self.printed_errors.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match api
                        .send_message(&users[user], room, &client_id, &text)
                        .await
                    {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            let us = now_ns().saturating_sub(marker.sent_ns) / 1000;
                            acks.record(0, phase, us, None);
                        }
                        Err(e) => {
                            bump(&recorder.errors.send);
                            print_limited(&printed, "send failed", &e);
                        }
                    }
                });
            }
            None => {
                let conns = &self.user_conns[user];
                if conns.is_empty() {
                    bump(&errors.send);
                    return;
                }
                let c = conns[(msg as usize / self.rooms.len().max(1)) % conns.len()];
                let Some(Some(handle)) = self.conns.get(c) else {
                    bump(&errors.send);
                    return;
                };
                let Some(frame) = send_frame(self.env.target, room, &client_id, &text) else {
                    bump(&errors.send);
                    return;
                };
                if handle.tx.try_send(frame).is_err() {
                    bump(&errors.send);
                } else {
                    self.sends_ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// HTTP sends still waiting for their answer.
    fn sends_in_flight(&self) -> usize {
        self.max_inflight
            .saturating_sub(self.inflight.available_permits())
    }

    /// Waits until `phase` has `expected` deliveries, or nothing arrived for
    /// 1 s while no send is in flight, or `max` passed.
    async fn drain(&self, phase: u32, expected: u64, max: Duration) {
        let deadline = Instant::now() + max;
        let mut last = self.recorder.phase_count(phase);
        let mut last_progress = Instant::now();
        while Instant::now() < deadline {
            let now = self.recorder.phase_count(phase);
            if now >= expected {
                return;
            }
            if self.sends_in_flight() > 0 {
                last_progress = Instant::now();
            }
            if now != last {
                last = now;
                last_progress = Instant::now();
            } else if last_progress.elapsed() > Duration::from_secs(1) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until no delivery arrives for `quiet`, at most `max`.
    async fn settle(&self, quiet: Duration, max: Duration) {
        let deadline = Instant::now() + max;
        let mut last = self.recorder.delivered() + self.other_frames();
        let mut since = Instant::now();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.recorder.delivered() + self.other_frames();
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return;
            }
        }
    }

    fn other_frames(&self) -> u64 {
        self.recorder.other_frames.load(Ordering::Relaxed)
    }

    /// Runs one measured phase: `spec.rate` sends/s for `spec.secs`, the
    /// sends chosen by `pick(msg) -> (room index, sender user)`; then drains.
    async fn phase(
        &self,
        spec: PhaseSpec,
        next_msg: &mut u64,
        pick: &dyn Fn(u64) -> (usize, usize),
    ) -> Step {
        let PhaseSpec {
            label,
            phase,
            rate,
            secs,
            max_p99_ms,
        } = spec;
        let errors_before = self.recorder.errors();
        let delivered_before = self.recorder.delivered();
        let snap0 = Snapshot::take(self.server.pid);
        let start = Instant::now();
        let window = Duration::from_secs_f64(secs);
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut sent = 0u64;
        let mut expected = 0u64;
        let total = (rate * secs).ceil() as u64;
        while start.elapsed() < window && sent < total {
            tick.tick().await;
            let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
            while sent < due {
                let msg = *next_msg;
                *next_msg += 1;
                let (r, user) = pick(msg);
                self.send(r, user, phase, msg, false).await;
                expected += self.room_fanout(r);
                sent += 1;
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let snap1 = Snapshot::take(self.server.pid);
        let usage = snap0.usage(&snap1);
        let delivered_in_window = self.recorder.delivered() - delivered_before;
        self.drain(phase, expected, Duration::from_secs(10)).await;
        let hist = self.recorder.phase_histogram(phase);
        let latency = LatencySummary::of(&hist);
        let at_socket =
            Some(LatencySummary::of(&self.recorder.phase_at_socket(phase))).filter(|s| s.count > 0);
        let ack = self
            .api
            .is_some()
            .then(|| LatencySummary::of(&self.acks.phase_histogram(phase)));
        let errors = self.recorder.errors().since(&errors_before);
        let deliveries = self.recorder.phase_count(phase);
        let within_limit =
            latency.p99_ms <= max_p99_ms && deliveries >= expected && errors.total() == 0;
        let step = Step {
            label,
            offered_sends_per_s: rate,
            sends: sent,
            expected_deliveries: expected,
            deliveries,
            deliveries_per_s: delivered_in_window as f64 / elapsed,
            latency,
            at_socket,
            ack,
            server_cpu_pct: usage.server_cpu_pct,
            server_rss_mib: snap1.server.map(|s| mib(s.rss_bytes)),
            loadtool_cpu_pct: usage.loadtool_cpu_pct,
            core_busy_pct: usage.core_busy_pct,
            other_cpu_pct: usage.other_cpu_pct,
            errors,
            within_limit,
        };
        // Figures a step has only for some targets or with some options
        // (send acks: Teahouse; arrival stamps: --stamp-arrivals).
        let optional = |name: &str, p99_ms: Option<f64>| {
            p99_ms.map_or_else(String::new, |v| format!("  {name} p99 {v:>7.2} ms"))
        };
        eprintln!(
            "  {:<14} {:>9.0} deliveries/s  {}/{} delivered  p50 {:>7.2} ms  p99 {:>8.2} ms{}{}  server CPU {:>5.1}%  loadtool CPU {:>5.1}%  others {:>5.1}%  errors {}{}",
            step.label,
            step.deliveries_per_s,
            step.deliveries,
            step.expected_deliveries,
            step.latency.p50_ms,
            step.latency.p99_ms,
            optional("at socket", step.at_socket.map(|a| a.p99_ms)),
            optional("ack", step.ack.map(|a| a.p99_ms)),
            step.server_cpu_pct.unwrap_or(f64::NAN),
            step.loadtool_cpu_pct.unwrap_or(f64::NAN),
            step.other_cpu_pct.unwrap_or(f64::NAN),
            step.errors.total(),
            if step.within_limit { "" } else { "  (over the limit)" }
        );
        step
    }

    /// Stops every connection and collects their reports, followed by those
    /// of connections that were closed and reopened.
    async fn finish(&mut self) -> Vec<Option<ConnReport>> {
        let _ = self.stop_tx.send(true);
        let mut out = Vec::with_capacity(self.conns.len() + self.retired.len());
        for c in self.conns.drain(..) {
            match c {
                Some(h) => {
                    drop(h.tx);
                    match tokio::time::timeout(Duration::from_secs(5), h.task).await {
                        Ok(Ok(report)) => out.push(Some(report)),
                        _ => out.push(None),
                    }
                }
                None => out.push(None),
            }
        }
        out.extend(self.retired.drain(..).map(Some));
        out
    }
}

// ---------------------------------------------------------------- idle --

/// `idle`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct IdleArgs {
    /// Connections to open.
    #[arg(long, default_value_t = 1000)]
    pub conns: usize,
    /// Users the connections belong to (Teahouse registers them; a user may
    /// hold many sockets).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Seconds to wait after the last connection before measuring RSS.
    #[arg(long, default_value_t = 5.0)]
    pub warmup_secs: f64,
}

/// Idle connections: server RSS per connection after warm-up.
pub async fn idle(env: &Env, args: &IdleArgs) -> Result<RunResult> {
    let started = Instant::now();
    let wall = unix_now();
    let mut w = World::start(env, 16).await?;
    w.make_users(args.users.min(args.conns).max(1)).await?;
    // Every user is in one room (Teahouse: the lobby; peers join room 1), as
    // a signed-in chat client would be.
    if env.target != Target::Teahouse {
        let all: Vec<usize> = (0..w.users.len()).collect();
        w.make_rooms(vec![all]).await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base = w.server_sample();
    // Per-connection cost is the slope between two populations: a tenth of
    // the sockets first (the server's allocator, caches and buffers warm up,
    // and memory it freed after start-up, e.g. Argon2 buffers, is reused or
    // returned), then the rest. A before/after difference from the empty
    // server would mix those one-off effects into the figure.
    let warm = (args.conns / 10).max(1).min(args.conns);
    let mut connect_s = w.connect(warm, 0).await?;
    w.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_secs)).await;
    let mid = w.server_sample();
    connect_s += w.connect(args.conns - warm, 0).await?;
    w.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    let snap0 = Snapshot::take(w.server.pid);
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_secs)).await;
    let snap1 = Snapshot::take(w.server.pid);
    let usage = snap0.usage(&snap1);
    let (srv1, me1) = (snap1.server, snap1.me);
    let connected = w.conns.iter().filter(|c| c.is_some()).count();
    let errors = w.recorder.errors();
    let still_open = connected as u64 - errors.closed.min(connected as u64);
    let added = connected.saturating_sub(warm);
    let kb_per_conn = match (mid, srv1) {
        (Some(m), Some(a)) if added > 0 => {
            Some((a.rss_bytes as f64 - m.rss_bytes as f64) / 1024.0 / added as f64)
        }
        _ => None,
    };
    let kb_per_conn_from_empty = match (base, srv1) {
        (Some(b), Some(a)) if connected > 0 => {
            Some((a.rss_bytes as f64 - b.rss_bytes as f64) / 1024.0 / connected as f64)
        }
        _ => None,
    };
    let loadtool_rss = me1.map(|s| mib(s.rss_bytes));
    w.finish().await;
    let mut r = w.result("idle", format!("{} conns", args.conns), started, wall);
    r.headline = Headline {
        name: "kb_per_conn".into(),
        value: kb_per_conn,
        higher_is_better: false,
    };
    r.figures = figures(&[
        ("conns_open", Some(still_open as f64)),
        ("rss_before_mib", base.map(|s| mib(s.rss_bytes))),
        ("rss_at_tenth_mib", mid.map(|s| mib(s.rss_bytes))),
        ("rss_after_mib", srv1.map(|s| mib(s.rss_bytes))),
        ("kb_per_conn", kb_per_conn),
        ("kb_per_conn_from_empty", kb_per_conn_from_empty),
        ("connect_s", Some(connect_s)),
        ("server_cpu_idle_pct", usage.server_cpu_pct),
        ("loadtool_cpu_idle_pct", usage.loadtool_cpu_pct),
        ("others_cpu_pct", usage.other_cpu_pct),
        ("loadtool_rss_mib", loadtool_rss),
    ]);
    r.errors = errors;
    if env.target == Target::Teahouse {
        r.notes.push(format!(
            "{} users, {} sockets each on average, all in the lobby",
            w.users.len(),
            args.conns / w.users.len().max(1)
        ));
    }
    r.duration_s = started.elapsed().as_secs_f64();
    eprintln!(
        "idle {}: {} open, RSS {:.1} → {:.1} (at {warm}) → {:.1} MiB, {:.2} KB/conn ({:.2} from empty)",
        env.target.name(),
        still_open,
        base.map(|s| mib(s.rss_bytes)).unwrap_or(f64::NAN),
        mid.map(|s| mib(s.rss_bytes)).unwrap_or(f64::NAN),
        srv1.map(|s| mib(s.rss_bytes)).unwrap_or(f64::NAN),
        kb_per_conn.unwrap_or(f64::NAN),
        kb_per_conn_from_empty.unwrap_or(f64::NAN)
    );
    Ok(r)
}

// ---------------------------------------------------------- ramp shared --

/// Options of the rate ramp (fanout, rooms).
#[derive(Clone, Debug, clap::Args)]
pub struct RampArgs {
    /// Seconds each rate step sends for.
    #[arg(long, default_value_t = 3.0)]
    pub step_secs: f64,
    /// A step whose p99 exceeds this (ms) ends the ramp.
    #[arg(long, default_value_t = 100.0)]
    pub max_p99_ms: f64,
    /// Send rates to try, in sends per second (comma-separated, increasing).
    /// Default depends on the scenario.
    #[arg(long, value_delimiter = ',')]
    pub rates: Vec<f64>,
    /// HTTP sends in flight at most (Teahouse); more count as backlog errors.
    #[arg(long, default_value_t = 512)]
    pub max_inflight: usize,
}

/// Runs the ramp then the half-of-max step; fills `r`'s headline and figures.
async fn ramp(
    w: &mut World,
    args: &RampArgs,
    default_rates: &[f64],
    pick: &dyn Fn(u64) -> (usize, usize),
    r: &mut RunResult,
) {
    let rates = if args.rates.is_empty() {
        default_rates.to_vec()
    } else {
        args.rates.clone()
    };
    let mut next_msg = 0u64;
    let mut steps: Vec<Step> = Vec::new();
    let mut phase = 0u32;
    'rates: for &rate in &rates {
        // A step over the limit is tried once more before the ramp ends, so
        // that one stall caused by something else on the machine does not
        // end the ramp.
        for attempt in 0..2 {
            let spec = PhaseSpec {
                label: if attempt == 0 {
                    format!("{rate}/s")
                } else {
                    format!("{rate}/s (retry)")
                },
                phase,
                rate,
                secs: args.step_secs,
                max_p99_ms: args.max_p99_ms,
            };
            phase += 1;
            let step = w.phase(spec, &mut next_msg, pick).await;
            let ok = step.within_limit;
            let label = step.label.clone();
            steps.push(step);
            w.settle(Duration::from_millis(300), Duration::from_secs(5))
                .await;
            w.reopen_after(&label, &mut r.notes).await;
            if ok {
                continue 'rates;
            }
        }
        break;
    }
    if steps.last().is_some_and(|s| s.within_limit) {
        r.notes.push(format!(
            "never exceeded p99 {} ms: the highest rate tried is a lower bound",
            args.max_p99_ms
        ));
    }
    let best = steps
        .iter()
        .filter(|s| s.within_limit)
        .max_by(|a, b| a.deliveries_per_s.total_cmp(&b.deliveries_per_s))
        .cloned();
    let Some(best) = best else {
        r.notes
            .push("no step met the limits (p99, no loss, no errors)".into());
        r.headline.value = None;
        r.steps = steps;
        return;
    };
    // Half of max, after letting any backlog of the overloaded step clear.
    w.settle(Duration::from_millis(500), Duration::from_secs(15))
        .await;
    let half_rate = best.offered_sends_per_s / 2.0;
    let spec = PhaseSpec {
        label: "half of max".into(),
        phase,
        rate: half_rate,
        secs: args.step_secs.max(3.0),
        max_p99_ms: f64::INFINITY,
    };
    let half = w.phase(spec, &mut next_msg, pick).await;
    let over = steps.iter().rev().find(|s| !s.within_limit);
    if let Some(o) = over {
        if o.loadtool_cpu_pct.unwrap_or(0.0) >= 85.0 {
            r.notes.push(format!(
                "the load tool used {:.0}% of its core in the step that went over the limit: \
                 the server's maximum may be higher than measured",
                o.loadtool_cpu_pct.unwrap_or(0.0)
            ));
        }
        if o.other_cpu_pct.unwrap_or(0.0) >= 25.0 {
            r.notes.push(format!(
                "other processes used {:.0}% of a core during the step that went over the limit",
                o.other_cpu_pct.unwrap_or(0.0)
            ));
        }
    }
    r.headline.name = "max_deliveries_per_s".into();
    r.headline.value = Some(best.deliveries_per_s);
    r.figures = figures(&[
        ("max_deliveries_per_s", Some(best.deliveries_per_s)),
        ("sends_per_s_at_max", Some(best.offered_sends_per_s)),
        ("p50_ms_at_max", Some(best.latency.p50_ms)),
        ("p99_ms_at_max", Some(best.latency.p99_ms)),
        ("server_cpu_pct_at_max", best.server_cpu_pct),
        ("loadtool_cpu_pct_at_max", best.loadtool_cpu_pct),
        ("others_cpu_pct_at_max", best.other_cpu_pct),
        ("p50_ms_at_half", Some(half.latency.p50_ms)),
        ("p99_ms_at_half", Some(half.latency.p99_ms)),
        ("loadtool_cpu_pct_at_half", half.loadtool_cpu_pct),
        ("next_step_p99_ms", over.map(|s| s.latency.p99_ms)),
        ("server_rss_mib", best.server_rss_mib),
    ]);
    // Only with --stamp-arrivals: otherwise no column of dashes in every table.
    if let Some(at) = half.at_socket {
        r.figures
            .extend(figures(&[("p99_ms_at_socket_at_half", Some(at.p99_ms))]));
    }
    if !half.within_limit {
        r.notes.push(format!(
            "the half-of-max step lost or failed deliveries ({}/{} delivered, {} errors)",
            half.deliveries,
            half.expected_deliveries,
            half.errors.total()
        ));
    }
    steps.push(half);
    r.steps = steps;
}

// -------------------------------------------------------------- fanout --

/// `fanout`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct FanoutArgs {
    /// Members of the one room (one connection each).
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Ramp options.
    #[command(flatten)]
    pub ramp: RampArgs,
}

/// Room fan-out: one room, increasing send rates until p99 exceeds the limit.
pub async fn fanout(env: &Env, args: &FanoutArgs) -> Result<RunResult> {
    let started = Instant::now();
    let wall = unix_now();
    let mut w = World::start(env, args.ramp.max_inflight).await?;
    w.make_users(args.members).await?;
    w.make_rooms(vec![(0..args.members).collect()]).await?;
    w.connect(args.members, 0).await?;
    w.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    let members = args.members.max(1);
    // Senders rotate over the members; every send goes to the one room.
    let pick = move |msg: u64| (0usize, (msg as usize * 7919) % members);
    let mut r = w.result("fanout", format!("{} members", args.members), started, wall);
    // About 15% apart from 100 up, so the maximum found is within ~15% of
    // the true one for every server (coarser steps made the ratio to the
    // peers jump with where each server's limit fell between two steps).
    let rates = [
        10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 115.0, 130.0, 150.0, 175.0, 200.0, 230.0, 260.0,
        300.0, 350.0, 400.0, 460.0, 530.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1150.0, 1300.0,
        1500.0, 1750.0, 2000.0,
    ];
    ramp(&mut w, &args.ramp, &rates, &pick, &mut r).await;
    r.errors = w.recorder.errors();
    if !w.server.alive() {
        r.notes.push("the server exited during the run".into());
    }
    w.finish().await;
    r.duration_s = started.elapsed().as_secs_f64();
    Ok(r)
}

// --------------------------------------------------------------- rooms --

/// `rooms`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct RoomsArgs {
    /// Number of rooms.
    #[arg(long, default_value_t = 1000)]
    pub rooms: usize,
    /// Members per room.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Users (one connection each); each user is in rooms × members / users rooms.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Ramp options.
    #[command(flatten)]
    pub ramp: RampArgs,
}

/// Members of room `r`: users r, r + U/M, r + 2U/M, … (mod U), so every user
/// is in the same number of rooms and rooms overlap evenly.
fn room_members(r: usize, users: usize, members: usize) -> Vec<usize> {
    let stride = (users / members.max(1)).max(1);
    let mut out: Vec<usize> = (0..members).map(|k| (r + k * stride) % users).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Many rooms: mixed senders over many small rooms.
pub async fn rooms(env: &Env, args: &RoomsArgs) -> Result<RunResult> {
    let started = Instant::now();
    let wall = unix_now();
    if args.members > args.users {
        bail!("--members must not exceed --users");
    }
    let mut w = World::start(env, args.ramp.max_inflight).await?;
    w.make_users(args.users).await?;
    let layout: Vec<Vec<usize>> = (0..args.rooms)
        .map(|r| room_members(r, args.users, args.members))
        .collect();
    w.make_rooms(layout).await?;
    w.connect(args.users, 0).await?;
    w.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    let n_rooms = w.rooms.len().max(1);
    let sizes: Vec<usize> = w.rooms.iter().map(|r| r.members.len()).collect();
    let members_of: Vec<Vec<usize>> = w.rooms.iter().map(|r| r.members.clone()).collect();
    // Round-robin over rooms; the sender rotates over each room's members.
    let pick = move |msg: u64| {
        let r = msg as usize % n_rooms;
        let k = (msg as usize / n_rooms) % sizes[r].max(1);
        (r, members_of[r][k])
    };
    let mut r = w.result(
        "rooms",
        format!("{} rooms x {} members", args.rooms, args.members),
        started,
        wall,
    );
    // About 15% apart from 4,000 up (see `fanout`).
    let rates = [
        500.0, 1000.0, 2000.0, 3000.0, 4000.0, 4600.0, 5300.0, 6000.0, 7000.0, 8000.0, 9200.0,
        10500.0, 12000.0, 13800.0, 16000.0, 18500.0, 21000.0, 25000.0, 30000.0,
    ];
    ramp(&mut w, &args.ramp, &rates, &pick, &mut r).await;
    r.errors = w.recorder.errors();
    r.notes.push(format!(
        "{} users with one socket each; each user is in {} rooms",
        args.users,
        args.rooms * args.members / args.users.max(1)
    ));
    if !w.server.alive() {
        r.notes.push("the server exited during the run".into());
    }
    w.finish().await;
    r.duration_s = started.elapsed().as_secs_f64();
    Ok(r)
}

// ------------------------------------------------------------- persist --

/// `persist`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct PersistArgs {
    /// Concurrent senders (one user each, closed loop: next send after the answer).
    #[arg(long, default_value_t = 32)]
    pub senders: usize,
    /// Seconds to send for.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// History pages (50 events) to fetch afterwards.
    #[arg(long, default_value_t = 200)]
    pub history_pages: usize,
    /// Read the history pages from this room (every user is in the lobby,
    /// room 1) instead of the room just filled: used with a database
    /// prefilled by `bench/history10m.sh`.
    #[arg(long)]
    pub history_room: Option<i64>,
}

/// Persisted sends: messages/s through `send_message` to SQLite, then
/// history-page latency.
pub async fn persist(env: &Env, args: &PersistArgs) -> Result<RunResult> {
    if env.target != Target::Teahouse {
        bail!("persist measures Teahouse's storage; the peers store nothing");
    }
    let started = Instant::now();
    let wall = unix_now();
    let mut w = World::start(env, args.senders).await?;
    w.make_users(args.senders.max(1)).await?;
    w.make_rooms(vec![(0..args.senders.max(1)).collect()])
        .await?;
    let api = w.api.clone().context("Teahouse API")?;
    let room = w.rooms[0].id;
    let deadline = Instant::now() + Duration::from_secs_f64(args.secs);
    let snap0 = Snapshot::take(w.server.pid);
    let t0 = Instant::now();
    let run_id = env.run_id.clone();
    // One counter for all senders: ids in the order they are sent.
    let next_id = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..args.senders.max(1))
        .map(|s| {
            let api = api.clone();
            let users = w.users.clone();
            let run_id = run_id.clone();
            let next_id = next_id.clone();
            let printed = w.printed_errors.clone();
            tokio::spawn(async move {
                let mut hist = new_histogram();
                let mut errors = 0u64;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let client_id = client_id(&run_id, next_id.fetch_add(1, Ordering::Relaxed));
                    let text = format!("persist {s} {i}");
                    i += 1;
                    let t = Instant::now();
                    match api.send_message(&users[s], room, &client_id, &text).await {
                        Ok(()) => {
                            hist.saturating_record(t.elapsed().as_micros().max(1) as u64);
                        }
                        Err(e) => {
                            errors += 1;
                            print_limited(&printed, "send failed", &e);
                        }
                    }
                }
                (hist, errors)
            })
        })
        .collect();
    let mut hist = new_histogram();
    let mut send_errors = 0u64;
    for t in tasks {
        let (h, e) = t.await.context("sender task panicked")?;
        let _ = hist.add(&h);
        send_errors += e;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let usage = snap0.usage(&Snapshot::take(w.server.pid));
    let stored = hist.len();
    let sends = LatencySummary::of(&hist);
    // History pages of 50: the newest one first, then pages before cursors
    // spread evenly over the whole log (an old page costs an index seek).
    let history_room = args.history_room.unwrap_or(room);
    let mut hh = new_histogram();
    let mut newest: Option<i64> = None;
    let mut log_len = 0i64;
    for page in 0..args.history_pages {
        let before = newest.map(|last| {
            let span = (last - 50).max(1);
            51 + (page as i64 * 7_919_993) % span
        });
        let t = Instant::now();
        match api.history(&w.users[0], history_room, before, 50).await {
            Ok(seqs) => {
                hh.saturating_record(t.elapsed().as_micros().max(1) as u64);
                if newest.is_none() {
                    newest = seqs.last().copied();
                    log_len = newest.unwrap_or(0);
                }
            }
            Err(e) => {
                send_errors += 1;
                print_limited(&w.printed_errors, "history failed", &e);
            }
        }
    }
    let history = LatencySummary::of(&hh);
    let mut r = w.result(
        "persist",
        format!("{} senders", args.senders),
        started,
        wall,
    );
    r.headline = Headline {
        name: "msgs_per_s".into(),
        value: Some(stored as f64 / elapsed),
        higher_is_better: true,
    };
    r.figures = figures(&[
        ("msgs_per_s", Some(stored as f64 / elapsed)),
        ("send_p50_ms", Some(sends.p50_ms)),
        ("send_p99_ms", Some(sends.p99_ms)),
        ("stored_messages", Some(stored as f64)),
        ("history_p50_ms", Some(history.p50_ms)),
        ("history_p99_ms", Some(history.p99_ms)),
        ("history_log_len", Some(log_len as f64)),
        ("server_cpu_pct", usage.server_cpu_pct),
        ("loadtool_cpu_pct", usage.loadtool_cpu_pct),
        ("others_cpu_pct", usage.other_cpu_pct),
    ]);
    r.errors = ErrorSnapshot {
        send: send_errors,
        ..w.recorder.errors()
    };
    r.notes.push(format!(
        "history pages of 50 read from room {history_room}, whose log holds {log_len} events"
    ));
    eprintln!(
        "persist: {:.0} msgs/s (p50 {:.2} ms, p99 {:.2} ms), history p50 {:.2} ms p99 {:.2} ms ({log_len} events in the log), {} errors",
        stored as f64 / elapsed,
        sends.p50_ms,
        sends.p99_ms,
        history.p50_ms,
        history.p99_ms,
        send_errors
    );
    w.finish().await;
    r.duration_s = started.elapsed().as_secs_f64();
    Ok(r)
}

// --------------------------------------------------------------- smoke --

/// `smoke`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct SmokeArgs {
    /// Connections (all members of one room).
    #[arg(long, default_value_t = 50)]
    pub conns: usize,
    /// Users the connections belong to (several sockets per user).
    #[arg(long, default_value_t = 25)]
    pub users: usize,
    /// Messages to send.
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Seconds to wait for every delivery.
    #[arg(long, default_value_t = 20.0)]
    pub timeout_secs: f64,
}

/// CI smoke: every message must reach every member connection exactly once,
/// in seq order; a retried send (same client id) must not deliver twice.
/// Returns an error describing the first problems when it does not hold.
pub async fn smoke(env: &Env, args: &SmokeArgs) -> Result<()> {
    let t = Instant::now();
    let users = args.users.clamp(1, args.conns.max(1));
    let mut w = World::start(env, 16).await?;
    w.make_users(users).await?;
    w.make_rooms(vec![(0..users).collect()]).await?;
    w.connect(args.conns, args.messages).await?;
    let failed_connects = w.conns.iter().filter(|c| c.is_none()).count();
    if failed_connects > 0 {
        bail!(
            "smoke: {failed_connects} of {} connections failed",
            args.conns
        );
    }
    w.settle(Duration::from_millis(300), Duration::from_secs(10))
        .await;
    let expected_per_msg = w.room_fanout(0);
    // Send every message at a modest pace; each sender rotates.
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    for msg in 0..args.messages as u64 {
        tick.tick().await;
        w.send(0, msg as usize % users, 0, msg, true).await;
    }
    // Retry message 0 with the same client id: Teahouse must answer with the
    // stored event and deliver nothing new.
    let mut retry_error = None;
    if let Some(api) = &w.api {
        let deadline = Instant::now() + Duration::from_secs_f64(args.timeout_secs);
        while w.sends_ok.load(Ordering::Relaxed) + w.recorder.errors().send < args.messages as u64
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let text = Marker {
            phase: 0,
            msg: 0,
            sent_ns: now_ns(),
        }
        .text();
        if let Err(e) = api
            .send_message(
                &w.users[0],
                w.rooms[0].id,
                &client_id(&env.run_id, 0),
                &text,
            )
            .await
        {
            retry_error = Some(format!("{e:#}"));
        }
    }
    let expected = expected_per_msg * args.messages as u64;
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout_secs);
    while w.recorder.delivered() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A little longer, so that duplicates have a chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let errors = w.recorder.errors();
    let latency = LatencySummary::of(&w.recorder.phase_histogram(0));
    let sends_ok = w.sends_ok.load(Ordering::Relaxed);
    let reports = w.finish().await;

    let mut problems: Vec<String> = Vec::new();
    let mut missing = 0u64;
    let mut duplicated = 0u64;
    let mut per_count: BTreeMap<u32, u64> = BTreeMap::new();
    for (i, rep) in reports.iter().enumerate() {
        let Some(rep) = rep else {
            problems.push(format!("connection {i}: task did not report"));
            continue;
        };
        if let Some(why) = &rep.ended_early {
            problems.push(format!("connection {i} ended early: {why}"));
        }
        if rep.order_violations > 0 {
            problems.push(format!(
                "connection {i}: {} events out of seq order",
                rep.order_violations
            ));
        }
        for (m, &c) in rep.counts.iter().enumerate() {
            *per_count.entry(c).or_default() += 1;
            if c == 0 {
                missing += 1;
                if missing <= 5 {
                    problems.push(format!("connection {i}: message {m} never arrived"));
                }
            } else if c > 1 {
                duplicated += 1;
                if duplicated <= 5 {
                    problems.push(format!("connection {i}: message {m} arrived {c} times"));
                }
            }
        }
    }
    if sends_ok != args.messages as u64 {
        problems.push(format!("{} of {} sends succeeded", sends_ok, args.messages));
    }
    if let Some(e) = retry_error {
        problems.push(format!(
            "retrying a send with the same client id failed: {e}"
        ));
    }
    if errors.total() > 0 {
        problems.push(format!("errors: {errors:?}"));
    }
    if expected_per_msg != args.conns as u64 {
        problems.push(format!(
            "only {expected_per_msg} of {} connections are room members",
            args.conns
        ));
    }
    println!(
        "smoke {}: {} connections ({} users) × {} messages: {} deliveries of {} expected, {} missing, {} duplicated, p50 {:.2} ms, p99 {:.2} ms, {:.1} s",
        env.target.name(),
        args.conns,
        users,
        args.messages,
        w.recorder.delivered(),
        expected,
        missing,
        duplicated,
        latency.p50_ms,
        latency.p99_ms,
        t.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        println!(
            "smoke {}: OK, every message delivered exactly once to every member",
            env.target.name()
        );
        Ok(())
    } else {
        if !w.server.log_tail().is_empty() {
            eprintln!("server log (tail):\n{}", w.server.log_tail());
        }
        bail!("smoke FAILED:\n  {}", problems.join("\n  "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_layout_is_even() {
        let users = 1000;
        let mut per_user = vec![0usize; users];
        for r in 0..1000 {
            let m = room_members(r, users, 10);
            assert_eq!(m.len(), 10);
            for u in m {
                per_user[u] += 1;
            }
        }
        assert!(per_user.iter().all(|&n| n == 10));
    }
}
