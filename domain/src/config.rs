//! Tunables of the chat service, set by the server's flags.

use std::time::Duration;

use teahouse_protocol::limits;

use crate::media::MediaConfig;
use crate::throttle::ThrottleConfig;

/// Limits and sizes the domain enforces.
#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// Longest message accepted, in characters (after trimming).
    pub max_message_chars: usize,
    /// Frames a connection may have queued before it is cut off as too slow.
    pub conn_queue_capacity: usize,
    /// Messages a user may send per second (sustained); 0 disables the limit.
    pub sends_per_sec: u32,
    /// Burst allowance on top of `sends_per_sec`.
    pub send_burst: u32,
    /// How failed logins are throttled (per username and address, and per
    /// address; see [`crate::throttle`]).
    pub login_throttle: ThrottleConfig,
    /// How many password hashes may run at once (argon2 is CPU-heavy by design).
    pub hash_concurrency: usize,
    /// How often a client must show signs of life on its socket.
    pub heartbeat: Duration,
    /// Media limits and where media files live.
    pub media: MediaConfig,
    /// The support desk's limits (see [`crate::desk`]).
    pub desk: crate::desk::DeskConfig,
    /// How long after sending a sender may recall their own message.
    pub recall_window: Duration,
    /// Typing signals relayed per user and conversation at most once per
    /// this long.
    pub typing_interval: Duration,
    /// How long a sign-in hand-off token works after it is made.
    pub handoff_ttl: Duration,
    /// Where the hub and the writer record deliveries, kicks, send
    /// latencies and batch sizes (no-ops unless the server exports them).
    pub metrics: crate::metrics::ChatMetrics,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            max_message_chars: limits::MESSAGE_MAX_DEFAULT,
            conn_queue_capacity: 256,
            sends_per_sec: 10,
            send_burst: 30,
            login_throttle: ThrottleConfig::default(),
            hash_concurrency: 2,
            heartbeat: Duration::from_secs(25),
            media: MediaConfig::default(),
            desk: crate::desk::DeskConfig::default(),
            recall_window: Duration::from_secs(limits::RECALL_WINDOW_SECS_DEFAULT),
            typing_interval: Duration::from_secs(limits::TYPING_INTERVAL_SECS),
            handoff_ttl: Duration::from_secs(limits::HANDOFF_TTL_SECS_DEFAULT),
            metrics: crate::metrics::ChatMetrics::default(),
        }
    }
}
