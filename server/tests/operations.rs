//! Operations (issue 18): `/metrics` (off by default, token-protected when
//! asked, counts that move with real sends, deliveries, kicks and webhook
//! POSTs), `/readyz` (and 503 with the database gone), and the drain on SIGTERM: readyz 503 at once, new
//! sockets refused, open sockets closed with 4010 spread over the window,
//! a send in flight answered and stored, the server future returning; the
//! real binary exiting 0 after a drain, and at once on a second SIGTERM.

mod common;

use std::time::{Duration, Instant};

use common::hooks::{Mode, Receiver};
use common::{Client, Spawned, TestServer};
use serde_json::Value;
use teahouse_protocol::{close_code, EventBody, ServerFrame};
use tokio_tungstenite::tungstenite::Error as WsError;

/// The value of the sample `series` (name with its labels, as rendered),
/// or 0 when it is not there yet.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

/// `GET /metrics` with an optional bearer token: (status, body).
async fn scrape(client: &Client, token: Option<&str>) -> (u16, String) {
    let mut req = client.http.get(format!("{}/metrics", client.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// `/metrics` of a server without a token.
async fn metrics_of(client: &Client) -> String {
    let (status, text) = scrape(client, None).await;
    assert_eq!(status, 200, "{text}");
    text
}

/// `GET /readyz`: (status, body).
async fn readyz(client: &Client) -> (u16, String) {
    let res = client
        .http
        .get(format!("{}/readyz", client.base))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn with_metrics(config: &mut server::Config) {
    config.metrics = true;
}

async fn lobby(client: &Client) -> i64 {
    client.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn metrics_are_off_by_default_and_readyz_answers_ready() {
    let server = TestServer::start().await;
    let anyone = Client::new(&server);
    let (status, _) = scrape(&anyone, None).await;
    assert_eq!(status, 404, "no --metrics, no /metrics");
    assert_eq!(readyz(&anyone).await, (200, "ready".to_owned()));
    server.stop().await;
}

#[tokio::test]
async fn readyz_and_healthz_answer_503_when_the_database_does_not_answer() {
    let server = TestServer::start().await;
    let probe = Client::new(&server);
    assert_eq!(readyz(&probe).await, (200, "ready".to_owned()));
    // The database's pools closed under the server: every query fails.
    server.chat.close().await;
    assert_eq!(
        readyz(&probe).await,
        (503, "database unavailable".to_owned())
    );
    let health = probe
        .http
        .get(format!("{}/healthz", probe.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
    server.stop().await;
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let server = TestServer::start_with(|c| {
        c.metrics = true;
        c.metrics_token = Some("s3cret-token".into());
    })
    .await;
    let scraper = Client::new(&server);
    for wrong in [None, Some("wrong"), Some("s3cret-token-and-more")] {
        let (status, body) = scrape(&scraper, wrong).await;
        assert_eq!(status, 401, "token {wrong:?}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "metrics_token_invalid", "{body}");
    }
    let (status, text) = scrape(&scraper, Some("s3cret-token")).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("# TYPE teahouse_open_sockets gauge"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_a_send_its_delivery_and_a_kick() {
    let server = TestServer::start_with(with_metrics).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = lobby(&alice).await;

    let before = metrics_of(&alice).await;
    assert_eq!(sample(&before, "teahouse_open_sockets"), 0.0, "{before}");
    let mut bob_ws = bob.connect().await;
    let open = metrics_of(&alice).await;
    assert_eq!(sample(&open, "teahouse_open_sockets"), 1.0, "{open}");

    alice.send(room, "m-1", "你好").await.unwrap();
    bob_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if matches!(event.body, EventBody::Message(_))))
        .await;
    let sent = metrics_of(&alice).await;
    // One stored event handed to bob's one socket (alice has none).
    assert_eq!(
        sample(&sent, "teahouse_deliveries_total") - sample(&before, "teahouse_deliveries_total"),
        1.0,
        "{sent}"
    );
    assert_eq!(sample(&sent, "teahouse_send_seconds_count"), 1.0, "{sent}");
    assert!(sample(&sent, "teahouse_send_seconds_sum") > 0.0, "{sent}");
    assert_eq!(
        sample(&sent, "teahouse_send_seconds_bucket{le=\"+Inf\"}"),
        1.0,
        "{sent}"
    );
    assert!(
        sample(&sent, "teahouse_commit_batch_size_count") >= 1.0,
        "{sent}"
    );
    assert!(
        sample(&sent, "teahouse_http_responses_total{class=\"2xx\"}")
            > sample(&before, "teahouse_http_responses_total{class=\"2xx\"}"),
        "{sent}"
    );
    assert_eq!(sample(&sent, "teahouse_writer_queue_length"), 0.0, "{sent}");
    assert_eq!(sample(&sent, "teahouse_draining"), 0.0, "{sent}");

    let kicked = "teahouse_kicks_total{reason=\"session_ended\"}";
    assert_eq!(sample(&sent, kicked), 0.0, "{sent}");
    bob.call("logout", &[]).await.unwrap();
    assert_eq!(bob_ws.close_code().await, close_code::SESSION_ENDED);
    let after = metrics_of(&alice).await;
    assert_eq!(sample(&after, kicked), 1.0, "{after}");
    assert_eq!(
        sample(&after, "teahouse_kicks_total{reason=\"lagging\"}"),
        0.0,
        "{after}"
    );
    // A refused call counts as 4xx.
    let four = "teahouse_http_responses_total{class=\"4xx\"}";
    assert!(bob.call("my_rooms", &[]).await.is_err());
    assert!(sample(&metrics_of(&alice).await, four) > sample(&after, four));
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_webhook_deliveries_and_failures() {
    let server = TestServer::start_with(|c| {
        c.metrics = true;
        c.webhooks.webhook_retry_base_ms = 50;
        c.webhooks.webhook_retry_max_secs = 1;
    })
    .await;
    let boss = common::access::admin(&server, "boss").await;
    let receiver = Receiver::start(Mode::FailFirst(1)).await;
    receiver.register(&boss, "message.stored").await;
    let room = lobby(&boss).await;
    boss.send(room, "hook-1", "hello hook").await.unwrap();
    receiver
        .wait_until("a 503 then a 200", |log| {
            log.iter().any(|r| r.answered == 200)
        })
        .await;
    // The receiver has answered; the deliverer counts once it has read
    // the answer, so the counts are awaited (bounded), not assumed.
    let counted = async {
        loop {
            let text = metrics_of(&boss).await;
            if sample(&text, "teahouse_webhook_deliveries_total") >= 1.0 {
                return text;
            }
            tokio::task::yield_now().await;
        }
    };
    let text = tokio::time::timeout(Duration::from_secs(10), counted)
        .await
        .expect("the webhook delivery was not counted");
    assert_eq!(
        sample(&text, "teahouse_webhook_deliveries_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "teahouse_webhook_failures_total"),
        1.0,
        "{text}"
    );
    server.stop().await;
}

/// Waits for the server's close frame on each socket, in its own task:
/// (close code, when it came).
fn closes(sockets: Vec<common::Socket>) -> tokio::sync::mpsc::UnboundedReceiver<(u16, Instant)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for mut socket in sockets {
        let tx = tx.clone();
        tokio::spawn(async move {
            let code = socket.close_code().await;
            let _ = tx.send((code, Instant::now()));
        });
    }
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_refuses_new_sockets_spreads_the_closes_and_answers_the_send_in_flight() {
    const WINDOW: Duration = Duration::from_secs(3);
    const SOCKETS: usize = 4;
    let mut server = TestServer::start_with(|c| {
        c.metrics = true;
        c.drain_secs = WINDOW.as_secs();
    })
    .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = lobby(&alice).await;
    assert_eq!(readyz(&alice).await, (200, "ready".to_owned()));
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(bob.connect().await);
    }

    // A send in flight: queued behind paused writes when the drain starts.
    let queued = server
        .chat
        .writer_stats()
        .queued
        .load(std::sync::atomic::Ordering::Relaxed);
    let paused = server.chat.pause_writes().await;
    let in_flight = {
        let alice = alice.clone();
        tokio::spawn(async move {
            alice
                .send(room, "in-flight", "sent as the drain began")
                .await
        })
    };
    while server
        .chat
        .writer_stats()
        .queued
        .load(std::sync::atomic::Ordering::Relaxed)
        == queued
    {
        tokio::task::yield_now().await;
    }

    let mut closed = closes(sockets);
    server.begin_stop();
    let (first_code, first_at) = closed.recv().await.expect("a first close");
    assert_eq!(first_code, close_code::SERVER_DRAINING);

    // Draining: not ready, no new socket (the other sockets are still open).
    assert_eq!(readyz(&alice).await, (503, "draining".to_owned()));
    match bob.socket(bob.cookie().as_deref()).await {
        Err(WsError::Http(res)) => {
            assert_eq!(res.status().as_u16(), 503);
            let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or(b"null"))
                .expect("a JSON error");
            assert_eq!(body["code"], "server_draining", "{body}");
        }
        other => panic!("expected 503 during the drain, got {:?}", other.map(|_| ())),
    }
    // The seed-protocol socket too (before any token would be spent).
    let compat = format!("ws://{}/compat/ws?token=unused", server.addr);
    match tokio_tungstenite::connect_async(compat).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 503),
        other => panic!("expected 503 on /compat/ws, got {:?}", other.map(|_| ())),
    }
    let text = metrics_of(&alice).await;
    assert_eq!(sample(&text, "teahouse_draining"), 1.0, "{text}");
    // Other requests are still served during the window.
    assert!(alice.call("my_rooms", &[]).await.is_ok());

    let mut last_at = first_at;
    for _ in 1..SOCKETS {
        let (code, at) = closed.recv().await.expect("every socket is closed");
        assert_eq!(code, close_code::SERVER_DRAINING);
        last_at = last_at.max(at);
    }
    // Evenly spaced: the last at window × (n−1)/n = 2.25 s after the first.
    let spread = last_at - first_at;
    assert!(
        spread >= WINDOW / 2 && spread <= WINDOW + Duration::from_secs(2),
        "closes spread over {spread:?} for a {WINDOW:?} window"
    );

    // The server waits for the send in flight before it goes.
    assert!(
        !server.handle.is_finished(),
        "stopped with a send in flight"
    );
    drop(paused);
    let answer = in_flight
        .await
        .unwrap()
        .expect("the send in flight is answered");
    assert_eq!(
        answer["body"]["text"], "sent as the drain began",
        "{answer}"
    );
    let seq = answer["seq"].as_i64().unwrap();
    // The server future returns, and what it acknowledged is stored.
    let server = server.restart_with(|_| {}).await;
    let alice = server.login("alice", alice.id).await;
    let stored = alice.events_after(room, seq - 1).await;
    assert!(
        stored
            .iter()
            .any(|e| e.seq == seq && matches!(e.body, EventBody::Message(_))),
        "acknowledged seq {seq} is not in history: {stored:?}"
    );
    server.stop().await;
}

/// Signals the real process `pid`.
fn kill(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_0_and_a_second_sigterm_exits_at_once() {
    // A drain that exits by itself: 0.
    let dir = tempfile::tempdir().unwrap();
    let server = Spawned::start(dir.path(), &["--drain-secs", "1"]).await;
    let alice = server.user("alice").await;
    let mut ws = alice.connect().await;
    // `stop` sends SIGTERM and asserts exit status 0.
    let (code, ()) = tokio::join!(ws.close_code(), server.stop());
    assert_eq!(code, close_code::SERVER_DRAINING);

    // A long drain cut short by a second SIGTERM.
    let server = Spawned::start(dir.path(), &["--drain-secs", "600"]).await;
    let alice = server.login("alice").await;
    let mut first = alice.connect().await;
    let mut second = alice.connect().await;
    let pid = server.child.id();
    kill("-TERM", pid);
    // One socket closes at once, the other would wait 300 s.
    let started = tokio::select! {
        code = first.close_code() => code,
        code = second.close_code() => code,
    };
    assert_eq!(started, close_code::SERVER_DRAINING);
    kill("-TERM", pid);
    let exited = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || {
            let mut server = server;
            server.child.wait().expect("wait")
        }),
    )
    .await
    .expect("a second SIGTERM did not stop the drain")
    .unwrap();
    assert_eq!(exited.code(), Some(1), "{exited}");
}
