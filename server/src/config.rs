//! Command-line flags and environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use teahouse_domain::{ChatConfig, DeskConfig, MediaConfig};

/// Teahouse (茶馆): self-hosted real-time chat.
#[derive(Clone, Debug, Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on. Defaults to LEPTOS_SITE_ADDR (set by cargo-leptos), else 127.0.0.1:3000.
    #[arg(long, env = "TEAHOUSE_ADDR")]
    pub addr: Option<SocketAddr>,

    /// Directory for the embedded database and other state.
    #[arg(long, env = "TEAHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL; defaults to SQLite at <data-dir>/teahouse.db.
    #[arg(long, env = "TEAHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Longest message accepted, in characters.
    #[arg(long, env = "TEAHOUSE_MAX_MESSAGE_CHARS", default_value_t = teahouse_protocol::limits::MESSAGE_MAX_DEFAULT)]
    pub max_message_chars: usize,

    /// Messages a user may send per second (sustained); 0 disables the limit.
    #[arg(long, env = "TEAHOUSE_SENDS_PER_SEC", default_value_t = 10)]
    pub sends_per_sec: u32,

    /// Frames a WebSocket may have queued before it is disconnected as too slow.
    #[arg(long, env = "TEAHOUSE_CONN_QUEUE", default_value_t = 256)]
    pub conn_queue: usize,

    /// Maximum simultaneous WebSocket connections.
    #[arg(long, env = "TEAHOUSE_MAX_CONNECTIONS", default_value_t = 50_000)]
    pub max_connections: usize,

    /// Seconds between heartbeats; a socket silent for two of them is closed.
    #[arg(long, env = "TEAHOUSE_HEARTBEAT_SECS", default_value_t = 25)]
    pub heartbeat_secs: u64,

    /// Mark the session cookie Secure (set when serving over HTTPS).
    #[arg(long, env = "TEAHOUSE_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Seconds between renewals of a signed-in user's 30-day session (a
    /// session unused for 30 days expires; one in use never does).
    #[arg(long, env = "TEAHOUSE_SESSION_RENEW_SECS", default_value_t = app::api::ssr::SessionRenewal::DEFAULT_SECS)]
    pub session_renew_secs: u64,

    /// Other origins (exact scheme://host[:port], comma-separated) whose
    /// pages may make state-changing requests and open /ws with a user's
    /// cookie, besides this server's own.
    #[arg(long, env = "TEAHOUSE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// A reverse proxy stands in front: believe its X-Forwarded-For (last
    /// hop: the client address for login throttling) and
    /// X-Forwarded-Proto/-Host (this server's origin).
    #[arg(long, env = "TEAHOUSE_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Who may show the pages in a frame: a CSP frame-ancestors source list
    /// ('self', 'none', or origins separated by spaces).
    #[arg(long, env = "TEAHOUSE_FRAME_ANCESTORS", default_value = "'self'")]
    pub frame_ancestors: String,

    /// Largest image upload, in bytes.
    #[arg(long, env = "TEAHOUSE_MAX_IMAGE_BYTES", default_value_t = teahouse_protocol::limits::IMAGE_MAX_BYTES_DEFAULT)]
    pub max_image_bytes: u64,

    /// Largest voice clip upload, in bytes.
    #[arg(long, env = "TEAHOUSE_MAX_VOICE_BYTES", default_value_t = teahouse_protocol::limits::VOICE_MAX_BYTES_DEFAULT)]
    pub max_voice_bytes: u64,

    /// Longest voice clip, in seconds.
    #[arg(long, env = "TEAHOUSE_MAX_VOICE_SECS", default_value_t = teahouse_protocol::limits::VOICE_MAX_MS_DEFAULT / 1000)]
    pub max_voice_secs: u32,

    /// Largest video upload, in bytes.
    #[arg(long, env = "TEAHOUSE_MAX_VIDEO_BYTES", default_value_t = teahouse_protocol::limits::VIDEO_MAX_BYTES_DEFAULT)]
    pub max_video_bytes: u64,

    /// Longest video, in seconds.
    #[arg(long, env = "TEAHOUSE_MAX_VIDEO_SECS", default_value_t = teahouse_protocol::limits::VIDEO_MAX_MS_DEFAULT / 1000)]
    pub max_video_secs: u32,

    /// Uploads a user may start per minute; 0 disables the limit.
    #[arg(long, env = "TEAHOUSE_UPLOADS_PER_MIN", default_value_t = 30)]
    pub uploads_per_min: u32,

    /// `nice` value of the picture decoding threads (0-19; 0 runs them at
    /// the server's own priority). The default keeps sends fast on a core
    /// busy decoding photos.
    #[arg(long, env = "TEAHOUSE_DECODE_NICE", default_value_t = 10, value_parser = clap::value_parser!(i32).range(0..=19))]
    pub decode_nice: i32,

    /// Seconds an upload may stay unsent before it is removed.
    #[arg(long, env = "TEAHOUSE_UNSENT_MEDIA_SECS", default_value_t = 3600)]
    pub unsent_media_secs: u64,

    /// Seconds after sending within which a sender may recall their own
    /// message (room and group owners may remove any message at any time).
    #[arg(long, env = "TEAHOUSE_RECALL_SECS", default_value_t = teahouse_protocol::limits::RECALL_WINDOW_SECS_DEFAULT)]
    pub recall_secs: u64,

    /// Most support conversations one agent is given automatically (and may
    /// accept).
    #[arg(long, env = "TEAHOUSE_AGENT_MAX_OPEN", default_value_t = teahouse_protocol::limits::AGENT_MAX_OPEN_DEFAULT)]
    pub agent_max_open: u32,

    /// Seconds an agent's support conversations wait for them after their
    /// last socket closed, before they go back to the queue.
    #[arg(long, env = "TEAHOUSE_AGENT_GRACE_SECS", default_value_t = 20)]
    pub agent_grace_secs: u64,

    /// Support-desk guests one address may start per minute; 0 disables.
    #[arg(long, env = "TEAHOUSE_GUESTS_PER_MIN", default_value_t = 10)]
    pub guests_per_min: u32,

    /// Messages support-desk guests from one address may send per minute;
    /// 0 disables.
    #[arg(long, env = "TEAHOUSE_GUEST_SENDS_PER_MIN", default_value_t = 60)]
    pub guest_sends_per_min: u32,

    /// Webhook delivery (`--webhook-*`).
    #[command(flatten)]
    pub webhooks: crate::webhooks::WebhookFlags,
    /// Seconds a sign-in hand-off token works after the host backend made it.
    #[arg(long, env = "TEAHOUSE_HANDOFF_SECS", default_value_t = teahouse_protocol::limits::HANDOFF_TTL_SECS_DEFAULT, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub handoff_secs: u64,

    /// Serve `GET /metrics` (Prometheus text format). Off by default: the
    /// route does not exist (404).
    #[arg(long, env = "TEAHOUSE_METRICS", default_value_t = false)]
    pub metrics: bool,

    /// With `--metrics`: scrapes must send `Authorization: Bearer <token>`
    /// (else 401). Unset: anyone who reaches the port may scrape.
    #[arg(long, env = "TEAHOUSE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// On SIGTERM: seconds over which open sockets are closed with
    /// "reconnect elsewhere" (4010), evenly spaced; 0 closes them all at once.
    #[arg(long, env = "TEAHOUSE_DRAIN_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub drain_secs: u64,

    /// Login throttling (no flags: the defaults follow OWASP's guidance;
    /// tests shorten or lengthen them).
    #[arg(skip)]
    pub login_throttle: teahouse_domain::ThrottleConfig,
}

