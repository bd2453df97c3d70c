//! The Teahouse server: wires the domain ([`teahouse_domain::Chat`]) and the
//! Leptos app into one axum router and runs it.
//!
//! Layout:
//! - [`config`]: flags and environment variables.
//! - [`backup`]: `teahouse backup`, a consistent copy of the database taken
//!   while the server runs.
//! - [`grant`]: `teahouse grant-role`, the operator's way to make the
//!   first admin.
//! - [`routes`]: one module per resource with its own router: the pages,
//!   the server functions (`POST /api/<name>`), `/ws`, the seed-protocol
//!   socket `/compat/ws`, `/healthz` and `/readyz`, media
//!   uploads and files (`/api/upload/{kind}`, `/media/{id}`), avatars
//!   (`/api/upload/avatar`, `/avatar/{id}/{side}`); the server API for
//!   other backends (`/api/v1/…`, `routes::v1`) and the sign-in hand-off
//!   (`/auth/handoff`).
//! - [`security`]: CSRF protection (allowed origins), security headers and
//!   the CSP nonce, the client address for login throttling.
//! - [`metrics`]: `GET /metrics` (Prometheus text, with `--metrics`),
//!   the per-server recorder and the server's own series.
//! - [`drain`]: the draining flag SIGTERM sets (`/readyz` 503, no new
//!   sockets) before the sockets are closed over `--drain-secs`.
//! - [`webhooks`]: webhook delivery: one task per enabled endpoint,
//!   reading the logs through its cursors, signed POSTs with retries.
//! - [`error`]: start-up errors (request errors are `app::error::AppError`,
//!   the one JSON error shape of every route).
//! - this file: the shared state, the router, serving, and the drain and
//!   graceful shutdown.
//!
//! Integration tests build the same router with [`build`] and serve it on
//! 127.0.0.1:0 with [`run`].

pub mod backup;
pub mod config;
pub mod drain;
pub mod error;
pub mod grant;
pub mod metrics;
pub mod routes;
pub mod security;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::api::ssr::{Services, SessionRenewal};
use axum::extract::FromRef;
use axum::middleware;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::prelude::*;
use teahouse_domain::{Chat, KickReason, SqliteStore};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::compression::predicate::{
    DefaultPredicate, NotForContentType, Predicate, SizeAbove,
};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{CachingSessionStore, ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::SqliteStore as SessionStore;

pub use config::Config;
pub use error::StartError;
use security::cookies::{CookieRule, SESSION_COOKIE};
use security::headers::SecurityHeaders;
use security::origin::OriginPolicy;

/// Largest request body accepted (bytes) on every route but uploads
/// (`routes::media`, with their own per-kind limits); larger ones get 413.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Responses smaller than this (bytes) are sent uncompressed.
pub const MIN_COMPRESSED_BODY: u16 = 1024;

/// Sessions kept in memory at most (least recently used are dropped first).
pub const SESSION_CACHE_ENTRIES: u64 = 100_000;

/// The one state shared by every handler; its [`Services`] are also what
/// every server function gets in its context.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The chat service (database + fan-out hub).
    pub chat: Arc<Chat>,
    /// The chat service and session renewal, as server functions see them.
    pub services: Services,
    /// Leptos settings (site root, output name) for SSR and static files.
    pub leptos_options: LeptosOptions,
    /// Bounds the number of open WebSockets.
    pub conn_limit: Arc<Semaphore>,
    /// Which origins may act with a user's cookie (also checked by `/ws`).
    pub origins: Arc<OriginPolicy>,
    /// Set on SIGTERM: `/readyz` turns 503 and no new socket is opened.
    pub drain: Arc<drain::Drain>,
}

/// A built server, ready to run.
pub struct Server {
    pub router: Router,
    pub chat: Arc<Chat>,
    /// The webhook deliverers, stopped (saving their progress) at shutdown.
    pub deliveries: webhooks::Deliveries,
    /// The draining flag the routes look at, set when the drain starts.
    pub drain: Arc<drain::Drain>,
    /// `--drain-secs`: the window the open sockets are closed over.
    pub drain_window: Duration,
}

