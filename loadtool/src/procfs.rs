//! Process and machine facts read from `/proc`: resident memory and CPU time
//! of the server under test and of the load tool itself, the open-files limit,
//! and the description of the machine that goes into every result file.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// One reading of a process's memory and CPU counters.
#[derive(Clone, Copy, Debug)]
pub struct ProcSample {
    /// When the counters were read.
    pub at: Instant,
    /// User + system CPU time consumed so far, in seconds.
    pub cpu_secs: f64,
    /// Resident set size (`VmRSS`), in bytes.
    pub rss_bytes: u64,
}

impl ProcSample {
    /// Reads the counters of `pid`, or of the load tool itself when `None`.
    pub fn read(pid: Option<u32>) -> Result<Self> {
        let dir = match pid {
            Some(pid) => format!("/proc/{pid}"),
            None => "/proc/self".to_string(),
        };
        let stat = std::fs::read_to_string(format!("{dir}/stat"))
            .with_context(|| format!("reading {dir}/stat (has the process exited?)"))?;
        let status = std::fs::read_to_string(format!("{dir}/status"))
            .with_context(|| format!("reading {dir}/status"))?;
        Ok(Self {
            at: Instant::now(),
            cpu_secs: parse_cpu_ticks(&stat)? as f64 / clock_ticks_per_sec(),
            rss_bytes: parse_vm_rss_kb(&status)? * 1024,
        })
    }

    /// CPU used between `earlier` and `self`, as a percentage of one core.
    pub fn cpu_pct_since(&self, earlier: &ProcSample) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        (self.cpu_secs - earlier.cpu_secs).max(0.0) / wall * 100.0
    }
}

/// CPU percentage of one core between two optional samples.
pub fn cpu_pct(before: Option<ProcSample>, after: Option<ProcSample>) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) => Some(a.cpu_pct_since(&b)),
        _ => None,
    }
}

/// Busy and total jiffies of each CPU, from `/proc/stat`.
fn read_core_times() -> Option<Vec<(u64, u64)>> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let mut out = Vec::new();
    for line in stat.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            continue;
        };
        // Per-core lines are "cpuN ...", the aggregate is "cpu  ...".
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let v: Vec<u64> = rest
            .split_ascii_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() < 5 {
            return None;
        }
        // user nice system idle iowait irq softirq steal …; guest time is
        // already inside user.
        let total: u64 = v.iter().take(8).sum();
        let idle = v[3] + v[4];
        out.push((total - idle, total));
    }
    Some(out)
}

/// Counters of the server, the load tool and every core at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The server's counters (None when its pid is unknown or unreadable).
    pub server: Option<ProcSample>,
    /// The load tool's own counters.
    pub me: Option<ProcSample>,
    /// (busy, total) jiffies per core.
    cores: Option<Vec<(u64, u64)>>,
}

/// CPU use between two snapshots.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// Server CPU, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// Load tool CPU, % of one core.
    pub loadtool_cpu_pct: Option<f64>,
    /// Busy % of each core (all processes, interrupts included).
    pub core_busy_pct: Vec<f64>,
    /// CPU used by everything else on the machine (all cores' busy time
    /// minus the server and the load tool), % of one core. A large value
    /// means the machine was not quiet and the figures are suspect.
    pub other_cpu_pct: Option<f64>,
}

impl Snapshot {
    /// Reads everything now.
    pub fn take(server_pid: Option<u32>) -> Self {
        Self {
            server: server_pid.and_then(|pid| ProcSample::read(Some(pid)).ok()),
            me: ProcSample::read(None).ok(),
            cores: read_core_times(),
        }
    }

