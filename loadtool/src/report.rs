//! Results: the JSON record one scenario run writes ([`RunResult`]), and the
//! markdown report built from every JSON file of a results directory, with
//! each row's headline figure compared to the peers measured in the same run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::procfs::Machine;
use crate::stats::{ErrorSnapshot, LatencySummary};
use crate::target::Target;

/// One named figure of a run (a column of the markdown table).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Figure {
    /// Column name, e.g. `kb_per_conn`.
    pub name: String,
    /// Value; `None` when it could not be measured.
    pub value: Option<f64>,
}

/// The figure that ranks servers in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Headline {
    /// Which figure (one of `figures`).
    pub name: String,
    /// Its value.
    pub value: Option<f64>,
    /// Whether more is better (throughput) or less (memory).
    pub higher_is_better: bool,
}

/// One measuring phase of a run (a ramp step, a warm-up, …).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Step {
    /// What the step was, e.g. "rate 200/s" or "half of max".
    pub label: String,
    /// Sends per second asked for.
    pub offered_sends_per_s: f64,
    /// Sends issued.
    pub sends: u64,
    /// Deliveries those sends should cause.
    pub expected_deliveries: u64,
    /// Deliveries of this step's messages received (after draining).
    pub deliveries: u64,
    /// Deliveries (any step's) received per second during the send window.
    pub deliveries_per_s: f64,
    /// Send-to-receipt latency of this step's deliveries.
    pub latency: LatencySummary,
    /// Send to the frame's arrival at the tool's socket (kernel stamp): the
    /// latency without the time the frame waited for the busy tool to read
    /// it. An upper bound (see `wire::WsConn::arrived_ns`). Absent in runs
    /// made before the tool measured it.
    #[serde(default)]
    pub at_socket: Option<LatencySummary>,
    /// Send-to-acknowledgement latency of HTTP sends (Teahouse only).
    #[serde(default)]
    pub ack: Option<LatencySummary>,
    /// Server CPU over the window, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// Server RSS at the end of the window, MiB.
    pub server_rss_mib: Option<f64>,
    /// Load tool CPU over the window, % of one core.
    pub loadtool_cpu_pct: Option<f64>,
    /// Busy % of each core over the window (everything on the machine).
    #[serde(default)]
    pub core_busy_pct: Vec<f64>,
    /// CPU of everything but the server and the load tool, % of one core.
    #[serde(default)]
    pub other_cpu_pct: Option<f64>,
    /// Errors that happened during the step.
    pub errors: ErrorSnapshot,
    /// Whether the step met the scenario's limits (p99, no loss, no errors).
    pub within_limit: bool,
}

/// One reading of a long run's time series (the soak scenario), so that
/// growth of the server's memory or descriptors over time can be seen.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the churn and sends began (negative: before them).
    pub t_s: f64,
    /// Server resident memory (`VmRSS`), KiB.
    pub server_rss_kib: Option<u64>,
    /// Server open file descriptors (entries of `/proc/<pid>/fd`).
    pub server_fds: Option<u64>,
    /// Sockets the load tool held to the server at that moment (open ones
    /// and those still leaving), to read the server's descriptors against.
    pub client_sockets: u64,
    /// The load tool's open file descriptors: every socket to the server
    /// (WebSockets, leaving ones, pooled HTTP connections) has one end here
    /// and one in the server, so "server fds − these" stays flat unless the
    /// server keeps descriptors it should have closed.
    #[serde(default)]
    pub loadtool_fds: Option<u64>,
    /// Load tool resident memory, KiB.
    pub loadtool_rss_kib: Option<u64>,
    /// Server CPU since the previous sample, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// Load tool CPU since the previous sample, % of one core.
    pub loadtool_cpu_pct: Option<f64>,
    /// Every other process's CPU since the previous sample, % of one core.
    pub others_cpu_pct: Option<f64>,
    /// The machine's 1-minute load average.
    pub load1: Option<f64>,
    /// Connections that had left and been replaced so far.
    pub churned: u64,
    /// Sends acknowledged so far.
    pub sends_ok: u64,
    /// Deliveries received so far.
    pub deliveries: u64,
}

impl Sample {
    /// Server descriptors minus the load tool's (see [`Sample::loadtool_fds`]).
    pub fn fd_excess(&self) -> Option<f64> {
        Some(self.server_fds? as f64 - self.loadtool_fds? as f64)
    }
}

