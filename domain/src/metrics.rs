//! The domain's operational metrics: handles the hub and the writer record
//! into, registered once by whoever exports them (the server's `/metrics`).
//!
//! Every series is registered up front, labels included, so the hot paths
//! (a send, a fan-out) only touch an atomic behind a handle: no name
//! lookup, no label allocation. Without an exporter the handles are no-ops
//! ([`ChatMetrics::default`]), which is what the domain's own tests use.

use ::metrics::{Counter, Histogram, Key, Label, Metadata, Recorder, Unit};

use crate::hub::KickReason;

/// Stored events handed to connection queues (one per recipient socket;
/// presence, typing and other signals are not counted).
pub const DELIVERIES: &str = "teahouse_deliveries_total";
/// Sockets the server told to close, by `reason`.
pub const KICKS: &str = "teahouse_kicks_total";
/// Seconds from a send entering the writer's queue to its answer (after
/// the commit).
pub const SEND_SECONDS: &str = "teahouse_send_seconds";
/// Messages per committed transaction of the group-commit writer.
pub const COMMIT_BATCH: &str = "teahouse_commit_batch_size";
/// The longest a socket's outbound queue got, recorded when it closes.
pub const SOCKET_QUEUE_HIGH_WATER: &str = "teahouse_socket_queue_high_water";

/// Bucket bounds of [`SEND_SECONDS`] (seconds): a lone send on a local
/// disk is a few ms, a loaded one tens of ms.
pub const SEND_SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Bucket bounds of [`COMMIT_BATCH`] (messages; the writer's batch is at
/// most 512).
pub const COMMIT_BATCH_BUCKETS: &[f64] =
    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Bucket bounds of [`SOCKET_QUEUE_HIGH_WATER`] (frames; the default queue
/// capacity is 256).
pub const QUEUE_BUCKETS: &[f64] = &[
    0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0,
];

/// The label values of [`KICKS`]: one per [`KickReason`].
const KICK_REASONS: [(KickReason, &str); 4] = [
    (KickReason::Lagging, "lagging"),
    (KickReason::SessionEnded, "session_ended"),
    (KickReason::Shutdown, "shutdown"),
    (KickReason::Draining, "draining"),
];

/// Handles on the domain's series. Cloning shares them.
#[derive(Clone, Debug)]
pub struct ChatMetrics {
    /// [`DELIVERIES`], added to once per publish (by its recipient count).
    pub deliveries: Counter,
    /// [`KICKS`] per reason, in [`KICK_REASONS`] order.
    kicks: [Counter; 4],
    /// [`SEND_SECONDS`], recorded by every send the writer answers.
    pub send_seconds: Histogram,
    /// [`COMMIT_BATCH`], recorded by every committed transaction.
    pub commit_batch: Histogram,
    /// [`SOCKET_QUEUE_HIGH_WATER`], recorded as each socket closes.
    pub queue_high_water: Histogram,
}

impl Default for ChatMetrics {
    /// No-op handles: nothing is recorded.
    fn default() -> Self {
        ChatMetrics {
            deliveries: Counter::noop(),
            kicks: [const { Counter::noop() }; 4],
            send_seconds: Histogram::noop(),
            commit_batch: Histogram::noop(),
            queue_high_water: Histogram::noop(),
        }
    }
}

impl ChatMetrics {
    /// Registers every series with `recorder` (and describes them).
    pub fn register(recorder: &dyn Recorder) -> ChatMetrics {
        static META: Metadata<'static> =
            Metadata::new(module_path!(), ::metrics::Level::INFO, Some(module_path!()));
        describe(recorder);
        let counter = |key: Key| recorder.register_counter(&key, &META);
        let histogram =
            |name: &'static str| recorder.register_histogram(&Key::from_static_name(name), &META);
        ChatMetrics {
            deliveries: counter(Key::from_static_name(DELIVERIES)),
            kicks: KICK_REASONS.map(|(_, reason)| {
                counter(Key::from_parts(
                    KICKS,
                    vec![Label::from_static_parts("reason", reason)],
                ))
            }),
            send_seconds: histogram(SEND_SECONDS),
            commit_batch: histogram(COMMIT_BATCH),
            queue_high_water: histogram(SOCKET_QUEUE_HIGH_WATER),
        }
    }

    /// Counts one socket told to close for `reason`.
    pub fn kicked(&self, reason: KickReason) {
        if let Some(i) = KICK_REASONS.iter().position(|(r, _)| *r == reason) {
            self.kicks[i].increment(1);
        }
    }
}

/// The help texts and units of the domain's series.
fn describe(recorder: &dyn Recorder) {
    recorder.describe_counter(
        DELIVERIES.into(),
        Some(Unit::Count),
        "Stored events handed to socket queues (one per recipient socket).".into(),
    );
    recorder.describe_counter(
        KICKS.into(),
        Some(Unit::Count),
        "Sockets the server told to close, by reason.".into(),
    );
    recorder.describe_histogram(
        SEND_SECONDS.into(),
        Some(Unit::Seconds),
        "Seconds from a send entering the writer's queue to its answer after the commit.".into(),
    );
    recorder.describe_histogram(
        COMMIT_BATCH.into(),
        Some(Unit::Count),
        "Messages per committed transaction of the group-commit writer.".into(),
    );
    recorder.describe_histogram(
        SOCKET_QUEUE_HIGH_WATER.into(),
        Some(Unit::Count),
        "The longest a socket's outbound queue got (frames), recorded when it closes.".into(),
    );
}
