//! Measurement: the clock that send stamps are taken from, the marker a
//! message's text carries (phase, message number, send time), and the
//! [`Recorder`] that every connection reports deliveries and errors into
//! (sharded HDR histograms per phase, plus atomic counters).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram holds, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 120_000_000;

/// Number of phases a run may have (higher phase numbers share the last slot).
pub const MAX_PHASES: usize = 64;

/// The instant all send stamps are measured from (first use in the process).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since the process's measuring epoch. Sends and receipts happen
/// in this process, so no clock synchronisation is involved.
pub fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// What the load tool writes into a message's text so that each delivery can
/// be attributed (phase, message number) and timed (send stamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Index of the measuring phase (ramp step) the message was sent in.
    pub phase: u32,
    /// Number of the message within the run (unique per run).
    pub msg: u64,
    /// [`now_ns`] when the send started.
    pub sent_ns: u64,
}

impl Marker {
    /// Prefix of every marker; other texts are not ours and are ignored.
    const PREFIX: &'static str = "lt ";

    /// The message text carrying this marker.
    pub fn text(&self) -> String {
        format!(
            "{}{} {} {}",
            Self::PREFIX,
            self.phase,
            self.msg,
            self.sent_ns
        )
    }

    /// Finds the marker in a whole pushed frame (Teahouse's `ServerFrame`, or
    /// a peer's frame of the same shape) without parsing the JSON: the
    /// message text is the one JSON string that starts with the prefix.
    /// Markers are digits and spaces, so they never contain escapes.
    /// Counting deliveries is what the tool spends most of its user-space
    /// time on, and a full parse cost ~7% of its core at 150k frames/s.
    pub fn find_in_frame(frame: &str) -> Option<Self> {
        const KEY: &str = "\"text\":\"lt ";
        let at = frame.find(KEY)? + KEY.len() - Self::PREFIX.len();
        let rest = &frame[at..];
        let end = rest.find('"')?;
        Self::parse(&rest[..end])
    }

    /// Parses a text written by [`Marker::text`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(Self::PREFIX)?;
        let mut it = rest.split_ascii_whitespace();
        let phase = it.next()?.parse().ok()?;
        let msg = it.next()?.parse().ok()?;
        let sent_ns = it.next()?.parse().ok()?;
        Some(Self {
            phase,
            msg,
            sent_ns,
        })
    }
}

/// Latency distributions of one phase.
struct PhaseAcc {
    /// Delivery latency in microseconds: send → the tool has read the frame.
    hist: Histogram<u64>,
    /// Send → the frame's bytes reached the tool's socket (µs), for the
    /// deliveries whose read carried a kernel stamp: the part of the latency
    /// that is the server's (and the kernel's), not the tool's.
    at_socket: Histogram<u64>,
}

/// Counters of things that went wrong, shared by all connections.
#[derive(Default)]
pub struct ErrorCounters {
    /// WebSocket connects or handshakes that failed.
    pub connect: AtomicU64,
    /// Connections the server closed while the test ran (any code).
    pub closed: AtomicU64,
    /// Of those, closes with code 4000 (slow consumer, "resume").
    pub closed_resume: AtomicU64,
    /// Socket read/write errors.
    pub socket: AtomicU64,
    /// Sends that failed (HTTP error, socket write error, full queue).
    pub send: AtomicU64,
    /// Sends skipped because too many were already in flight (generator or
    /// server saturated).
    pub send_backlog: AtomicU64,
    /// Frames that did not parse as the target's protocol.
    pub parse: AtomicU64,
}

/// A plain copy of [`ErrorCounters`] for reports.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorSnapshot {
    /// Failed connects or handshakes.
    pub connect: u64,
    /// Connections closed by the server during the test.
    pub closed: u64,
    /// Of those, closed with 4000 (slow consumer).
    pub closed_resume: u64,
    /// Socket read/write errors.
    pub socket: u64,
    /// Failed sends.
    pub send: u64,
    /// Sends skipped because too many were in flight.
    pub send_backlog: u64,
    /// Unparsable frames.
    pub parse: u64,
}