/// Everything one scenario run against one server produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// `idle`, `fanout`, `rooms`, `persist`.
    pub scenario: String,
    /// Variant of the scenario (rows with the same case are compared), e.g. "10000 conns".
    pub case: String,
    /// Server measured.
    pub target: Target,
    /// Set-up variant ("" for the plain one), e.g. "tmpfs".
    #[serde(default)]
    pub variant: String,
    /// Cores the server was pinned to (`taskset -c`), or "external".
    pub server_cores: String,
    /// Cores the load tool could run on (its affinity).
    pub loadtool_threads: usize,
    /// The ranking figure.
    pub headline: Headline,
    /// All summary figures, in table order.
    pub figures: Vec<Figure>,
    /// Measuring phases.
    pub steps: Vec<Step>,
    /// Time series of a long run (soak only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// Errors over the whole run.
    pub errors: ErrorSnapshot,
    /// Free-form remarks (limits hit, caveats).
    pub notes: Vec<String>,
    /// Where it ran.
    pub machine: Machine,
    /// Unix time the run started.
    pub started_unix: u64,
    /// Wall time of the whole run, seconds.
    pub duration_s: f64,
}

impl RunResult {
    /// Value of figure `name`.
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value)
    }

    /// The file this result is written to inside a results directory.
    pub fn file_name(&self) -> String {
        let slug = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        };
        let variant = if self.variant.is_empty() {
            String::new()
        } else {
            format!("-{}", slug(&self.variant))
        };
        format!(
            "{}-{}-{}{variant}-c{}.json",
            self.scenario,
            slug(&self.case),
            self.target.name(),
            slug(&self.server_cores)
        )
    }

    /// Server name for tables, with the variant.
    pub fn server_label(&self) -> String {
        if self.variant.is_empty() {
            self.target.name().to_string()
        } else {
            format!("{} ({})", self.target.name(), self.variant)
        }
    }

    /// Writes the JSON file into `dir`; returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(self.file_name());
        let json = serde_json::to_string_pretty(self).context("serialising the result")?;
        std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// Reads every result JSON file of `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<RunResult>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry.context("listing results")?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        match serde_json::from_str::<RunResult>(&text) {
            Ok(r) => out.push(r),
            Err(e) => eprintln!("skipping {}: {e}", path.display()),
        }
    }
    Ok(out)
}

fn target_order(t: Target) -> u8 {
    match t {
        Target::Teahouse => 0,
        Target::Ws => 1,
        Target::Socketio => 2,
        Target::Bare => 3,
    }
}

fn scenario_order(s: &str) -> u8 {
    match s {
        "idle" => 0,
        "fanout" => 1,
        "rooms" => 2,
        "persist" => 3,
        "soak" => 4,
        _ => 5,
    }
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.abs() >= 1000.0 => {
            // Thousands separators for readability.
            let n = v.round() as i64;
            let s = n.abs().to_string();
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(ch);
            }
            if n < 0 {
                format!("-{out}")
            } else {
                out
            }
        }
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// Errors that count against a row: for ramps, those of the steps within the
/// limits (the step that ended the ramp fails by definition); otherwise all.
fn counted_errors(r: &RunResult) -> u64 {
    if r.steps.is_empty() {
        r.errors.total()
    } else {
        r.steps
            .iter()
            .filter(|s| s.within_limit || s.label == "half of max")
            .map(|s| s.errors.total())
            .sum()
    }
}

fn cores_label(c: &str) -> String {
    match c {
        "external" => "external".into(),
        "" => "unpinned".into(),
        c => {
            let n = c.split(',').count();
            format!("{n} (`taskset -c {c}`)")
        }
    }
}

/// How much better `row` is than `peer` on the headline (> 1 means better).
fn advantage(row: &RunResult, peer: Option<&RunResult>) -> Option<f64> {
    let peer = peer?;
    let a = row.headline.value?;
    let b = peer.headline.value?;
    if a <= 0.0 || b <= 0.0 {
        return None;
    }
    Some(if row.headline.higher_is_better {
        a / b
    } else {
        b / a
    })
}

