//! `api-send`: send-to-room throughput of the server API
//! (`POST /api/v1/rooms/{id}/messages` with a bearer key, issue 17) against
//! the browser's send path (the server function `POST /api/send_message`
//! with a session cookie), measured in the same run on the same server:
//! closed-loop senders (the next request after the answer), rounds
//! alternating between the two paths so that neither gets the cooler
//! machine. Requests/s and latency percentiles per path, with the server's
//! CPU (pinned to its cores, by default one).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;

use super::{client_id, figures, new_histogram, print_limited, unix_now, Env, World};
use crate::procfs::Snapshot;
use crate::report::{Headline, RunResult};
use crate::stats::{ErrorSnapshot, LatencySummary};
use crate::target::{Api, RoomId, Session, Target};

/// `api-send`: options.
#[derive(Clone, Debug, clap::Args)]
pub struct ApiSendArgs {
    /// Concurrent senders per path (closed loop).
    #[arg(long, default_value_t = 32)]
    pub senders: usize,
    /// Seconds per round.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Rounds per path (alternating browser, API, browser, API, …).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
}

/// Which send path a round drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// `POST /api/send_message`, form-encoded, session cookie.
    Browser,
    /// `POST /api/v1/rooms/{id}/messages`, JSON, bearer API key.
    ServerApi,
}

/// What one path measured over all its rounds.
struct Measured {
    /// Answer latency (µs) of every successful request.
    hist: Histogram<u64>,
    /// Failed requests.
    errors: u64,
    /// Seconds spent sending.
    secs: f64,
    /// Server CPU over those seconds (% of one core).
    server_cpu: Vec<f64>,
}

/// Runs the comparison.
pub async fn api_send(env: &Env, args: &ApiSendArgs) -> Result<RunResult> {
    if env.target != Target::Teahouse {
        bail!("api-send measures Teahouse's server API; the peers have none");
    }
    if env.external.is_some() {
        bail!("api-send makes its own admin with `teahouse grant-role`: let it spawn the server");
    }
    let started = Instant::now();
    let wall = unix_now();
    let senders = args.senders.max(1);
    let mut w = World::start(env, senders).await?;
    w.make_users(senders).await?;
    w.make_rooms(vec![(0..senders).collect()]).await?;
    let api = w.api.clone().context("Teahouse API")?;
    let room = w.rooms[0].id;
    let secret = make_key(env, &w, &api).await?;

    let next_id = Arc::new(AtomicU64::new(0));
    let mut browser = Measured::new();
    let mut server_api = Measured::new();
    for round in 0..args.rounds.max(1) {
        for path in [Path::Browser, Path::ServerApi] {
            let snap = Snapshot::take(w.server.pid);
            let t0 = Instant::now();
            let (hist, errors) = drive(
                path, &api, &w.users, &secret, room, senders, args.secs, env, &next_id, &w,
            )
            .await?;
            let secs = t0.elapsed().as_secs_f64();
            let usage = snap.usage(&Snapshot::take(w.server.pid));
            let m = match path {
                Path::Browser => &mut browser,
                Path::ServerApi => &mut server_api,
            };
            let _ = m.hist.add(&hist);
            m.errors += errors;
            m.secs += secs;
            m.server_cpu.extend(usage.server_cpu_pct);
            eprintln!(
                "round {round} {path:?}: {:.0} req/s, p99 {:.2} ms, {errors} errors",
                hist.len() as f64 / secs,
                LatencySummary::of(&hist).p99_ms
            );
        }
    }
    let (b, a) = (browser.summary(), server_api.summary());
    let mut r = w.result("api-send", format!("{senders} senders"), started, wall);
    r.headline = Headline {
        name: "api_req_per_s".into(),
        value: Some(a.rate),
        higher_is_better: true,
    };
    r.figures = figures(&[
        ("api_req_per_s", Some(a.rate)),
        ("api_p50_ms", Some(a.lat.p50_ms)),
        ("api_p99_ms", Some(a.lat.p99_ms)),
        ("api_server_cpu_pct", a.cpu),
        ("browser_req_per_s", Some(b.rate)),
        ("browser_p50_ms", Some(b.lat.p50_ms)),
        ("browser_p99_ms", Some(b.lat.p99_ms)),
        ("browser_server_cpu_pct", b.cpu),
    ]);
    r.errors = ErrorSnapshot {
        send: browser.errors + server_api.errors,
        ..w.recorder.errors()
    };
    r.notes.push(format!(
        "{} rounds of {} s per path, alternating; one room of {senders} members; \
         the API key's bot joined the room before the first round",
        args.rounds.max(1),
        args.secs
    ));
    eprintln!(
        "api-send: server API {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms); browser path {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms)",
        a.rate, a.lat.p50_ms, a.lat.p99_ms, b.rate, b.lat.p50_ms, b.lat.p99_ms
    );
    w.finish().await;
    r.duration_s = started.elapsed().as_secs_f64();
    Ok(r)
}

