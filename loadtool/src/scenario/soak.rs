//! `soak`: the stability run of issue 13. Many sockets (10,000) stay open
//! for a long time (10 minutes) while a share of them (1.5%) leaves every
//! second and is replaced: some close cleanly, some are dropped with a TCP
//! reset (no close frame), some go silent until the server's heartbeat or
//! slow-consumer path gives up on them. Meanwhile steady sends (100/s) go
//! round-robin into a few rooms through `POST /api/send_message`.
//!
//! The server's RSS and open file descriptors are sampled every few seconds;
//! least-squares slopes over the samples after the warm-up (KB/min, fds/min)
//! show a leak as a clear positive slope. Descriptors are also read against
//! the load tool's own ("fd excess": each socket has one end in either
//! process), which stays flat however many silent sockets are waiting for
//! their heartbeat and however many pooled HTTP connections are open.
//!
//! Every delivery is checked: the seqs a connection receives in a room must
//! follow each other with no gap, repeat or step back, and every connection
//! still open at the end must have received each of its rooms' last event
//! (one fence message per room, its seq read back from history). A loss, a
//! duplicate, a failed send or a dead path that did not end (an unanswered
//! close, a silent socket the server kept) fails the row.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use teahouse_protocol::{close_code, Seq};

use crate::target::RoomId;
use tokio::task::JoinHandle;

use super::{figures, mib, unix_now, Env, World};
use crate::conn::{ConnHandle, ConnPlan, ConnReport, Leave, Left, LEAVE_WAIT};
use crate::procfs::{load_average_1m, open_fds, Snapshot};
use crate::report::{Headline, RunResult, Sample};
use crate::stats::{least_squares, new_histogram, Fit, LatencySummary, MAX_PHASES};
use crate::target::{Session, Target};

/// `soak`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct SoakArgs {
    /// Sockets kept open (every one that leaves is replaced at once).
    #[arg(long, default_value_t = 10_000)]
    pub conns: usize,
    /// Users the sockets belong to (socket i is user i % users's).
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Rooms the sends go to; user u is a member of room u % rooms (and of
    /// the lobby, where nothing is sent). 40 rooms of 250 sockets make 25k
    /// deliveries/s at 100 sends/s (2.5 frames/s per socket, a chat-like
    /// rate): the soak looks for leaks, and 100k/s would keep both cores of
    /// a shared machine busy with fan-out instead.
    #[arg(long, default_value_t = 40)]
    pub rooms: usize,
    /// Seconds of churn and sends.
    #[arg(long, default_value_t = 600.0)]
    pub secs: f64,
    /// Share of the sockets that leave (and are replaced) every second, %.
    #[arg(long, default_value_t = 1.5)]
    pub churn_pct: f64,
    /// Of the sockets leaving: share that send a close frame, %.
    #[arg(long, default_value_t = 50.0)]
    pub clean_pct: f64,
    /// Of the sockets leaving: share that go silent (no reads, no pongs)
    /// for three heartbeats and two seconds, %. The rest are reset.
    #[arg(long, default_value_t = 10.0)]
    pub silent_pct: f64,
    /// Messages sent per second, round-robin over the rooms.
    #[arg(long, default_value_t = 100.0)]
    pub sends_per_sec: f64,
    /// Seconds between samples of the server's RSS and descriptors.
    #[arg(long, default_value_t = 5.0)]
    pub sample_secs: f64,
    /// Samples of the first this many seconds are left out of the slopes:
    /// caches fill and the silent sockets build up to their steady number
    /// (it takes three heartbeats).
    #[arg(long, default_value_t = 120.0)]
    pub warmup_secs: f64,
    /// The server's heartbeat (passed to a spawned server as
    /// `--heartbeat-secs`; must match an external one's): how long a silent
    /// socket waits for the server to end it.
    #[arg(long, default_value_t = 25)]
    pub heartbeat_secs: u64,
    /// HTTP sends in flight at most; a send finding none free is skipped and
    /// counted.
    #[arg(long, default_value_t = 256)]
    pub max_inflight: usize,
    /// RSS slope (KB/min) above which, by more than two standard errors,
    /// the run reports a suspected leak. 100 KB/min is ~11 bytes per churned
    /// socket at the default churn.
    #[arg(long, default_value_t = 100.0)]
    pub max_rss_slope_kb_per_min: f64,
    /// Slope of the fd excess, server fds − the load tool's (per min), above which, by more than two
    /// standard errors, the run reports a suspected descriptor leak.
    #[arg(long, default_value_t = 0.5)]
    pub max_fd_slope_per_min: f64,
    /// Small sizes for a try that takes seconds: 500 sockets of 20 users in
    /// 4 rooms, 20 s, 2%/s churn, 50 sends/s, heartbeat 1 s, warm-up 6 s,
    /// samples every second (replaces those options).
    #[arg(long)]
    pub quick: bool,
}