/// Builds the markdown report of a set of results.
pub fn markdown(results: &[RunResult]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Teahouse load test results\n");
    if let Some(r) = results.first() {
        let m = &r.machine;
        let _ = writeln!(
            md,
            "Machine: {} × {} CPUs, {} MiB RAM, Linux {}, node {}; open-files limit {}.\n",
            m.cpu_model,
            m.cpus,
            m.mem_total_mib,
            m.kernel,
            m.node.as_deref().unwrap_or("?"),
            m.nofile_limit
        );
    }
    let _ = writeln!(
        md,
        "Every server is pinned to core 0 and the load tool to core 1 unless the cores column \
         says otherwise. \"vs ws\" / \"vs Socket.IO\" compare the headline figure with that \
         peer's one-core row of the same case: above 1 means better than the peer (more \
         deliveries/s, or fewer KB per connection). CPU is % of one core over the measuring \
         window; \"others\" is the CPU every other process on the machine used meanwhile. \
         \"errors\" counts failures outside the step that ended a ramp (that step fails by \
         definition; see the step tables).\n"
    );

    let mut groups: BTreeMap<(u8, String, String), Vec<&RunResult>> = BTreeMap::new();
    for r in results {
        groups
            .entry((
                scenario_order(&r.scenario),
                r.scenario.clone(),
                r.case.clone(),
            ))
            .or_default()
            .push(r);
    }
    for ((_, scenario, case), mut rows) in groups {
        rows.sort_by_key(|r| {
            (
                target_order(r.target),
                r.variant.clone(),
                r.server_cores.len(),
                r.server_cores.clone(),
            )
        });
        let peer = |t: Target| {
            rows.iter().copied().find(|r| {
                r.target == t && r.variant.is_empty() && r.server_cores.split(',').count() == 1
            })
        };
        let ws = peer(Target::Ws);
        let sio = peer(Target::Socketio);
        let headline = rows
            .first()
            .map(|r| r.headline.name.clone())
            .unwrap_or_default();
        let _ = writeln!(md, "## {scenario}: {case}\n");
        let _ = writeln!(md, "Headline: `{headline}`.\n");
        // Columns: union of figure names in first-seen order.
        let mut cols: Vec<String> = Vec::new();
        for r in &rows {
            for f in &r.figures {
                if !cols.contains(&f.name) {
                    cols.push(f.name.clone());
                }
            }
        }
        let _ = write!(md, "| server | cores |");
        for c in &cols {
            let _ = write!(md, " {c} |");
        }
        let _ = writeln!(md, " vs ws | vs Socket.IO | errors |");
        let _ = write!(md, "|---|---|");
        for _ in &cols {
            let _ = write!(md, "---:|");
        }
        let _ = writeln!(md, "---:|---:|---:|");
        for r in &rows {
            let _ = write!(
                md,
                "| {} | {} |",
                r.server_label(),
                cores_label(&r.server_cores)
            );
            for c in &cols {
                let _ = write!(md, " {} |", fmt_num(r.figure(c)));
            }
            let ratio = |p: Option<&RunResult>| match p {
                Some(p) if !std::ptr::eq(*r, p) => advantage(r, Some(p))
                    .map(|x| format!("{x:.2}×"))
                    .unwrap_or_else(|| "—".into()),
                _ => "—".into(),
            };
            let _ = writeln!(
                md,
                " {} | {} | {} |",
                ratio(ws),
                ratio(sio),
                counted_errors(r)
            );
        }
        let _ = writeln!(md);
        for r in &rows {
            for n in &r.notes {
                let _ = writeln!(md, "- {}, cores {}: {n}", r.server_label(), r.server_cores);
            }
        }
        let _ = writeln!(md);
        // Step details for the ramp scenarios.
        let stepped: Vec<&&RunResult> = rows.iter().filter(|r| r.steps.len() > 1).collect();
        if !stepped.is_empty() {
            let _ = writeln!(md, "\n<details><summary>Steps</summary>\n");
            for r in stepped {
                let _ = writeln!(
                    md,
                    "**{}, cores {}**\n\n| step | offered sends/s | deliveries/s | delivered/expected | p50 ms | p99 ms | max ms | send ack p99 ms | server CPU % | loadtool CPU % | others CPU % | errors | ok |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
                    r.server_label(),
                    r.server_cores
                );
                for s in &r.steps {
                    let _ = writeln!(
                        md,
                        "| {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        s.label,
                        fmt_num(Some(s.offered_sends_per_s)),
                        fmt_num(Some(s.deliveries_per_s)),
                        s.deliveries,
                        s.expected_deliveries,
                        fmt_num(Some(s.latency.p50_ms)),
                        fmt_num(Some(s.latency.p99_ms)),
                        fmt_num(Some(s.latency.max_ms)),
                        fmt_num(s.ack.map(|a| a.p99_ms)),
                        fmt_num(s.server_cpu_pct),
                        fmt_num(s.loadtool_cpu_pct),
                        fmt_num(s.other_cpu_pct),
                        s.errors.total(),
                        if s.within_limit { "✓" } else { "✗" }
                    );
                }
                let _ = writeln!(md);
            }
            let _ = writeln!(md, "</details>\n");
        }
        for r in rows.iter().filter(|r| !r.samples.is_empty()) {
            samples_table(&mut md, r);
        }
    }
    md
}