impl ErrorSnapshot {
    /// Sum of all counters.
    pub fn total(&self) -> u64 {
        self.connect + self.closed + self.socket + self.send + self.send_backlog + self.parse
    }

    /// Counter-wise difference `self - earlier`.
    pub fn since(&self, earlier: &ErrorSnapshot) -> ErrorSnapshot {
        ErrorSnapshot {
            connect: self.connect - earlier.connect,
            closed: self.closed - earlier.closed,
            closed_resume: self.closed_resume - earlier.closed_resume,
            socket: self.socket - earlier.socket,
            send: self.send - earlier.send,
            send_backlog: self.send_backlog - earlier.send_backlog,
            parse: self.parse - earlier.parse,
        }
    }
}

/// Summary of a latency distribution, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    /// Number of recorded values.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest value.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl LatencySummary {
    /// Summarises a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// A new empty latency histogram (1 µs .. 120 s, 3 significant digits).
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that satisfy hdrhistogram's preconditions.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// Where all connections report. Histograms are sharded (by connection
/// index) so that worker threads rarely contend on one lock.
pub struct Recorder {
    /// `shards[i][phase]`, allocated on first use of a phase.
    shards: Box<[Mutex<Vec<Option<PhaseAcc>>>]>,
    /// Every delivery of one of our markers, any phase.
    pub deliveries: AtomicU64,
    /// Deliveries per phase (cheap to poll while draining).
    phase_counts: Box<[AtomicU64]>,
    /// Frames received that carried no marker (joins, presence, pongs…).
    pub other_frames: AtomicU64,
    /// Failures.
    pub errors: ErrorCounters,
}

impl Recorder {
    /// A recorder with `shards` lock shards.
    pub fn new(shards: usize) -> Self {
        let shards = (0..shards.max(1)).map(|_| Mutex::new(Vec::new())).collect();
        Self {
            shards,
            deliveries: AtomicU64::new(0),
            phase_counts: (0..MAX_PHASES).map(|_| AtomicU64::new(0)).collect(),
            other_frames: AtomicU64::new(0),
            errors: ErrorCounters::default(),
        }
    }

    /// Records one delivery of a message of `phase`, read `latency_us` after
    /// its send, its bytes having reached the socket `at_socket_us` after it.
    pub fn record(&self, shard: usize, phase: u32, latency_us: u64, at_socket_us: Option<u64>) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let phase = phase.min(MAX_PHASES as u32 - 1);
        self.phase_counts[phase as usize].fetch_add(1, Ordering::Relaxed);
        let shard = &self.shards[shard % self.shards.len()];
        // A poisoned lock only means another thread panicked mid-record; the
        // histogram is still usable.
        let mut phases = shard.lock().unwrap_or_else(|e| e.into_inner());
        let idx = phase as usize;
        if phases.len() <= idx {
            phases.resize_with(idx + 1, || None);
        }
        let acc = phases[idx].get_or_insert_with(|| PhaseAcc {
            hist: new_histogram(),
            at_socket: new_histogram(),
        });
        acc.hist
            .saturating_record(latency_us.clamp(1, MAX_LATENCY_US));
        if let Some(us) = at_socket_us {
            acc.at_socket.saturating_record(us.clamp(1, MAX_LATENCY_US));
        }
    }

    /// All deliveries of `phase` recorded so far, merged over shards.
    pub fn phase_histogram(&self, phase: u32) -> Histogram<u64> {
        self.merged(phase, |acc| &acc.hist)
    }

    /// Send → arrival at the socket for the deliveries of `phase` that
    /// carried a kernel stamp, merged over shards.
    pub fn phase_at_socket(&self, phase: u32) -> Histogram<u64> {
        self.merged(phase, |acc| &acc.at_socket)
    }

    fn merged(&self, phase: u32, which: impl Fn(&PhaseAcc) -> &Histogram<u64>) -> Histogram<u64> {
        let phase = phase.min(MAX_PHASES as u32 - 1);
        let mut out = new_histogram();
        for shard in self.shards.iter() {
            let phases = shard.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(Some(acc)) = phases.get(phase as usize) {
                if let Err(e) = out.add(which(acc)) {
                    // Same bounds on both sides, so this cannot happen.
                    eprintln!("loadtool: merging histograms failed: {e}");
                }
            }
        }
        out
    }

    /// Number of deliveries of `phase` recorded so far.
    pub fn phase_count(&self, phase: u32) -> u64 {
        let phase = phase.min(MAX_PHASES as u32 - 1);
        self.phase_counts[phase as usize].load(Ordering::Relaxed)
    }

    /// Current error counters.
    pub fn errors(&self) -> ErrorSnapshot {
        let e = &self.errors;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ErrorSnapshot {
            connect: l(&e.connect),
            closed: l(&e.closed),
            closed_resume: l(&e.closed_resume),
            socket: l(&e.socket),
            send: l(&e.send),
            send_backlog: l(&e.send_backlog),
            parse: l(&e.parse),
        }
    }

    /// Total deliveries so far.
    pub fn delivered(&self) -> u64 {
        self.deliveries.load(Ordering::Relaxed)
    }
}