impl SoakArgs {
    /// The options in effect (`--quick` replaces the sizes).
    fn resolved(&self) -> SoakArgs {
        if !self.quick {
            return self.clone();
        }
        SoakArgs {
            conns: 500,
            users: 20,
            rooms: 4,
            secs: 20.0,
            churn_pct: 2.0,
            sends_per_sec: 50.0,
            sample_secs: 1.0,
            warmup_secs: 6.0,
            heartbeat_secs: 1,
            ..self.clone()
        }
    }

    /// How long a silent socket stays silent: the server ends it at the
    /// third heartbeat tick after its last pong at the latest.
    fn silent_hold(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs * 3 + 2)
    }
}

/// splitmix64: picks which sockets leave and how (no crate needed for that).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `[0, 100)`.
    fn percent(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    }
}

/// What every connection report added up to.
#[derive(Default, Debug)]
struct Tally {
    /// Reports collected.
    reports: u64,
    /// Connections whose task did not report (panicked or timed out).
    missing_reports: u64,
    /// Events that repeated or went back within a room (duplicates, reorders).
    order_violations: u64,
    /// Events missing between two consecutive events of a room.
    seq_gaps: u64,
    /// Clean closes the server answered.
    closed: u64,
    /// Clean closes the server neither answered nor hung up on.
    close_unanswered: u64,
    /// Resets sent.
    reset: u64,
    /// Silent sockets the server had ended, by how ("4001", "4000", "no close frame").
    silent_ended: BTreeMap<String, u64>,
    /// Silent sockets the server still held open when checked.
    silent_not_ended: u64,
    /// Connections the server ended while they were in use (not told to
    /// leave), by reason.
    server_ended: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, rep: &ConnReport) {
        self.reports += 1;
        self.order_violations += rep.order_violations;
        self.seq_gaps += rep.seq_gaps;
        match rep.left {
            Some(Left::Closed) => self.closed += 1,
            Some(Left::CloseUnanswered) => self.close_unanswered += 1,
            Some(Left::Reset) => self.reset += 1,
            Some(Left::SilentEnded(code)) => {
                let how = code.map_or_else(|| "no close frame".to_string(), |c| c.to_string());
                *self.silent_ended.entry(how).or_default() += 1;
            }
            Some(Left::SilentNotEnded) => self.silent_not_ended += 1,
            None => {
                if let Some(why) = &rep.ended_early {
                    let why: String = why.chars().take(80).collect();
                    *self.server_ended.entry(why).or_default() += 1;
                }
            }
        }
    }

    /// Server ends of in-use connections other than "resume" (4000, a
    /// reader that fell behind: the load tool, when the machine is busy).
    fn unexpected_server_ends(&self) -> u64 {
        let resume = format!("({}, ", close_code::RESUME);
        self.server_ended
            .iter()
            .filter(|(why, _)| !why.contains(&resume))
            .map(|(_, n)| n)
            .sum()
    }
}

/// What the churn asked for.
#[derive(Default, Debug)]
struct Churn {
    /// Told to close cleanly.
    clean: u64,
    /// Told to reset.
    reset: u64,
    /// Told to go silent.
    silent: u64,
    /// Connections reopened because the server had ended them.
    reopened_after_server_end: u64,
}

impl Churn {
    fn total(&self) -> u64 {
        self.clean + self.reset + self.silent
    }
}

/// The connections of the run and the bookkeeping of their churn.
struct Fleet {
    /// Slot i holds connection i (user i % users); `None` while reopening.
    slots: Vec<Option<ConnHandle>>,
    /// Tasks of connections told to leave, until they report.
    departing: Vec<JoinHandle<ConnReport>>,
    /// Every report so far.
    tally: Tally,
    /// What the churn asked for so far.
    churn: Churn,
    /// Users, for the replacement connections.
    users: Arc<[Session]>,
}

