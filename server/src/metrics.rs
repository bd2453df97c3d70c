//! `GET /metrics`: the node's series in the Prometheus text format, when
//! `--metrics` is on (otherwise the route does not exist: 404).
//!
//! One [`PrometheusRecorder`] per server (not the process-global recorder
//! of the `metrics` macros), so several servers in one process (the tests)
//! each count their own. Every series is registered at start as a handle
//! (the domain's in [`ChatMetrics`], the server's in [`ServerMetrics`]):
//! recording is an atomic add or a lock-free histogram push, never a name
//! lookup or a label allocation. Gauges that are a count of something the
//! node holds (open sockets, sends waiting for the writer, draining) are
//! read when scraped instead of being kept up to date on every change.
//! The exporter's own HTTP listener is not used (its default features are
//! off): the route renders from the recorder's handle.
//!
//! With `--metrics-token`, a scrape must carry `Authorization: Bearer
//! <token>` (else 401 `metrics_token_invalid`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Gauge, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use teahouse_domain::{metrics as domain, Chat, ChatMetrics};
use teahouse_protocol::ErrorCode;

use crate::drain::Drain;
use app::error::AppError;

/// HTTP responses, by `class` (`1xx` … `5xx`).
pub const HTTP_RESPONSES: &str = "teahouse_http_responses_total";
/// Webhook POSTs answered 2xx.
pub const WEBHOOK_DELIVERED: &str = "teahouse_webhook_deliveries_total";
/// Webhook POSTs that failed (no answer, timeout, or not 2xx; each retry
/// counts).
pub const WEBHOOK_FAILED: &str = "teahouse_webhook_failures_total";
/// Open sockets (`/ws` and `/compat/ws`).
pub const OPEN_SOCKETS: &str = "teahouse_open_sockets";
/// Sends waiting in the group-commit writer's queue.
pub const WRITER_QUEUE: &str = "teahouse_writer_queue_length";
/// 1 while the node drains (after SIGTERM), else 0.
pub const DRAINING: &str = "teahouse_draining";

/// How often histogram samples are folded into their buckets when nobody
/// scrapes (so they never pile up in memory).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The `class` label values of [`HTTP_RESPONSES`], 1xx first.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Where the registered handles come from.
static META: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The server's own series.
#[derive(Clone, Debug)]
pub struct ServerMetrics {
    /// [`HTTP_RESPONSES`] per status class, 1xx first.
    http: Arc<[Counter; 5]>,
    /// [`WEBHOOK_DELIVERED`] and [`WEBHOOK_FAILED`], for the deliverers.
    pub webhooks: WebhookCounters,
}

/// What a webhook deliverer counts.
#[derive(Clone, Debug)]
pub struct WebhookCounters {
    /// POSTs answered 2xx.
    pub delivered: Counter,
    /// POSTs that failed.
    pub failed: Counter,
}

impl Default for ServerMetrics {
    /// No-op handles (`--metrics` off).
    fn default() -> Self {
        ServerMetrics {
            http: Arc::new([const { Counter::noop() }; 5]),
            webhooks: WebhookCounters {
                delivered: Counter::noop(),
                failed: Counter::noop(),
            },
        }
    }
}

impl ServerMetrics {
    fn register(recorder: &dyn Recorder) -> ServerMetrics {
        recorder.describe_counter(
            HTTP_RESPONSES.into(),
            Some(Unit::Count),
            "HTTP responses by status class.".into(),
        );
        recorder.describe_counter(
            WEBHOOK_DELIVERED.into(),
            Some(Unit::Count),
            "Webhook POSTs answered 2xx.".into(),
        );
        recorder.describe_counter(
            WEBHOOK_FAILED.into(),
            Some(Unit::Count),
            "Webhook POSTs that failed (each retry counts).".into(),
        );
        let counter = |key: Key| recorder.register_counter(&key, &META);
        ServerMetrics {
            http: Arc::new(STATUS_CLASSES.map(|class| {
                counter(Key::from_parts(
                    HTTP_RESPONSES,
                    vec![Label::from_static_parts("class", class)],
                ))
            })),
            webhooks: WebhookCounters {
                delivered: counter(Key::from_static_name(WEBHOOK_DELIVERED)),
                failed: counter(Key::from_static_name(WEBHOOK_FAILED)),
            },
        }
    }

    /// Counts one response with `status`.
    fn count(&self, status: StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.http[class].increment(1);
    }
}

