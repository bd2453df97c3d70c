//! The webhook deliverers' flags (flattened into [`crate::Config`]).

use std::time::Duration;

use clap::Args;

/// How webhooks are delivered.
#[derive(Clone, Debug, Args)]
pub struct WebhookFlags {
    /// Seconds one delivery may take (connecting included) before it
    /// counts as failed.
    #[arg(long, env = "TEAHOUSE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,

    /// Milliseconds before the first retry of a failed delivery; each
    /// further retry waits twice as long, up to --webhook-retry-max-secs.
    #[arg(long, env = "TEAHOUSE_WEBHOOK_RETRY_BASE_MS", default_value_t = 1000)]
    pub webhook_retry_base_ms: u64,

    /// Longest wait between two retries, in seconds.
    #[arg(long, env = "TEAHOUSE_WEBHOOK_RETRY_MAX_SECS", default_value_t = 600)]
    pub webhook_retry_max_secs: u64,

    /// Seconds an endpoint may fail without a single success before it is
    /// disabled (and admins are told on the admin page).
    #[arg(
        long,
        env = "TEAHOUSE_WEBHOOK_DISABLE_AFTER_SECS",
        default_value_t = 86_400
    )]
    pub webhook_disable_after_secs: u64,
}

impl Default for WebhookFlags {
    fn default() -> Self {
        WebhookFlags {
            webhook_timeout_secs: 10,
            webhook_retry_base_ms: 1000,
            webhook_retry_max_secs: 600,
            webhook_disable_after_secs: 86_400,
        }
    }
}

/// The deliverers' settings, from the flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Longest one delivery may take.
    pub timeout: Duration,
    /// Wait before the first retry.
    pub retry_base: Duration,
    /// Longest wait between retries.
    pub retry_max: Duration,
    /// Failing this long without a success disables an endpoint.
    pub disable_after: Duration,
    /// Progress (cursors, attempts) is saved at most this often, and at
    /// shutdown: after a crash at most this much is delivered again.
    pub save_every: Duration,
    /// Shortest pause between two reads of the logs, so a steady trickle
    /// of events is read in batches.
    pub round_gap: Duration,
    /// The logs are read at least this often even when nothing woke the
    /// deliverer (events written by another process).
    pub poll_every: Duration,
}

impl From<&WebhookFlags> for Settings {
    fn from(flags: &WebhookFlags) -> Settings {
        Settings {
            timeout: Duration::from_secs(flags.webhook_timeout_secs.clamp(1, 300)),
            retry_base: Duration::from_millis(flags.webhook_retry_base_ms.max(1)),
            retry_max: Duration::from_secs(flags.webhook_retry_max_secs.max(1)),
            disable_after: Duration::from_secs(flags.webhook_disable_after_secs.max(1)),
            save_every: Duration::from_secs(1),
            round_gap: Duration::from_millis(100),
            poll_every: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// The wait after the `attempt`-th failure of one delivery (1, 2, …):
    /// `retry_base` doubled each time, at most `retry_max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .retry_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        doubled.min(self.retry_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let s = Settings::from(&WebhookFlags::default());
        assert_eq!(s.backoff(1), Duration::from_secs(1));
        assert_eq!(s.backoff(2), Duration::from_secs(2));
        assert_eq!(s.backoff(5), Duration::from_secs(16));
        assert_eq!(s.backoff(11), Duration::from_secs(600));
        assert_eq!(s.backoff(u32::MAX), Duration::from_secs(600));
    }
}