impl Fleet {
    fn plan(&self, idx: usize) -> ConnPlan {
        ConnPlan {
            idx,
            session: self.users[idx % self.users.len()].clone(),
            rooms: Vec::new(),
            track: 0,
            check_seqs: true,
        }
    }

    /// Opens the connections of `idxs` into their slots (failures stay `None`).
    async fn open(&mut self, w: &World, idxs: &[usize]) {
        let plans = idxs.iter().map(|&i| self.plan(i)).collect();
        for (i, h) in w.open_all(plans).await {
            self.slots[i] = h;
        }
    }

    /// Sockets held to the server now: open connections and leaving ones.
    fn sockets_held(&self) -> u64 {
        let open = self
            .slots
            .iter()
            .filter(|s| s.as_ref().is_some_and(|h| !h.task.is_finished()))
            .count();
        let leaving = self.departing.iter().filter(|t| !t.is_finished()).count();
        (open + leaving) as u64
    }

    /// Collects the reports of departures that are over.
    async fn reap(&mut self) {
        let mut still = Vec::with_capacity(self.departing.len());
        for t in self.departing.drain(..) {
            if t.is_finished() {
                match t.await {
                    Ok(rep) => self.tally.add(&rep),
                    Err(_) => self.tally.missing_reports += 1,
                }
            } else {
                still.push(t);
            }
        }
        self.departing = still;
    }

    /// Takes connections the server ended (and slots whose opening failed)
    /// out for reopening; returns their indexes.
    async fn ended(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        for i in 0..self.slots.len() {
            let finished = match &self.slots[i] {
                None => true,
                Some(h) => h.task.is_finished(),
            };
            if !finished {
                continue;
            }
            if let Some(h) = self.slots[i].take() {
                self.churn.reopened_after_server_end += 1;
                match h.task.await {
                    Ok(rep) => self.tally.add(&rep),
                    Err(_) => self.tally.missing_reports += 1,
                }
            }
            out.push(i);
        }
        out
    }

    /// Tells up to `k` random open connections to leave; returns their indexes.
    fn send_away(&mut self, k: usize, args: &SoakArgs, rng: &mut Rng) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        let n = self.slots.len();
        let mut attempts = 0;
        while out.len() < k && attempts < 4 * k + 16 && n > 0 {
            attempts += 1;
            let i = rng.below(n);
            let Some(h) = self.slots[i].take() else {
                continue;
            };
            let roll = rng.percent();
            let how = if roll < args.clean_pct {
                self.churn.clean += 1;
                Leave::Close
            } else if roll < args.clean_pct + args.silent_pct {
                self.churn.silent += 1;
                Leave::Silent {
                    hold: args.silent_hold(),
                }
            } else {
                self.churn.reset += 1;
                Leave::Reset
            };
            let ConnHandle { tx, task, leave } = h;
            drop(tx);
            // A task that already ended cannot take it; its report says how it ended.
            let _ = leave.send(how);
            self.departing.push(task);
            out.push(i);
        }
        out
    }
}

/// Reads the sample of this instant; CPU is measured since `prev`.
fn sample(w: &World, fleet: &Fleet, t0: Instant, prev: &mut Snapshot) -> Sample {
    let snap = Snapshot::take(w.server.pid);
    let usage = prev.usage(&snap);
    let s = Sample {
        t_s: signed_secs_since(t0),
        server_rss_kib: snap.server.map(|s| s.rss_bytes / 1024),
        server_fds: w.server.pid.and_then(|p| open_fds(p).ok()),
        client_sockets: fleet.sockets_held(),
        loadtool_fds: open_fds(std::process::id()).ok(),
        loadtool_rss_kib: snap.me.map(|s| s.rss_bytes / 1024),
        server_cpu_pct: usage.server_cpu_pct,
        loadtool_cpu_pct: usage.loadtool_cpu_pct,
        others_cpu_pct: usage.other_cpu_pct,
        load1: load_average_1m(),
        churned: fleet.churn.total(),
        sends_ok: w.sends_ok.load(Ordering::Relaxed),
        deliveries: w.recorder.delivered(),
    };
    *prev = snap;
    s
}

/// Server descriptors minus the load tool's, now.
fn fd_excess_now(pid: Option<u32>) -> Option<f64> {
    let server = open_fds(pid?).ok()? as f64;
    let me = open_fds(std::process::id()).ok()? as f64;
    Some(server - me)
}