/// The gauges read at scrape time.
struct Gauges {
    /// [`OPEN_SOCKETS`].
    open_sockets: Gauge,
    /// [`WRITER_QUEUE`].
    writer_queue: Gauge,
    /// [`DRAINING`].
    draining: Gauge,
}

impl Gauges {
    fn register(recorder: &dyn Recorder) -> Gauges {
        let gauge = |name: &'static str, help: &'static str| {
            recorder.describe_gauge(name.into(), None, help.into());
            recorder.register_gauge(&Key::from_static_name(name), &META)
        };
        Gauges {
            open_sockets: gauge(OPEN_SOCKETS, "Open sockets (/ws and /compat/ws)."),
            writer_queue: gauge(
                WRITER_QUEUE,
                "Sends waiting in the group-commit writer's queue.",
            ),
            draining: gauge(DRAINING, "1 while the node drains (after SIGTERM), else 0."),
        }
    }
}

/// What `/metrics` needs: the recorder's handle, the gauges it refreshes,
/// and the token a scrape must show.
pub struct Exporter {
    /// Renders the recorder's series.
    handle: PrometheusHandle,
    /// Refreshed before each render.
    gauges: Gauges,
    /// `--metrics-token`: the bearer token a scrape must carry, if any.
    token: Option<String>,
}

/// Every handle of one server: what the domain records into, what the
/// server records into, and (with `--metrics`) the exporter.
pub struct Registered {
    /// For [`teahouse_domain::ChatConfig::metrics`].
    pub chat: ChatMetrics,
    /// For the status-class middleware and the webhook deliverers.
    pub server: ServerMetrics,
    /// None when `--metrics` is off.
    pub exporter: Option<Arc<Exporter>>,
}

/// Registers every series (when `enabled`), or hands out no-op handles.
pub fn register(enabled: bool, token: Option<String>) -> Result<Registered, String> {
    if !enabled {
        return Ok(Registered {
            chat: ChatMetrics::default(),
            server: ServerMetrics::default(),
            exporter: None,
        });
    }
    let recorder = recorder().map_err(|e| format!("metrics: {e}"))?;
    let exporter = Arc::new(Exporter {
        handle: recorder.handle(),
        gauges: Gauges::register(&recorder),
        token: token.filter(|t| !t.is_empty()),
    });
    let handle = exporter.handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
    Ok(Registered {
        chat: ChatMetrics::register(&recorder),
        server: ServerMetrics::register(&recorder),
        exporter: Some(exporter),
    })
}

/// A recorder whose histograms are Prometheus histograms with the
/// domain's buckets (not summaries: buckets add up across nodes).
fn recorder() -> Result<PrometheusRecorder, BuildError> {
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in [
        (domain::SEND_SECONDS, domain::SEND_SECONDS_BUCKETS),
        (domain::COMMIT_BATCH, domain::COMMIT_BATCH_BUCKETS),
        (domain::SOCKET_QUEUE_HIGH_WATER, domain::QUEUE_BUCKETS),
    ] {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.into()), buckets)?;
    }
    Ok(builder.build_recorder())
}

/// State of the `/metrics` route.
#[derive(Clone)]
struct Scrape {
    exporter: Arc<Exporter>,
    chat: Arc<Chat>,
    drain: Arc<Drain>,
}

/// The `/metrics` route (its own state: it is merged only with `--metrics`).
pub fn router<S>(exporter: Arc<Exporter>, chat: Arc<Chat>, drain: Arc<Drain>) -> Router<S> {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            exporter,
            chat,
            drain,
        })
}

async fn scrape(State(s): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.exporter.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same_secret(g.trim().as_bytes(), token.as_bytes())) {
            return AppError::new(ErrorCode::MetricsTokenInvalid).into_response();
        }
    }
    let g = &s.exporter.gauges;
    g.open_sockets.set(s.chat.connection_count() as f64);
    g.writer_queue.set(s.chat.sends_waiting() as f64);
    g.draining
        .set(if s.drain.is_draining() { 1.0 } else { 0.0 });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.exporter.handle.render(),
    )
        .into_response()
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: counts every response by status class.
pub async fn count_responses(
    State(metrics): State<ServerMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    metrics.count(response.status());
    response
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cret", b"s3creT"));
        assert!(!same_secret(b"s3cret", b"s3cret!"));
        assert!(!same_secret(b"", b"x"));
    }
}