/// The time series of a long run, in a collapsed block.
fn samples_table(md: &mut String, r: &RunResult) {
    let opt = |v: Option<u64>| fmt_num(v.map(|v| v as f64));
    let _ = writeln!(
        md,
        "\n<details><summary>Samples ({}, cores {})</summary>\n\n| t s | server RSS MiB | server fds | client sockets | loadtool fds | server − loadtool fds | loadtool RSS MiB | server CPU % | loadtool CPU % | others CPU % | load 1 min | churned | sends ok | deliveries |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        r.server_label(),
        r.server_cores
    );
    for s in &r.samples {
        let mib = |kib: Option<u64>| fmt_num(kib.map(|k| k as f64 / 1024.0));
        let excess = s.fd_excess();
        let _ = writeln!(
            md,
            "| {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.t_s,
            mib(s.server_rss_kib),
            opt(s.server_fds),
            fmt_num(Some(s.client_sockets as f64)),
            opt(s.loadtool_fds),
            fmt_num(excess),
            mib(s.loadtool_rss_kib),
            fmt_num(s.server_cpu_pct),
            fmt_num(s.loadtool_cpu_pct),
            fmt_num(s.others_cpu_pct),
            fmt_num(s.load1),
            fmt_num(Some(s.churned as f64)),
            fmt_num(Some(s.sends_ok as f64)),
            fmt_num(Some(s.deliveries as f64)),
        );
    }
    let _ = writeln!(md, "\n</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(target: Target, cores: &str, v: f64, higher: bool) -> RunResult {
        RunResult {
            scenario: "fanout".into(),
            case: "1000 members".into(),
            target,
            variant: String::new(),
            server_cores: cores.into(),
            loadtool_threads: 1,
            headline: Headline {
                name: "max_deliveries_per_s".into(),
                value: Some(v),
                higher_is_better: higher,
            },
            figures: vec![Figure {
                name: "max_deliveries_per_s".into(),
                value: Some(v),
            }],
            steps: vec![],
            samples: vec![],
            errors: ErrorSnapshot::default(),
            notes: vec![],
            machine: Machine::default(),
            started_unix: 0,
            duration_s: 1.0,
        }
    }

    #[test]
    fn ratios_compare_with_one_core_peers() {
        let rows = vec![
            row(Target::Teahouse, "0", 300_000.0, true),
            row(Target::Teahouse, "0,1", 450_000.0, true),
            row(Target::Ws, "0", 100_000.0, true),
            row(Target::Socketio, "0", 60_000.0, true),
        ];
        let md = markdown(&rows);
        assert!(
            md.contains("| teahouse | 1 (`taskset -c 0`) | 300,000 | 3.00× | 5.00× |"),
            "{md}"
        );
        assert!(
            md.contains("| teahouse | 2 (`taskset -c 0,1`) | 450,000 | 4.50× | 7.50× |"),
            "{md}"
        );
        assert!(
            md.contains("| socketio | 1 (`taskset -c 0`) | 60,000 | 0.60× | — |"),
            "{md}"
        );
    }

    #[test]
    fn lower_is_better_inverts_the_ratio() {
        let a = row(Target::Teahouse, "0", 4.0, false);
        let b = row(Target::Ws, "0", 6.0, false);
        assert_eq!(advantage(&a, Some(&b)), Some(1.5));
    }
}