/// Seconds from `t0` to now, negative before it.
fn signed_secs_since(t0: Instant) -> f64 {
    let now = Instant::now();
    if now >= t0 {
        now.duration_since(t0).as_secs_f64()
    } else {
        -t0.duration_since(now).as_secs_f64()
    }
}

fn print_sample(s: &Sample) {
    eprintln!(
        "  t {:>6.0} s  RSS {:>8.1} MiB  fds {:>6}  sockets {:>6}  fd excess {:>4}  churned {:>7}  sends {:>7}  deliveries {:>10}  server CPU {:>5.1}%  loadtool {:>5.1}%  others {:>5.1}%  load {:.2}",
        s.t_s,
        s.server_rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0),
        s.server_fds.map_or_else(|| "?".into(), |f| f.to_string()),
        s.client_sockets,
        s.fd_excess().map_or_else(|| "?".into(), |e| e.to_string()),
        s.churned,
        s.sends_ok,
        s.deliveries,
        s.server_cpu_pct.unwrap_or(f64::NAN),
        s.loadtool_cpu_pct.unwrap_or(f64::NAN),
        s.others_cpu_pct.unwrap_or(f64::NAN),
        s.load1.unwrap_or(f64::NAN),
    );
}

/// Sends `sends_per_sec` until `deadline`, round-robin over the rooms, the
/// sender rotating over each room's members; the marker's phase is the
/// minute of the run. Returns how many sends were issued.
async fn send_steadily(w: &World, rate: f64, t0: Instant, deadline: Instant) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let rooms = w.rooms.len().max(1);
    let mut sent = 0u64;
    while Instant::now() < deadline {
        tick.tick().await;
        let due = (t0.elapsed().as_secs_f64() * rate) as u64;
        while sent < due {
            let r = sent as usize % rooms;
            let members = &w.rooms[r].members;
            let user = members[(sent as usize / rooms) % members.len().max(1)];
            w.send(r, user, minute_of(t0), sent, false).await;
            sent += 1;
        }
    }
    sent
}

/// The minute of the run since `t0` (the phase of its messages).
fn minute_of(t0: Instant) -> u32 {
    ((t0.elapsed().as_secs() / 60) as u32).min(MAX_PHASES as u32 - 1)
}

/// Every second until `deadline`: reaps departures, reopens connections the
/// server ended, sends the churn's share away and replaces it; samples every
/// `sample_secs`.
async fn churn_until(
    w: &World,
    fleet: &mut Fleet,
    args: &SoakArgs,
    t0: Instant,
    deadline: Instant,
    samples: &mut Vec<Sample>,
    prev: &mut Snapshot,
) {
    let mut rng = Rng(unix_now() ^ 0x5EED);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let sample_every = Duration::from_secs_f64(args.sample_secs.max(0.5));
    let mut next_sample = t0;
    let mut owed = 0.0f64;
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        fleet.reap().await;
        let mut reopen = fleet.ended().await;
        owed += args.conns as f64 * args.churn_pct / 100.0;
        let k = owed.floor() as usize;
        owed -= k as f64;
        reopen.extend(fleet.send_away(k, args, &mut rng));
        fleet.open(w, &reopen).await;
        if Instant::now() >= next_sample {
            let s = sample(w, fleet, t0, prev);
            print_sample(&s);
            samples.push(s);
            next_sample += sample_every;
        }
    }
}

/// Waits until no HTTP send is in flight, at most `max`.
async fn sends_settled(w: &World, max: Duration) -> bool {
    let deadline = Instant::now() + max;
    while w.sends_in_flight() > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Slope per minute of `value` over the samples from `from_s` to `to_s`.
fn slope(
    samples: &[Sample],
    from_s: f64,
    to_s: f64,
    value: impl Fn(&Sample) -> Option<f64>,
) -> Option<Fit> {
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.t_s >= from_s && s.t_s <= to_s)
        .filter_map(|s| value(s).map(|v| (s.t_s / 60.0, v)))
        .collect();
    least_squares(&points)
}