/// Opens the database, prepares sessions and builds the router.
pub async fn build(config: &Config, leptos_options: LeptosOptions) -> Result<Server, StartError> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
    }
    let store = SqliteStore::open(&config.database_url()).await?;
    let sessions = SessionStore::new(store.sessions_pool());
    sessions
        .migrate()
        .await
        .map_err(|e| StartError::Sessions(e.to_string()))?;
    tokio::spawn(
        sessions
            .clone()
            .continuously_delete_expired(Duration::from_secs(3600)),
    );
    // Every authenticated request loads its session: a bounded in-memory
    // cache in front of SQLite saves that query (writes go to both).
    let cached_sessions =
        CachingSessionStore::new(MokaStore::new(Some(SESSION_CACHE_ENTRIES)), sessions);
    let cookie_rule = CookieRule::new(&config.frame_ancestors, config.secure_cookies);
    let session_layer = SessionManagerLayer::new(cached_sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(cookie_rule.same_site)
        .with_secure(cookie_rule.secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(30),
        ));

    let origins = Arc::new(
        OriginPolicy::new(
            &config.allowed_origins,
            config.secure_cookies,
            config.trust_proxy,
        )
        .map_err(StartError::Config)?,
    );
    // `cargo leptos watch` sets LEPTOS_WATCH; its reload script then
    // connects to another port.
    let dev_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    let security_headers = Arc::new(
        SecurityHeaders::new(&config.frame_ancestors, dev_reload).map_err(StartError::Config)?,
    );
    let metrics = metrics::register(config.metrics, config.metrics_token.clone())
        .map_err(StartError::Config)?;
    let chat_config = teahouse_domain::ChatConfig {
        metrics: metrics.chat.clone(),
        ..config.chat_config()
    };
    let chat = Chat::start(Arc::new(store), chat_config).await?;
    let drain = Arc::new(drain::Drain::default());
    let services = Services {
        chat: chat.clone(),
        renewal: SessionRenewal(Duration::from_secs(config.session_renew_secs)),
    };
    let state = AppState {
        chat: chat.clone(),
        services: services.clone(),
        leptos_options: leptos_options.clone(),
        conn_limit: Arc::new(Semaphore::new(config.max_connections)),
        origins: origins.clone(),
        drain: drain.clone(),
    };
    let trust_proxy = config.trust_proxy;
    spawn_media_sweep(chat.clone());
    let deliveries = webhooks::Deliveries::start(
        &chat,
        (&config.webhooks).into(),
        metrics.server.webhooks.clone(),
    )
    .map_err(StartError::Config)?;
    // Only with `--metrics`: otherwise `/metrics` is the app's 404.
    let metrics_route = match &metrics.exporter {
        Some(exporter) => routes_metrics(exporter.clone(), chat.clone(), drain.clone()),
        None => Router::new(),
    };
    let router = Router::new()
        .merge(metrics_route)
        .merge(routes::health::router())
        .merge(routes::ws::router())
        .merge(routes::compat::router())
        .merge(routes::pages::router(
            leptos_options,
            services.clone(),
            trust_proxy,
        ))
        .merge(routes::api::router(services, trust_proxy))
        .merge(routes::v1::router())
        .merge(routes::handoff::router())
        // Files under the site root; anything else is the app's 404 page
        // (with this response's nonce, like every page).
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || security::provide_request_context(trust_proxy),
            app::shell,
        ))
        // No request needs more: a 2000-character message is ~8 KB form-encoded.
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
        // Media: merged after the body limit so that uploads are the one
        // route without it (they stream to disk with per-kind limits).
        .merge(routes::media::router())
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            cookie_rule,
            security::cookies::partition_session_cookie,
        ))
        // Before the body is read or the session loaded.
        .layer(middleware::from_fn_with_state(
            origins,
            security::origin::refuse_cross_origin,
        ))
        // Pages, scripts and history pages are worth compressing; a send's
        // answer (a few hundred bytes) is not: a deflate stream per request
        // costs more CPU than the bytes it saves.
        .layer(
            CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(SizeAbove::new(MIN_COMPRESSED_BODY))
                    // Already compressed, and served in byte ranges.
                    .and(NotForContentType::const_new("audio/"))
                    .and(NotForContentType::const_new("video/")),
            ),
        )
        // Outside everything else, so every answer gets them (413s and 403s too).
        .layer(middleware::from_fn_with_state(
            security_headers,
            security::headers::set_security_headers,
        ))
        .layer(TraceLayer::new_for_http());
    // Outermost: every answer is counted by its final status; only with
    // `--metrics` (a middleware on every request costs even when its
    // counters do nothing).
    let router = if config.metrics {
        router.layer(middleware::from_fn_with_state(
            metrics.server.clone(),
            metrics::count_responses,
        ))
    } else {
        router
    }
    .with_state(state);
    Ok(Server {
        router,
        chat,
        deliveries,
        drain,
        drain_window: Duration::from_secs(config.drain_secs),
    })
}