impl Config {
    /// The database URL to use.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }

    /// The domain's tunables.
    pub fn chat_config(&self) -> ChatConfig {
        ChatConfig {
            max_message_chars: self.max_message_chars.max(1),
            conn_queue_capacity: self.conn_queue.max(1),
            sends_per_sec: self.sends_per_sec,
            heartbeat: Duration::from_secs(self.heartbeat_secs.clamp(1, 3600)),
            login_throttle: self.login_throttle.clone(),
            media: self.media_config(),
            recall_window: Duration::from_secs(self.recall_secs),
            handoff_ttl: Duration::from_secs(self.handoff_secs.max(1)),
            desk: DeskConfig {
                max_per_agent: self.agent_max_open,
                grace: Duration::from_secs(self.agent_grace_secs),
                guests_per_min: self.guests_per_min,
                guest_sends_per_min: self.guest_sends_per_min,
            },
            ..ChatConfig::default()
        }
    }

    /// Media limits; files under `<data-dir>/media`.
    pub fn media_config(&self) -> MediaConfig {
        MediaConfig {
            image_max_bytes: self.max_image_bytes,
            voice_max_bytes: self.max_voice_bytes,
            voice_max_ms: self.max_voice_secs.saturating_mul(1000),
            video_max_bytes: self.max_video_bytes,
            video_max_ms: self.max_video_secs.saturating_mul(1000),
            uploads_per_minute: self.uploads_per_min,
            unsent_ttl: Duration::from_secs(self.unsent_media_secs),
            decode_nice: self.decode_nice,
            ..MediaConfig::new(self.data_dir.join("media"))
        }
    }

    /// Defaults for tests: everything in `data_dir`, port chosen by the caller.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            addr: None,
            data_dir,
            database_url: None,
            max_message_chars: teahouse_protocol::limits::MESSAGE_MAX_DEFAULT,
            sends_per_sec: 0,
            conn_queue: 256,
            max_connections: 1000,
            heartbeat_secs: 25,
            secure_cookies: false,
            session_renew_secs: app::api::ssr::SessionRenewal::DEFAULT_SECS,
            allowed_origins: Vec::new(),
            trust_proxy: false,
            frame_ancestors: "'self'".into(),
            login_throttle: teahouse_domain::ThrottleConfig::default(),
            max_image_bytes: teahouse_protocol::limits::IMAGE_MAX_BYTES_DEFAULT,
            max_voice_bytes: teahouse_protocol::limits::VOICE_MAX_BYTES_DEFAULT,
            max_voice_secs: teahouse_protocol::limits::VOICE_MAX_MS_DEFAULT / 1000,
            max_video_bytes: teahouse_protocol::limits::VIDEO_MAX_BYTES_DEFAULT,
            max_video_secs: teahouse_protocol::limits::VIDEO_MAX_MS_DEFAULT / 1000,
            uploads_per_min: 0,
            unsent_media_secs: 3600,
            decode_nice: 10,
            recall_secs: teahouse_protocol::limits::RECALL_WINDOW_SECS_DEFAULT,
            agent_max_open: teahouse_protocol::limits::AGENT_MAX_OPEN_DEFAULT,
            agent_grace_secs: 1,
            guests_per_min: 0,
            guest_sends_per_min: 0,
            webhooks: crate::webhooks::WebhookFlags::default(),
            handoff_secs: teahouse_protocol::limits::HANDOFF_TTL_SECS_DEFAULT,
            metrics: false,
            metrics_token: None,
            drain_secs: 0,
        }
    }
}

/// SQLite at `<data_dir>/teahouse.db`: the database when no URL is given.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("teahouse.db").display())
}
