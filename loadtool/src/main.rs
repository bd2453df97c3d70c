//! `loadtool`: the Teahouse load generator (issue 3).
//!
//! Opens many authenticated WebSocket clients from spread-out loopback source
//! addresses, joins them to rooms, drives senders through each target's real
//! send path at a paced rate, and records per-delivery latency (send stamp in
//! the message text → receipt) in HDR histograms, deliveries/s, errors, and
//! the CPU and RSS of both the server and the tool itself (from /proc).
//! Targets: Teahouse, and the Node `ws` and Socket.IO peers in bench/peers.
//!
//! This file owns the command line, the runtime set-up and the output of
//! results; see `scenario` for what each scenario does.

mod conn;
mod procfs;
mod report;
mod scenario;
mod server;
mod stats;
mod target;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::procfs::Machine;
use crate::scenario::Env;
use crate::server::SpawnOpts;
use crate::target::Target;

/// Load generator for Teahouse and its peers (Socket.IO, Node ws).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// What to run.
    #[command(subcommand)]
    command: Command,
    /// Options shared by every scenario.
    #[command(flatten)]
    global: Global,
}

/// Options shared by every scenario.
#[derive(clap::Args, Debug)]
struct Global {
    /// Server under test.
    #[arg(long, global = true, value_enum, default_value_t = Target::Teahouse)]
    target: Target,
    /// Cores to pin a spawned server to (`taskset -c LIST`); "" for none.
    #[arg(long, global = true, default_value = "0")]
    server_cores: String,
    /// Use a server already running at this address instead of spawning one.
    #[arg(long, global = true)]
    addr: Option<SocketAddr>,
    /// Pid of the server at --addr, for CPU and RSS sampling.
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Teahouse binary to spawn (relative to --root).
    #[arg(long, global = true, default_value = "target/release/teahouse")]
    teahouse_bin: PathBuf,
    /// Teahouse per-connection outbound queue (`--conn-queue`); server default when absent.
    #[arg(long, global = true)]
    conn_queue: Option<u32>,
    /// Repository root (server cwd; peers under bench/peers).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// Spread client sockets over this many source addresses (127.0.0.2 …); 0 = kernel's choice.
    #[arg(long, global = true, default_value_t = 100)]
    src_ips: u8,
    /// Directory for result JSON files.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// Load tool worker threads (default: the CPUs this process may run on).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// WebSocket handshakes in flight at once.
    #[arg(long, global = true, default_value_t = 256)]
    connect_concurrency: usize,
    /// Teahouse registrations in flight at once.
    #[arg(long, global = true, default_value_t = 4)]
    register_concurrency: usize,
    /// Create the spawned server's data directory under this directory
    /// (e.g. /dev/shm to take disk sync out of the measurement).
    #[arg(long, global = true)]
    data_parent: Option<PathBuf>,
    /// Free-text name of a variant of the set-up (e.g. "tmpfs"); kept apart
    /// from the plain rows in results.
    #[arg(long, global = true, default_value = "")]
    variant: String,
    /// Before starting, wait up to this many seconds for the machine to be
    /// quiet (other processes using < 15% of a core); 0 = don't wait.
    #[arg(long, global = true, default_value_t = 0.0)]
    quiet_wait_secs: f64,
    /// Also measure send → arrival at the tool's socket (kernel receive
    /// stamps): splits each step's latency into the server's part and the
    /// time frames waited for the tool. A diagnostic: it costs the tool
    /// ~5% of its core, so the maximum rows are measured without it.
    #[arg(long, global = true)]
    stamp_arrivals: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Idle connections: server RSS per connection after warm-up.
    Idle(scenario::IdleArgs),
    /// One room, rising send rates until p99 exceeds the limit; max deliveries/s.
    Fanout(scenario::FanoutArgs),
    /// Many small rooms with mixed senders; max deliveries/s.
    Rooms(scenario::RoomsArgs),
    /// Teahouse only: messages/s through send_message into SQLite; history latency.
    Persist(scenario::PersistArgs),
    /// Teahouse only: send-to-room requests/s and latency through the
    /// server API (bearer key) against the browser's send path, same run.
    ApiSend(scenario::api_send::ApiSendArgs),
    /// Seconds-long correctness check for CI: exactly-once delivery to every member.
    Smoke(scenario::SmokeArgs),
    /// Teahouse only: sockets churning for minutes under steady sends; slopes
    /// of the server's RSS and open descriptors, every delivery checked.
    Soak(scenario::soak::SoakArgs),
    /// Build RESULTS.md from the result JSON files of a directory.
    Report {
        /// Directory holding the JSON files (default: --out).
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadtool: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let g = cli.global;
    let root = match g.root {
        Some(r) => r,
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(PathBuf::from)
            .context("locating the repository root")?,
    };
    let out_dir = g.out.unwrap_or_else(|| root.join("bench/results/scratch"));

    if let Command::Report { dir } = &cli.command {
        let dir = dir.clone().unwrap_or(out_dir);
        let results = report::load_dir(&dir)?;
        let md = report::markdown(&results);
        let path = dir.join("RESULTS.md");
        std::fs::write(&path, &md).with_context(|| format!("writing {}", path.display()))?;
        println!("{md}");
        eprintln!("wrote {} ({} results)", path.display(), results.len());
        return Ok(());
    }

    let nofile = procfs::raise_nofile_limit().unwrap_or_else(|e| {
        eprintln!("warning: could not raise the open-files limit: {e:#}");
        1024
    });
    let threads = g.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let env = Env {
        target: g.target,
        spawn: SpawnOpts {
            target: g.target,
            cores: g.server_cores,
            root: root.clone(),
            teahouse_bin: g.teahouse_bin,
            conn_queue: g.conn_queue,
            extra_args: Vec::new(),
            data_parent: g.data_parent,
        },
        variant: g.variant,
        external: g.addr.map(|a| (a, g.pid)),
        src_ips: g.src_ips.min(250),
        out_dir,
        connect_concurrency: g.connect_concurrency,
        register_concurrency: g.register_concurrency,
        threads,
        machine: Machine::describe(nofile),
        // Unique enough for user and room names across runs on one server.
        run_id: format!("lt{:x}", (wall_ms / 10) % 0xff_ffff),
        quiet_wait: std::time::Duration::from_secs_f64(g.quiet_wait_secs.max(0.0)),
        stamp_arrivals: g.stamp_arrivals,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // Stamps are relative to the first use of the clock: take it now.
    let _ = stats::now_ns();
    rt.block_on(async move {
        // Problems that fail the run after its result is written (soak).
        let mut problems = Vec::new();
        let result = match &cli.command {
            Command::Idle(a) => scenario::idle(&env, a).await?,
            Command::Fanout(a) => scenario::fanout(&env, a).await?,
            Command::Rooms(a) => scenario::rooms(&env, a).await?,
            Command::Persist(a) => scenario::persist(&env, a).await?,
            Command::ApiSend(a) => scenario::api_send::api_send(&env, a).await?,
            Command::Soak(a) => {
                let (result, found) = scenario::soak::soak(&env, a).await?;
                problems = found;
                result
            }
            Command::Smoke(a) => return scenario::smoke(&env, a).await,
            Command::Report { .. } => return Ok(()),
        };
        let path = result.write(&env.out_dir)?;
        eprintln!(
            "{} {} ({}): {} = {} → {}",
            result.scenario,
            result.case,
            result.target.name(),
            result.headline.name,
            result
                .headline
                .value
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "n/a".into()),
            path.display()
        );
        if !problems.is_empty() {
            bail!("{} FAILED:\n  {}", result.scenario, problems.join("\n  "));
        }
        Ok(())
    })
}
