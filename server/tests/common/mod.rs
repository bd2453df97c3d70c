//! Test harness: the real server on 127.0.0.1:0 with a temporary SQLite
//! file, real HTTP clients with cookie jars and real WebSocket clients.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

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
            _dir: dir,
        }
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
        let client = Client::new(self);
        let me = client
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
            ..client
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub addr: SocketAddr,
    pub id: i64,
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Client {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                // A hung request fails its test instead of stalling the run.
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            jar,
            base: server.url(""),
            addr: server.addr,
            id: 0,
        }
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
            ServerFrame::Hello { user, .. } => assert_eq!(user.id, self.id),
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