/// The soak run; returns its result and the problems that fail it.
pub async fn soak(env: &Env, args: &SoakArgs) -> Result<(RunResult, Vec<String>)> {
    if env.target != Target::Teahouse {
        bail!("soak checks Teahouse's server (its history gives each room's last seq)");
    }
    let args = args.resolved();
    if args.users < args.rooms || args.rooms == 0 || args.conns < args.users {
        bail!("soak needs rooms ≥ 1, users ≥ rooms and conns ≥ users");
    }
    let started = Instant::now();
    let wall = unix_now();
    let mut env = env.clone();
    if env.external.is_none() {
        env.spawn.extra_args.extend([
            "--heartbeat-secs".to_string(),
            args.heartbeat_secs.to_string(),
        ]);
    }
    let mut w = World::start(&env, args.max_inflight).await?;
    w.make_users(args.users).await?;
    let layout: Vec<Vec<usize>> = (0..args.rooms)
        .map(|r| (0..args.users).filter(|u| u % args.rooms == r).collect())
        .collect();
    w.make_rooms(layout).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = w.server.pid;
    let base_rss = w.server_sample().map(|s| s.rss_bytes);
    let base_fds = pid.and_then(|p| open_fds(p).ok());
    let base_excess = fd_excess_now(pid);

    let mut fleet = Fleet {
        slots: (0..args.conns).map(|_| None).collect(),
        departing: Vec::new(),
        tally: Tally::default(),
        churn: Churn::default(),
        users: w.users.clone(),
    };
    let t_open = Instant::now();
    let all: Vec<usize> = (0..args.conns).collect();
    fleet.open(&w, &all).await;
    let opened = fleet.slots.iter().filter(|s| s.is_some()).count();
    eprintln!(
        "opened {opened} of {} connections in {:.1} s",
        args.conns,
        t_open.elapsed().as_secs_f64()
    );
    w.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;

    let mut samples: Vec<Sample> = Vec::new();
    let mut prev = Snapshot::take(pid);
    let t0 = Instant::now();
    let first = sample(&w, &fleet, t0, &mut prev);
    print_sample(&first);
    samples.push(first);
    let run_snap = prev.clone();
    let deadline = t0 + Duration::from_secs_f64(args.secs);
    let (issued, ()) = tokio::join!(
        send_steadily(&w, args.sends_per_sec, t0, deadline),
        churn_until(&w, &mut fleet, &args, t0, deadline, &mut samples, &mut prev)
    );
    let window_usage = run_snap.usage(&Snapshot::take(pid));
    let window_s = t0.elapsed().as_secs_f64();
    let last = sample(&w, &fleet, t0, &mut prev);
    print_sample(&last);
    samples.push(last);

    // The fence: one more message per room once every send is answered;
    // its seq, read back from history, is what every open connection must
    // have received last.
    let mut problems: Vec<String> = Vec::new();
    if !sends_settled(&w, Duration::from_secs(30)).await {
        problems.push("sends still unanswered 30 s after the end".into());
    }
    let phase = minute_of(t0);
    for r in 0..w.rooms.len() {
        let user = w.rooms[r].members[0];
        w.send(r, user, phase, issued + r as u64, true).await;
    }
    if !sends_settled(&w, Duration::from_secs(30)).await {
        problems.push("fence sends unanswered after 30 s".into());
    }
    let api = w.api.clone().context("Teahouse API")?;
    let mut final_seq: HashMap<RoomId, Seq> = HashMap::new();
    for room in &w.rooms {
        let reader = &w.users[room.members[0]];
        match api.history(reader, room.id, None, 1).await {
            Ok(seqs) => {
                if let Some(&s) = seqs.last() {
                    final_seq.insert(room.id, s);
                }
            }
            Err(e) => problems.push(format!("reading room {}'s last seq: {e:#}", room.id)),
        }
    }
    w.settle(Duration::from_secs(1), Duration::from_secs(30))
        .await;

    // Stop everything and check every report.
    let _ = w.stop_tx.send(true);
    let mut survivors = 0u64;
    let mut missed_final = 0u64;
    for (i, slot) in fleet.slots.iter_mut().enumerate() {
        let Some(h) = slot.take() else { continue };
        drop(h.tx);
        let rep = match tokio::time::timeout(Duration::from_secs(5), h.task).await {
            Ok(Ok(rep)) => rep,
            _ => {
                fleet.tally.missing_reports += 1;
                continue;
            }
        };
        fleet.tally.add(&rep);
        if rep.ended_early.is_some() {
            continue;
        }
        survivors += 1;
        let room = &w.rooms[(i % args.users) % args.rooms];
        let want = final_seq.get(&room.id).copied();
        let got = rep.last_seqs.get(&room.id).copied();
        if want.is_some() && got != want {
            missed_final += 1;
            if missed_final <= 5 {
                problems.push(format!(
                    "connection {i}: last seq of room {} is {got:?}, the room's is {want:?}",
                    room.id
                ));
            }
        }
    }
    // Silent departures end within their hold and the wait after it.
    let departures_deadline =
        Instant::now() + args.silent_hold() + LEAVE_WAIT + Duration::from_secs(5);
    while fleet.departing.iter().any(|t| !t.is_finished()) && Instant::now() < departures_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unfinished = fleet.departing.iter().filter(|t| !t.is_finished()).count();
    for t in &fleet.departing {
        if !t.is_finished() {
            t.abort();
        }
    }
    fleet.reap().await;
    fleet.tally.missing_reports += unfinished as u64;

    // With every socket gone, the descriptors should be back near where
    // they started (the database pool may have opened a few more).
    let after_deadline = Instant::now() + Duration::from_secs(15);
    let mut after_fds = pid.and_then(|p| open_fds(p).ok());
    while let (Some(now), Some(base)) = (after_fds, base_fds) {
        if now <= base || Instant::now() >= after_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        after_fds = pid.and_then(|p| open_fds(p).ok());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_rss = w.server_sample().map(|s| s.rss_bytes);
    after_fds = pid.and_then(|p| open_fds(p).ok());
    let after_excess = fd_excess_now(pid);

    let errors = w.recorder.errors();
    let sends_ok = w.sends_ok.load(Ordering::Relaxed);
    let deliveries = w.recorder.delivered();
    let mut hist = new_histogram();
    let mut per_minute = Vec::new();
    for m in 0..=phase {
        let h = w.recorder.phase_histogram(m);
        per_minute.push(format!("{:.1}", LatencySummary::of(&h).p99_ms));
        let _ = hist.add(&h);
    }
    let latency = LatencySummary::of(&hist);

    // Slopes over the samples after the warm-up.
    let (from, to) = (args.warmup_secs, args.secs);
    let in_window: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.t_s >= from && s.t_s <= to)
        .collect();
    let start = in_window.first().copied();
    let end = in_window.last().copied();
    let rss_fit = slope(&samples, from, to, |s| s.server_rss_kib.map(|k| k as f64));
    let fds_fit = slope(&samples, from, to, |s| s.server_fds.map(|f| f as f64));
    let excess = |s: &Sample| s.fd_excess();
    let excess_fit = slope(&samples, from, to, excess);
    let rss_leak =
        rss_fit.is_some_and(|f| f.slope - 2.0 * f.slope_stderr > args.max_rss_slope_kb_per_min);
    let fd_leak =
        excess_fit.is_some_and(|f| f.slope - 2.0 * f.slope_stderr > args.max_fd_slope_per_min);
    let load1: Vec<f64> = in_window.iter().filter_map(|s| s.load1).collect();
    let load1_mean = (!load1.is_empty()).then(|| load1.iter().sum::<f64>() / load1.len() as f64);

    let t = &fleet.tally;
    let silent_ended: u64 = t.silent_ended.values().sum();
    let lost = t.seq_gaps + missed_final;
    if t.seq_gaps > 0 {
        problems.push(format!(
            "{} events missing between consecutive events of a room",
            t.seq_gaps
        ));
    }
    if missed_final > 0 {
        problems.push(format!(
            "{missed_final} connections open at the end missed their room's last event"
        ));
    }
    if t.order_violations > 0 {
        problems.push(format!(
            "{} events repeated or out of seq order",
            t.order_violations
        ));
    }
    if errors.send > 0 {
        problems.push(format!("{} sends failed", errors.send));
    }
    if errors.connect > 0 {
        problems.push(format!("{} connects failed", errors.connect));
    }
    if t.close_unanswered > 0 {
        problems.push(format!(
            "{} clean closes the server neither answered nor hung up on within {} s",
            t.close_unanswered,
            LEAVE_WAIT.as_secs()
        ));
    }
    if t.silent_not_ended > 0 {
        problems.push(format!(
            "{} silent sockets the server had not ended after {} s",
            t.silent_not_ended,
            args.silent_hold().as_secs()
        ));
    }
    if t.unexpected_server_ends() > 0 {
        problems.push(format!(
            "the server ended in-use connections: {:?}",
            t.server_ended
        ));
    }
    if t.missing_reports > 0 {
        problems.push(format!("{} connections did not report", t.missing_reports));
    }

    let mut r = w.result("soak", format!("{} conns", args.conns), started, wall);
    r.headline = Headline {
        name: "rss_slope_kb_per_min".into(),
        value: rss_fit.map(|f| f.slope),
        higher_is_better: false,
    };
    let n = |v: u64| Some(v as f64);
    let mib_of = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    r.figures = figures(&[
        ("conns", n(args.conns as u64)),
        ("secs", Some(window_s)),
        ("churned", n(fleet.churn.total())),
        ("churned_clean", n(fleet.churn.clean)),
        ("churned_reset", n(fleet.churn.reset)),
        ("churned_silent", n(fleet.churn.silent)),
        ("silent_ended_by_server", n(silent_ended)),
        (
            "reopened_after_server_end",
            n(fleet.churn.reopened_after_server_end),
        ),
        ("sends_ok", n(sends_ok)),
        ("sends_skipped", n(errors.send_backlog)),
        ("deliveries", n(deliveries)),
        (
            "deliveries_per_s",
            Some(deliveries as f64 / window_s.max(1e-9)),
        ),
        ("lost", n(lost)),
        ("dup_or_reordered", n(t.order_violations)),
        ("p50_ms", Some(latency.p50_ms)),
        ("p99_ms", Some(latency.p99_ms)),
        ("rss_base_mib", base_rss.map(mib)),
        (
            "rss_start_mib",
            start.and_then(|s| mib_of(s.server_rss_kib)),
        ),
        ("rss_end_mib", end.and_then(|s| mib_of(s.server_rss_kib))),
        ("rss_slope_kb_per_min", rss_fit.map(|f| f.slope)),
        ("rss_slope_stderr", rss_fit.map(|f| f.slope_stderr)),
        ("rss_after_close_mib", after_rss.map(mib)),
        ("fds_base", base_fds.map(|f| f as f64)),
        (
            "fds_start",
            start.and_then(|s| s.server_fds.map(|f| f as f64)),
        ),
        ("fds_end", end.and_then(|s| s.server_fds.map(|f| f as f64))),
        ("fds_slope_per_min", fds_fit.map(|f| f.slope)),
        ("fds_after_close", after_fds.map(|f| f as f64)),
        ("fd_excess_base", base_excess),
        ("fd_excess_start", start.and_then(excess)),
        ("fd_excess_end", end.and_then(excess)),
        ("fd_excess_slope_per_min", excess_fit.map(|f| f.slope)),
        ("fd_excess_after_close", after_excess),
        ("server_cpu_pct", window_usage.server_cpu_pct),
        ("loadtool_cpu_pct", window_usage.loadtool_cpu_pct),
        ("others_cpu_pct", window_usage.other_cpu_pct),
        ("load1_mean", load1_mean),
        (
            "leak_suspected",
            Some(if rss_leak || fd_leak { 1.0 } else { 0.0 }),
        ),
    ]);
    r.errors = errors;
    r.samples = samples;
    let fit_text = |f: Option<Fit>, unit: &str| {
        f.map_or_else(
            || "n/a".to_string(),
            |f| {
                format!(
                    "{:+.2} ± {:.2} {unit} ({} samples)",
                    f.slope, f.slope_stderr, f.n
                )
            },
        )
    };
    r.notes.push(format!(
        "{} sockets of {} users in {} rooms; every second {}% of them left and were replaced \
         ({}% with a close frame, {}% silent for {} s, the rest reset); {} sends/s; \
         server heartbeat {} s; slopes by least squares over the samples from {} s to {} s",
        args.conns,
        args.users,
        args.rooms,
        args.churn_pct,
        args.clean_pct,
        args.silent_pct,
        args.silent_hold().as_secs(),
        args.sends_per_sec,
        args.heartbeat_secs,
        args.warmup_secs,
        args.secs
    ));
    r.notes.push(format!(
        "RSS slope {}; fds slope {}; fd excess (server − loadtool fds) slope {}",
        fit_text(rss_fit, "KB/min"),
        fit_text(fds_fit, "fds/min"),
        fit_text(excess_fit, "fds/min")
    ));
    r.notes.push(format!(
        "leaves: {} clean closes answered, {} resets, silent sockets ended by the server {:?} \
         (code, or no close frame), {} not ended; connections the server ended while in use: {:?}",
        t.closed, t.reset, t.silent_ended, t.silent_not_ended, t.server_ended
    ));
    r.notes.push(format!(
        "{survivors} connections open at the end, each checked for its room's last event; \
         delivery p99 per minute (ms): {}",
        per_minute.join(", ")
    ));
    r.notes.push(if rss_leak || fd_leak {
        format!(
            "LEAK SUSPECTED: {}{}",
            if rss_leak { "RSS grows faster than the limit; " } else { "" },
            if fd_leak { "descriptors beyond the open sockets grow" } else { "" }
        )
    } else {
        format!(
            "no leak indicated: RSS slope within {} KB/min and fd excess (server − loadtool fds) slope within {} /min (two standard errors)",
            args.max_rss_slope_kb_per_min, args.max_fd_slope_per_min
        )
    });
    if args.secs - args.warmup_secs < 300.0 {
        r.notes.push(
            "the window after the warm-up is under 5 minutes: slopes over it say little \
             (allocator and cache warm-up dominate)"
                .into(),
        );
    }
    if window_usage.other_cpu_pct.unwrap_or(0.0) >= 25.0 {
        r.notes.push(format!(
            "other processes used {:.0}% of a core during the run (mean load average {:.2}): \
             throughput and latency figures are not meaningful, the slopes are",
            window_usage.other_cpu_pct.unwrap_or(0.0),
            load1_mean.unwrap_or(f64::NAN)
        ));
    }
    if !w.server.alive() {
        problems.push("the server exited during the run".into());
    }
    eprintln!(
        "soak: churned {} ({} clean, {} reset, {} silent), {} sends ok, {} deliveries, {} lost, {} dup/reordered; RSS {}; fd excess {}",
        fleet.churn.total(),
        fleet.churn.clean,
        fleet.churn.reset,
        fleet.churn.silent,
        sends_ok,
        deliveries,
        lost,
        t.order_violations,
        fit_text(rss_fit, "KB/min"),
        fit_text(excess_fit, "fds/min"),
    );
    if !problems.is_empty() && !w.server.log_tail().is_empty() {
        eprintln!("server log (tail):\n{}", w.server.log_tail());
    }
    w.finish().await;
    r.duration_s = started.elapsed().as_secs_f64();
    Ok((r, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_replaces_the_sizes_and_silence_outlasts_three_heartbeats() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            soak: SoakArgs,
        }
        let full = Cli::parse_from(["soak"]).soak.resolved();
        assert_eq!((full.conns, full.secs), (10_000, 600.0));
        assert_eq!(full.silent_hold(), Duration::from_secs(77));
        let quick = Cli::parse_from(["soak", "--quick"]).soak.resolved();
        assert_eq!((quick.conns, quick.users, quick.rooms), (500, 20, 4));
        assert!(quick.silent_hold() > Duration::from_secs(quick.heartbeat_secs * 3));
    }

    #[test]
    fn rng_spreads_over_the_range() {
        let mut rng = Rng(1);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[rng.below(10)] += 1;
            let p = rng.percent();
            assert!((0.0..100.0).contains(&p));
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn tally_counts_leaves_and_tells_resume_from_other_server_ends() {
        let mut t = Tally::default();
        t.add(&ConnReport {
            left: Some(Left::SilentEnded(Some(4001))),
            ..ConnReport::default()
        });
        t.add(&ConnReport {
            left: Some(Left::SilentEnded(None)),
            seq_gaps: 2,
            ..ConnReport::default()
        });
        t.add(&ConnReport {
            ended_early: Some("closed by server: Some((4000, \"lagging\"))".into()),
            ..ConnReport::default()
        });
        assert_eq!(t.unexpected_server_ends(), 0);
        t.add(&ConnReport {
            ended_early: Some("read failed: socket ended".into()),
            ..ConnReport::default()
        });
        assert_eq!(t.unexpected_server_ends(), 1);
        assert_eq!(t.silent_ended.get("4001"), Some(&1));
        assert_eq!(t.silent_ended.get("no close frame"), Some(&1));
        assert_eq!((t.reports, t.seq_gaps), (4, 2));
    }
}