/// The `/metrics` route for the app's router.
fn routes_metrics(
    exporter: Arc<metrics::Exporter>,
    chat: Arc<Chat>,
    drain: Arc<drain::Drain>,
) -> Router<AppState> {
    metrics::router(exporter, chat, drain)
}

/// How often uploads never sent are looked for (those older than
/// `--unsent-media-secs` are removed).
const MEDIA_SWEEP_EVERY: Duration = Duration::from_secs(300);

/// Removes uploads never sent, now and every [`MEDIA_SWEEP_EVERY`].
fn spawn_media_sweep(chat: Arc<Chat>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(MEDIA_SWEEP_EVERY);
        loop {
            every.tick().await;
            match chat.sweep_unsent_media().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed uploads never sent"),
                Err(e) => tracing::error!(error = %e, "sweeping uploads never sent failed"),
            }
        }
    });
}

/// Serves until `shutdown` resolves, then drains: `/readyz` turns 503 and
/// no new socket is opened at once; the open sockets are closed with
/// "reconnect elsewhere" (4010) evenly over the drain window while other
/// requests are still served; then the listener closes, the requests in
/// flight finish (a send in flight is answered once stored), the webhook
/// deliverers stop and the database is closed.
pub async fn run(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let Server {
        router,
        chat,
        deliveries,
        drain,
        drain_window,
    } = server;
    let draining = chat.clone();
    // Accepted sockets send at once (TCP_NODELAY). Frames are batched in
    // user space instead: a connection writes everything queued for it in
    // one `write` (see `ws::WRITE_BUFFER`), so a busy socket gets few large
    // segments and an idle one gets its frame without waiting for an ACK.
    // Measured (bench fanout, 1,000 members, one core, alternated runs):
    // with Nagle on, the kernel did that batching but a frame could wait
    // for the client's ACK of the previous one, which arrives only when the
    // client has read it: p99 53–56 ms at 300–600 sends/s, against 30–34 ms
    // with TCP_NODELAY, at the same deliveries/s. (Before user-space
    // batching, one `write` per frame, TCP_NODELAY had cost half the
    // throughput; Nagle was then the better choice.)
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted socket");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        drain.begin();
        tracing::info!(
            sockets = draining.connection_count(),
            window_secs = drain_window.as_secs_f64(),
            "draining: closing sockets (reconnect elsewhere)"
        );
        draining.drain_sockets(drain_window).await;
        tracing::info!("drained: finishing the requests in flight");
    })
    .await
    .map_err(StartError::Serve)?;
    // A socket whose upgrade was under way as the drain began (past the
    // check, not yet registered) may have opened after the last close.
    chat.close_all_sockets(KickReason::Draining);
    deliveries.stop().await;
    // Give socket tasks a moment to send their close frames.
    for _ in 0..50 {
        if chat.connection_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    chat.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM, counted: [`Signals::first`] starts the drain,
/// [`Signals::second`] (during the drain) means "exit now".
pub struct Signals {
    /// How many signals came so far.
    count: tokio::sync::watch::Receiver<u32>,
}

impl Signals {
    /// Starts listening for Ctrl-C and SIGTERM.
    pub fn listen() -> Signals {
        let (tx, count) = tokio::sync::watch::channel(0u32);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            // Both streams are made once, so no signal falls between two.
            match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                _ = term.recv() => {}
                                _ = int.recv() => {}
                            }
                            tx.send_modify(|n| *n += 1);
                        }
                    });
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM and Ctrl-C");
                }
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            loop {
                shutdown_signal().await;
                tx.send_modify(|n| *n += 1);
            }
        });
        Signals { count }
    }

    /// Resolves once the `n`th signal came.
    fn nth(&self, n: u32) -> impl Future<Output = ()> + Send + 'static {
        let mut count = self.count.clone();
        async move {
            // An error means the listener ended: no signal will come.
            if count.wait_for(|c| *c >= n).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The first signal: drain and stop.
    pub fn first(&self) -> impl Future<Output = ()> + Send + 'static {
        self.nth(1)
    }

    /// The second signal: stop now.
    pub fn second(&self) -> impl Future<Output = ()> + Send + 'static {
        self.nth(2)
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