/// A straight line fitted to points by least squares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Change of y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Standard error of the slope (0 with two points or a perfect fit).
    pub slope_stderr: f64,
    /// Points used.
    pub n: usize,
}

/// Ordinary least squares over `(x, y)`; `None` with fewer than two points
/// or when every x is the same.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let slope_stderr = if n > 2 {
        let sse: f64 = points
            .iter()
            .map(|p| (p.1 - (intercept + slope * p.0)).powi(2))
            .sum();
        (sse / (nf - 2.0) / sxx).sqrt()
    } else {
        0.0
    };
    Some(Fit {
        slope,
        intercept,
        slope_stderr,
        n,
    })
}

/// Adds one to a counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_and_rejects_foreign_text() {
        let m = Marker {
            phase: 3,
            msg: 12345,
            sent_ns: 987_654_321,
        };
        assert_eq!(Marker::parse(&m.text()), Some(m));
        assert_eq!(Marker::parse("hello"), None);
        assert_eq!(Marker::parse("lt 1 2"), None);
        assert_eq!(Marker::parse("lt a b c"), None);
    }

    #[test]
    fn least_squares_finds_the_line_and_its_uncertainty() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 2.0 * i as f64)).collect();
        let fit = least_squares(&line).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9, "{fit:?}");
        assert!((fit.intercept - 3.0).abs() < 1e-9, "{fit:?}");
        assert!(fit.slope_stderr < 1e-9, "{fit:?}");
        // Flat data with noise: slope near zero, an uncertainty that covers it.
        let noisy: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64, 100.0 + if i % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        let fit = least_squares(&noisy).unwrap();
        assert!(fit.slope.abs() < 0.1 && fit.slope_stderr > 0.0, "{fit:?}");
        assert!(fit.slope.abs() < 3.0 * fit.slope_stderr, "{fit:?}");
        assert_eq!(least_squares(&[(1.0, 1.0)]), None);
        assert_eq!(least_squares(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }

    #[test]
    fn recorder_merges_shards_per_phase() {
        let r = Recorder::new(4);
        for i in 0..100u64 {
            r.record(i as usize, 1, 1000 + i, Some(400 + i));
        }
        r.record(0, 0, 5, None);
        assert_eq!(r.phase_count(1), 100);
        assert_eq!(r.phase_count(0), 1);
        assert_eq!(r.phase_count(7), 0);
        assert_eq!(r.delivered(), 101);
        let s = LatencySummary::of(&r.phase_histogram(1));
        assert!(s.p50_ms > 1.0 && s.p50_ms < 1.1, "{s:?}");
        let at = LatencySummary::of(&r.phase_at_socket(1));
        assert_eq!(at.count, 100);
        assert!(at.p50_ms > 0.4 && at.p50_ms < 0.5, "{at:?}");
        assert_eq!(r.phase_at_socket(0).len(), 0, "no stamp, nothing recorded");
    }
}