    /// What was used between `self` and `later`.
    pub fn usage(&self, later: &Snapshot) -> Usage {
        let server_cpu_pct = cpu_pct(self.server, later.server);
        let loadtool_cpu_pct = cpu_pct(self.me, later.me);
        let core_busy_pct: Vec<f64> = match (&self.cores, &later.cores) {
            (Some(a), Some(b)) if a.len() == b.len() => a
                .iter()
                .zip(b)
                .map(|(&(busy0, tot0), &(busy1, tot1))| {
                    let tot = tot1.saturating_sub(tot0);
                    if tot == 0 {
                        0.0
                    } else {
                        busy1.saturating_sub(busy0) as f64 * 100.0 / tot as f64
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let other_cpu_pct = (!core_busy_pct.is_empty()).then(|| {
            let all: f64 = core_busy_pct.iter().sum();
            (all - server_cpu_pct.unwrap_or(0.0) - loadtool_cpu_pct.unwrap_or(0.0)).max(0.0)
        });
        Usage {
            server_cpu_pct,
            loadtool_cpu_pct,
            core_busy_pct,
            other_cpu_pct,
        }
    }
}

/// Waits (at most `max`) until the machine is quiet: all cores together
/// busy for less than `threshold_pct` of one core over a 1 s window.
/// Returns the last busy figure measured.
pub async fn wait_until_quiet(threshold_pct: f64, max: std::time::Duration) -> f64 {
    let deadline = Instant::now() + max;
    loop {
        let a = Snapshot::take(None);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let b = Snapshot::take(None);
        let busy: f64 = a.usage(&b).core_busy_pct.iter().sum();
        if busy < threshold_pct || Instant::now() >= deadline {
            return busy;
        }
    }
}

/// Number of open file descriptors of `pid` (entries of `/proc/<pid>/fd`;
/// reading another user's process needs the same user or root).
pub fn open_fds(pid: u32) -> Result<u64> {
    let dir = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&dir).with_context(|| format!("listing {dir}"))?;
    Ok(entries.filter(|e| e.is_ok()).count() as u64)
}

/// The machine's 1-minute load average (`/proc/loadavg`).
pub fn load_average_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `utime + stime` (fields 14 and 15) from a `/proc/<pid>/stat` line. The
/// command name (field 2) may contain spaces and parentheses, so fields are
/// counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Result<u64> {
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .context("malformed /proc stat line")?;
    // After ")": field 3 (state) is index 0, so utime (14) is index 11.
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    if fields.len() < 13 {
        bail!("short /proc stat line");
    }
    let utime: u64 = fields[11].parse().context("utime")?;
    let stime: u64 = fields[12].parse().context("stime")?;
    Ok(utime + stime)
}

/// `VmRSS` in kB from `/proc/<pid>/status`.
fn parse_vm_rss_kb(status: &str) -> Result<u64> {
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line (zombie process?)")?;
    line.split_ascii_whitespace()
        .nth(1)
        .context("empty VmRSS line")?
        .parse()
        .context("VmRSS value")
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions; it only reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Raises the soft open-files limit to the hard limit (child processes,
/// such as a server the tool spawns, inherit it). Returns the new soft limit.
pub fn raise_nofile_limit() -> Result<u64> {
    let (_soft, hard) = rlimit::Resource::NOFILE
        .get()
        .context("getrlimit(NOFILE)")?;
    rlimit::Resource::NOFILE
        .set(hard, hard)
        .context("setrlimit(NOFILE)")?;
    Ok(hard)
}

/// The machine a result was measured on.
#[derive(Clone, Debug, Serialize, serde::Deserialize, Default)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Online logical CPUs.
    pub cpus: usize,
    /// Total memory in MiB.
    pub mem_total_mib: u64,
    /// Kernel release.
    pub kernel: String,
    /// `node --version`, when node is installed.
    pub node: Option<String>,
    /// Open-files limit the tool (and any server it spawned) ran with.
    pub nofile_limit: u64,
}

impl Machine {
    /// Describes this machine (best effort: unknown fields stay empty).
    pub fn describe(nofile_limit: u64) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let cpus = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let mem_total_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_ascii_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .map(|kb| kb / 1024)
            .unwrap_or(0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        Self {
            cpu_model,
            cpus,
            mem_total_mib,
            kernel,
            node,
            nofile_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_the_name() {
        let stat = "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat).unwrap(), 300);
    }

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tx\nVmPeak:\t 10 kB\nVmRSS:\t  2048 kB\n";
        assert_eq!(parse_vm_rss_kb(status).unwrap(), 2048);
        assert!(parse_vm_rss_kb("Name: x\n").is_err());
    }

    #[test]
    fn reads_own_process() {
        let s = ProcSample::read(None).unwrap();
        assert!(s.rss_bytes > 0);
    }

    #[test]
    fn counts_own_fds_including_a_new_one() {
        let me = std::process::id();
        let before = open_fds(me).unwrap();
        let file = std::fs::File::open("/proc/self/status").unwrap();
        assert_eq!(open_fds(me).unwrap(), before + 1);
        drop(file);
        assert!(load_average_1m().is_some_and(|l| l >= 0.0));
    }
}
