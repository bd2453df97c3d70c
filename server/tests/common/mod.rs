//! Test harness: the real server on 127.0.0.1:0 with a temporary SQLite
//! file, real HTTP clients with cookie jars and real WebSocket clients.

#![allow(dead_code)]

pub mod pictures;

use std::net::SocketAddr;
use std::time::Duration;

pub mod access;
pub mod api;
pub mod hooks;

use futures::{SinkExt, StreamExt};
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use server::{build, run, Config};
use teahouse_protocol::ServerFrame;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<()>,
    /// The server's chat service (tests pause its writes).
    pub chat: std::sync::Arc<teahouse_domain::Chat>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().to_path_buf());
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
            _dir: dir,
        }
    }

    /// Starts the drain (like SIGTERM) without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The server's data directory (database, media files).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Triggers graceful shutdown (like SIGTERM) and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.handle)
            .await
            .expect("server did not stop in time")
            .unwrap();
    }

    /// Another signed-in session of an existing user (a second device),
    /// with its own cookie jar.
    pub async fn login(&self, username: &str, id: i64) -> Client {
        let client = Client::new(self);
        client
            .call(
                "login",
                &[("username", username), ("password", "tea-leaves-42")],
            )
            .await
            .expect("login");
        Client { id, ..client }
    }

    /// A client with its own cookie jar, registered as `username`.
    pub async fn user(&self, username: &str) -> Client {
        Client::new(self).register(username).await
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub addr: SocketAddr,
    pub id: i64,
}

impl Client {
    /// A client with its own cookie jar for `server`.
    pub fn new(server: &TestServer) -> Client {
        Client::at(server.addr)
    }

    /// Calls a server function; Ok(json) on 2xx, Err((status, json)) otherwise.
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> Result<Value, (u16, Value)> {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err((status, body))
        }
    }

    pub async fn send(
        &self,
        room: i64,
        client_id: &str,
        text: &str,
    ) -> Result<Value, (u16, Value)> {
        self.call(
            "send_message",
            &[
                ("room_id", &room.to_string()),
                ("client_id", client_id),
                ("text", text),
            ],
        )
        .await
    }

    pub async fn create_room(&self, name: &str) -> i64 {
        let room = self
            .call("create_room", &[("name", name), ("description", "")])
            .await
            .unwrap();
        room["id"].as_i64().unwrap()
    }

    pub async fn join(&self, room: i64) {
        self.call("join_room", &[("room_id", &room.to_string())])
            .await
            .unwrap();
    }

    /// The session cookie header, for the WebSocket handshake.
    pub fn cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&self.base).unwrap();
        self.jar
            .cookies(&url)
            .map(|h| h.to_str().unwrap().to_owned())
    }

    /// Opens `/ws` with this client's session cookie.
    pub async fn connect(&self) -> Socket {
        let cookie = self.cookie().expect("logged in");
        let mut socket = self.socket(Some(&cookie)).await.expect("upgrade");
        match socket.next().await {
            ServerFrame::Hello { user, .. } => assert_eq!(user.id.0, self.id),
            other => panic!("expected hello, got {other:?}"),
        }
        socket
    }

    pub async fn socket(
        &self,
        cookie: Option<&str>,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let mut req = format!("ws://{}/ws", self.addr)
            .into_client_request()
            .unwrap();
        if let Some(c) = cookie {
            req.headers_mut()
                .insert("cookie", HeaderValue::from_str(c).unwrap());
        }
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .expect("WebSocket handshake timed out")?;
        Ok(Socket { ws })
    }
}

pub struct Socket {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    /// Next server frame (skipping pings), or None if nothing came within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerFrame> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    pub async fn next(&mut self) -> ServerFrame {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("expected a frame")
    }

    /// Skips frames until one matches.
    pub async fn until(&mut self, mut pred: impl FnMut(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            let f = self.next().await;
            if pred(&f) {
                return f;
            }
        }
    }

    /// Sends a ping and returns every frame received before its pong: a
    /// barrier proving everything the server queued earlier was delivered.
    pub async fn frames_until_pong(&mut self) -> Vec<ServerFrame> {
        self.ping().await;
        let mut frames = Vec::new();
        loop {
            match self.next().await {
                ServerFrame::Pong => return frames,
                f => frames.push(f),
            }
        }
    }

    /// Waits for the server's close frame (skipping other frames) and
    /// returns its code; panics if the socket ends without one.
    pub async fn close_code(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return frame.map(|f| u16::from(f.code)).expect("a close code")
                }
                Ok(Some(Ok(_))) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    pub async fn ping(&mut self) {
        self.ws
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
    }
}

