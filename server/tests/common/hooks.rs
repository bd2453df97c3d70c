//! Helpers for the webhook suite: a real receiver (an HTTP server on
//! 127.0.0.1:0 that checks every delivery's signature on its own, with
//! the `hmac` and `sha2` crates, and answers as the test tells it), and
//! restarting the test server on the same data directory.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use leptos::prelude::LeptosOptions;
use server::{build, run, Config};
use sha2::Sha256;
use teahouse_protocol::WebhookPayload;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use super::{Client, TestServer};

/// How the receiver answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 200 at once.
    Ok,
    /// This status, every time.
    Fail(u16),
    /// 503 to the first `n` requests, then 200.
    FailFirst(usize),
    /// 200 to the first `n` requests; the later ones hang until the mode
    /// changes (then answered as the new mode says).
    StallAfter(usize),
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// The `teahouse-webhook-id` header.
    pub id: String,
    /// The `teahouse-webhook-event` header.
    pub event: String,
    /// The body.
    pub payload: WebhookPayload,
    /// Whether the signature matched HMAC-SHA256(secret, ts + "." + body).
    pub signature_ok: bool,
    /// The `teahouse-webhook-timestamp` header.
    pub timestamp: i64,
    /// What it was answered (0 while it hangs or if it never was).
    pub answered: u16,
}

/// The receiver's shared state.
pub struct Shared {
    /// The signing secret (set once the endpoint is registered).
    secret: Mutex<String>,
    /// How to answer; changes wake hanging requests.
    mode: watch::Sender<Mode>,
    /// Everything received, in arrival order; the count wakes waiters.
    log: Mutex<Vec<Received>>,
    /// Bumped after every change of `log`.
    changed: watch::Sender<usize>,
}

/// A receiver running in the test.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver answering as `mode` says.
    pub async fn start(mode: Mode) -> Receiver {
        let shared = Arc::new(Shared {
            secret: Mutex::new(String::new()),
            mode: watch::Sender::new(mode),
            log: Mutex::new(Vec::new()),
            changed: watch::Sender::new(0),
        });
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, shared }
    }

    /// The endpoint URL to register.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Registers this receiver as `admin` for `events`; returns the
    /// endpoint's id and remembers its secret.
    pub async fn register(&self, admin: &Client, events: &str) -> i64 {
        let created = admin
            .call(
                "admin_create_webhook",
                &[("url", &self.url()), ("events", events)],
            )
            .await
            .expect("admin_create_webhook");
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "{created}");
        *self.shared.secret.lock().unwrap() = secret;
        created["webhook"]["id"].as_i64().unwrap()
    }

    /// The secret it checks signatures with.
    pub fn secret(&self) -> String {
        self.shared.secret.lock().unwrap().clone()
    }

    /// Changes how it answers (hanging requests are answered by the new mode).
    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.send_replace(mode);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Waits (at most 30 s) until `done` holds for what was received.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let mut changed = self.shared.changed.subscribe();
        let wait = async {
            loop {
                changed.borrow_and_update();
                let log = self.received();
                if done(&log) {
                    return log;
                }
                changed.changed().await.unwrap();
            }
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(log) => log,
            Err(_) => panic!(
                "receiver: {what} did not happen; got {:#?}",
                self.received()
            ),
        }
    }
}

/// The receiver's handler: checks, records, answers.
async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let timestamp = header("teahouse-webhook-timestamp");
    let expected = {
        let secret = shared.secret.lock().unwrap().clone();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(&body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("v1={hex}")
    };
    let payload: WebhookPayload = serde_json::from_slice(&body).expect("a webhook payload");
    let index = {
        let mut log = shared.log.lock().unwrap();
        log.push(Received {
            id: header("teahouse-webhook-id"),
            event: header("teahouse-webhook-event"),
            payload,
            signature_ok: header("teahouse-webhook-signature") == expected,
            timestamp: timestamp.parse().unwrap_or(0),
            answered: 0,
        });
        log.len() - 1
    };
    shared.changed.send_modify(|n| *n += 1);
    let mut mode = shared.mode.subscribe();
    let status = loop {
        let now = *mode.borrow_and_update();
        match now {
            Mode::Ok => break 200,
            Mode::Fail(code) => break code,
            Mode::FailFirst(n) if index < n => break 503,
            Mode::FailFirst(_) => break 200,
            Mode::StallAfter(n) if index < n => break 200,
            Mode::StallAfter(_) => {
                if mode.changed().await.is_err() {
                    break 500;
                }
            }
        }
    };
    shared.log.lock().unwrap()[index].answered = status;
    shared.changed.send_modify(|n| *n += 1);
    StatusCode::from_u16(status).unwrap()
}

/// Distinct deliveries answered 2xx, by id, in the order first answered.
pub fn delivered(log: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    log.iter()
        .filter(|r| (200..300).contains(&r.answered))
        .filter(|r| seen.insert(r.id.clone()))
        .cloned()
        .collect()
}

impl TestServer {
    /// Stops this server gracefully (like SIGTERM) and starts a new one on
    /// the same data directory, with `tweak` applied to its config.
    pub async fn restart_with(self, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let TestServer {
            shutdown,
            mut handle,
            _dir,
            ..
        } = self;
        if let Some(tx) = shutdown {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut handle)
            .await
            .expect("server did not stop in time")
            .unwrap();
        let mut config = Config::for_tests(_dir.path().to_path_buf());
        tweak(&mut config);
        let options = LeptosOptions::builder()
            .output_name("teahouse")
            .site_root("target/site")
            .build();
        let server = build(&config, options).await.unwrap();
        let chat = server.chat.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            run(listener, server, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            shutdown: Some(tx),
            handle,
            chat,
            _dir,
        }
    }
}
