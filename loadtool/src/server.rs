//! The server under test: either one the tool spawns itself (pinned with
//! `taskset` to the cores asked for, on a free loopback port, with a fresh
//! data directory, stopped when the run ends) or one already running at a
//! given address (with an optional pid for /proc sampling).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::target::{Api, Target};

/// How to start a server.
#[derive(Clone, Debug)]
pub struct SpawnOpts {
    /// Which server.
    pub target: Target,
    /// `taskset -c` core list, e.g. "0" or "0,1"; empty means no pinning.
    pub cores: String,
    /// Repository root (cwd of the server; peers live under bench/peers).
    pub root: PathBuf,
    /// The Teahouse binary.
    pub teahouse_bin: PathBuf,
    /// Teahouse `--conn-queue`, when set.
    pub conn_queue: Option<u32>,
    /// Extra arguments passed to the server.
    pub extra_args: Vec<String>,
    /// Directory to create the server's data directory in (default: the
    /// system temp dir). Point it at a tmpfs to take disk sync out of the
    /// measurement.
    pub data_parent: Option<PathBuf>,
}

/// A server being measured.
pub struct Server {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Its process id, when known (for /proc sampling).
    pub pid: Option<u32>,
    /// The spawned process, when the tool started it.
    child: Option<Child>,
    /// The spawned server's data directory and log (removed on drop).
    workdir: Option<tempfile::TempDir>,
}

impl Server {
    /// Uses a server that is already running.
    pub fn external(addr: SocketAddr, pid: Option<u32>) -> Self {
        Self {
            addr,
            pid,
            child: None,
            workdir: None,
        }
    }

    /// The spawned server's data directory (None for an external server).
    pub fn data_dir(&self) -> Option<&Path> {
        self.workdir.as_ref().map(|w| w.path())
    }

    /// Starts a server and waits (at most 60 s) until `GET /healthz` answers 200.
    pub async fn spawn(opts: &SpawnOpts) -> Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut builder = tempfile::Builder::new();
        builder.prefix("loadtool-server-");
        let workdir = match &opts.data_parent {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .context("creating the server's temporary directory")?;
        let log_path = workdir.path().join("server.log");
        let log = std::fs::File::create(&log_path).context("creating the server log")?;
        let log_err = log.try_clone().context("cloning the log handle")?;

        let Launch { program, args, env } = command_line(opts, addr, workdir.path())?;
        let mut cmd = if opts.cores.is_empty() {
            let mut c = Command::new(&program);
            c.args(&args);
            c
        } else {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(&opts.cores).arg(&program).args(&args);
            c
        };
        cmd.current_dir(&opts.root)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // If the load tool dies (killed, Ctrl-C), the server goes with it
        // instead of lingering on its core.
        // SAFETY: the closure runs between fork and exec and calls only
        // prctl, which is async-signal-safe.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let pid = child.id();
        let mut server = Self {
            addr,
            pid: Some(pid),
            child: Some(child),
            workdir: Some(workdir),
        };
        let api = Api::new(addr)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if api.healthy().await {
                break;
            }
            if let Some(child) = server.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!(
                        "{} exited during start-up ({status}); log:\n{}",
                        opts.target.name(),
                        tail(&log_path)
                    );
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{} not healthy after 60 s; log:\n{}",
                    opts.target.name(),
                    tail(&log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // taskset execs the server, so the pid is the server's own.
        server.pid = Some(pid);
        Ok(server)
    }

    /// The last lines of the spawned server's log (empty for external ones).
    pub fn log_tail(&self) -> String {
        match &self.workdir {
            Some(dir) => tail(&dir.path().join("server.log")),
            None => String::new(),
        }
    }

    /// Whether a spawned server is still running (external ones: assumed).
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Stops a spawned server: SIGTERM, then SIGKILL after 5 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: signalling our own child process by its pid.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How to launch a server process.
struct Launch {
    /// Executable.
    program: PathBuf,
    /// Its arguments.
    args: Vec<String>,
    /// Extra environment variables.
    env: Vec<(String, String)>,
}

/// Program, arguments and environment for the target.
fn command_line(opts: &SpawnOpts, addr: SocketAddr, data_dir: &Path) -> Result<Launch> {
    let port = addr.port().to_string();
    Ok(match opts.target {
        Target::Teahouse => {
            let bin = if opts.teahouse_bin.is_absolute() {
                opts.teahouse_bin.clone()
            } else {
                opts.root.join(&opts.teahouse_bin)
            };
            if !bin.exists() {
                bail!(
                    "Teahouse binary {} not found (cargo build --release -p server --bin teahouse)",
                    bin.display()
                );
            }
            let mut args = vec![
                "--addr".to_string(),
                addr.to_string(),
                "--data-dir".to_string(),
                data_dir.display().to_string(),
                "--sends-per-sec".to_string(),
                "0".to_string(),
            ];
            if let Some(q) = opts.conn_queue {
                args.push("--conn-queue".into());
                args.push(q.to_string());
            }
            args.extend(opts.extra_args.iter().cloned());
            let env = vec![
                ("LEPTOS_SITE_ROOT".to_string(), "target/site".to_string()),
                (
                    "RUST_LOG".to_string(),
                    std::env::var("LOADTOOL_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
                ),
            ];
            Launch {
                program: bin,
                args,
                env,
            }
        }
        Target::Bare => {
            // Built by the same cargo profile as the load tool, so it sits
            // next to it (target/release or target/debug).
            let bin = std::env::current_exe()
                .context("locating the load tool's executable")?
                .with_file_name("bare-peer");
            if !bin.exists() {
                bail!(
                    "bare peer {} not found (cargo build [--release] -p bare-peer)",
                    bin.display()
                );
            }
            Launch {
                program: bin,
                args: opts.extra_args.clone(),
                env: vec![("PORT".to_string(), port)],
            }
        }
        Target::Ws | Target::Socketio => {
            let dir = if opts.target == Target::Ws {
                "ws"
            } else {
                "socketio"
            };
            let script = opts.root.join("bench/peers").join(dir).join("server.js");
            if !opts
                .root
                .join("bench/peers")
                .join(dir)
                .join("node_modules")
                .exists()
            {
                bail!("{dir} peer not installed: run bench/setup.sh");
            }
            let mut args = vec![script.display().to_string()];
            args.extend(opts.extra_args.iter().cloned());
            let env = vec![
                ("PORT".to_string(), port),
                ("NODE_ENV".to_string(), "production".to_string()),
            ];
            Launch {
                program: PathBuf::from("node"),
                args,
                env,
            }
        }
    })
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr().context("local_addr")?.port())
}

/// Last 40 lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