/// The real `teahouse` binary as a child process on a data dir of the
/// caller's (so a test can kill it and start another on the same files).
pub struct Spawned {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Spawned {
    /// Starts `teahouse --data-dir <data_dir> --addr 127.0.0.1:0
    /// --sends-per-sec 0 <extra>` and waits for the address it prints.
    pub async fn start(data_dir: &std::path::Path, extra: &[&str]) -> Spawned {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_teahouse"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--addr", "127.0.0.1:0", "--sends-per-sec", "0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn teahouse");
        let stdout = child.stdout.take().expect("stdout");
        // The first line naming the address; the rest is drained so the
        // server never blocks on a full pipe.
        let (tx, rx) = oneshot::channel::<Option<SocketAddr>>();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let addr = line.split("http://").nth(1).map(str::trim);
                if let Some(Ok(addr)) = addr.map(str::parse::<SocketAddr>) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Some(addr));
                    }
                }
            }
            if let Some(tx) = tx.take() {
                let _ = tx.send(None);
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("teahouse did not print its address within 60 s")
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("teahouse exited before listening: {:?}", child.try_wait()));
        Spawned { child, addr }
    }
}

impl Spawned {
    /// `kill -9`: the process dies wherever it is, nothing is flushed.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for the graceful shutdown to finish.
    pub async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let waited = tokio::task::spawn_blocking(move || self.child.wait())
            .await
            .unwrap()
            .expect("wait");
        assert!(waited.success(), "teahouse exited with {waited}");
    }

    /// A client with its own cookie jar (not signed in).
    pub fn client(&self) -> Client {
        Client::at(self.addr)
    }

    /// A client registered as `username`.
    pub async fn user(&self, username: &str) -> Client {
        self.client().register(username).await
    }

    /// A client signed in as `username` (registered earlier, maybe on
    /// another run of the server on the same data).
    pub async fn login(&self, username: &str) -> Client {
        let client = self.client();
        let me = client
            .call(
                "login",
                &[("username", username), ("password", "tea-leaves-42")],
            )
            .await
            .expect("login");
        Client {
            id: me["id"].as_i64().unwrap(),
            ..client
        }
    }
}

impl Drop for Spawned {
    /// A failing test does not leave its server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Client {
    /// A client with its own cookie jar for the server at `addr`.
    pub fn at(addr: SocketAddr) -> Client {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Client {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                // A hung request fails its test instead of stalling the run
                // (generous: the fault tests run on a loaded machine).
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            jar,
            base: format!("http://{addr}"),
            addr,
            id: 0,
        }
    }

    /// The texts of the messages in `room`'s log, oldest first (first page).
    pub async fn message_texts(&self, room: i64) -> Vec<String> {
        let history = self
            .call("history", &[("room_id", &room.to_string()), ("after", "0")])
            .await
            .unwrap();
        history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["body"]["kind"] == "message")
            .filter_map(|e| e["body"]["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// Registers this client as `username` (password "tea-leaves-42").
    pub async fn register(self, username: &str) -> Client {
        let me = self
            .call(
                "register",
                &[
                    ("username", username),
                    ("nickname", &format!("{username}-nick")),
                    ("password", "tea-leaves-42"),
                ],
            )
            .await
            .expect("register");
        Client {
            id: me["id"].as_i64().unwrap(),
            ..self
        }
    }

    /// Like [`Client::call`], but a failed connection (server gone) is
    /// `Err(None)` instead of a panic.
    pub async fn try_call(
        &self,
        name: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, Option<(u16, Value)>> {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .form(form)
            .send()
            .await
            .map_err(|_| None)?;
        let status = res.status().as_u16();
        let body = res.bytes().await.map_err(|_| None)?;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(Some((status, body)))
        }
    }

    /// Every event of `room` after `after`, in order, fetched page by page.
    pub async fn events_after(
        &self,
        room: i64,
        after: i64,
    ) -> Vec<teahouse_protocol::ConversationEvent> {
        let mut events: Vec<teahouse_protocol::ConversationEvent> = Vec::new();
        let mut cursor = after;
        loop {
            let page = self
                .call(
                    "history",
                    &[
                        ("room_id", &room.to_string()),
                        ("after", &cursor.to_string()),
                        ("limit", "200"),
                    ],
                )
                .await
                .expect("history");
            let page: Vec<teahouse_protocol::ConversationEvent> =
                serde_json::from_value(page).expect("history is a list of events");
            let Some(last) = page.last() else {
                return events;
            };
            cursor = last.seq;
            events.extend(page);
        }
    }
}