/// A path's figures.
struct Summary {
    rate: f64,
    lat: LatencySummary,
    cpu: Option<f64>,
}

impl Measured {
    fn new() -> Measured {
        Measured {
            hist: new_histogram(),
            errors: 0,
            secs: 0.0,
            server_cpu: Vec::new(),
        }
    }

    fn summary(&self) -> Summary {
        let cpu = (!self.server_cpu.is_empty())
            .then(|| self.server_cpu.iter().sum::<f64>() / self.server_cpu.len() as f64);
        Summary {
            rate: self.hist.len() as f64 / self.secs.max(1e-9),
            lat: LatencySummary::of(&self.hist),
            cpu,
        }
    }
}

/// Makes the first user an admin (the operator's way: `teahouse
/// grant-role`) and has them make a full API key; then one send through
/// it, so the bot has joined the room before anything is measured.
async fn make_key(env: &Env, w: &World, api: &Api) -> Result<String> {
    let data_dir = w
        .server
        .data_dir()
        .context("the spawned server's data directory")?;
    let bin = if env.spawn.teahouse_bin.is_absolute() {
        env.spawn.teahouse_bin.clone()
    } else {
        env.spawn.root.join(&env.spawn.teahouse_bin)
    };
    let admin: &Session = &w.users[0];
    let out = std::process::Command::new(&bin)
        .arg("grant-role")
        .arg("--data-dir")
        .arg(data_dir)
        .arg(&admin.username)
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("running {} grant-role", bin.display()))?;
    if !out.status.success() {
        bail!(
            "grant-role failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let secret = api.create_api_key(admin, "bench").await?;
    api.api_send_to_room(
        &secret,
        w.rooms[0].id,
        &format!("{}-warm", env.run_id),
        "warm-up",
    )
    .await?;
    Ok(secret)
}

/// Drives `senders` closed-loop senders through `path` for `secs`.
#[allow(clippy::too_many_arguments)]
async fn drive(
    path: Path,
    api: &Api,
    users: &Arc<[Session]>,
    secret: &str,
    room: RoomId,
    senders: usize,
    secs: f64,
    env: &Env,
    next_id: &Arc<AtomicU64>,
    w: &World,
) -> Result<(Histogram<u64>, u64)> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let api = api.clone();
            let users = users.clone();
            let secret = secret.to_owned();
            let run_id = env.run_id.clone();
            let next_id = next_id.clone();
            let printed = w.printed_errors.clone();
            tokio::spawn(async move {
                let mut hist = new_histogram();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let id = client_id(&run_id, next_id.fetch_add(1, Ordering::Relaxed));
                    let text = format!("api-send {s} {id}");
                    let t = Instant::now();
                    let sent = match path {
                        Path::Browser => api.send_message(&users[s], room, &id, &text).await,
                        Path::ServerApi => api.api_send_to_room(&secret, room, &id, &text).await,
                    };
                    match sent {
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
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await.context("sender task panicked")?;
        let _ = hist.add(&h);
        errors += e;
    }
    Ok((hist, errors))
}
