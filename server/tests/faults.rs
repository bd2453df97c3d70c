//! Fault tests against the real `teahouse` binary: killed with SIGKILL in
//! the middle of a send storm, a member that stops reading its socket, and a
//! client that resumes across a restart.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Client, Spawned};
use futures::StreamExt;
use teahouse_protocol::{close_code, ConversationEvent, EventBody, ServerFrame};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// One fault test at a time: the latency comparison must not share the
/// machine with another test's send storm.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Events of a room as `(seq, client_id, text)` of its messages.
fn messages(events: &[ConversationEvent]) -> Vec<(i64, String, String)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Message(m) => {
                Some((e.seq, m.client_id.clone(), m.content.text().to_owned()))
            }
            _ => None,
        })
        .collect()
}

/// Asserts the log has seq 1, 2, …, n with no gap and no repeat.
fn assert_contiguous_from(events: &[ConversationEvent], first: i64) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, first + i as i64, "gap or repeat at index {i}");
    }
}

/// Asserts no client_id appears twice among the room's messages.
fn assert_no_duplicate(events: &[ConversationEvent]) {
    let mut seen = HashSet::new();
    for (seq, id, _) in messages(events) {
        assert!(
            seen.insert(id.clone()),
            "client_id {id} stored twice (seq {seq})"
        );
    }
}

fn seq_of(event: &serde_json::Value) -> i64 {
    event["seq"].as_i64().expect("an event has a seq")
}

/// A send that got an answer, and one that did not.
#[derive(Default)]
struct Outcomes {
    /// client_id → (seq, text) as the server acknowledged it.
    acked: HashMap<String, (i64, String)>,
    /// (sender index, client_id, text) of sends the kill cut off.
    unanswered: Vec<(usize, String, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_sends_loses_no_acknowledged_message_and_retries_store_once() {
    let _serial = SERIAL.lock().await;
    const SENDERS: usize = 4;
    const LANES: usize = 8; // requests in flight per sender
    const ACKS_BEFORE_KILL: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let server = Spawned::start(dir.path(), &[]).await;
    let owner = server.user("owner").await;
    let room = owner.create_room("faults").await;
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        let sender = server.user(&format!("sender{k}")).await;
        sender.join(room).await;
        senders.push(Arc::new(sender));
    }

    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let (acks_tx, mut acks) = watch::channel(0usize);
    let acks_tx = Arc::new(acks_tx);
    let mut lanes = Vec::new();
    for (k, sender) in senders.iter().enumerate() {
        for lane in 0..LANES {
            let (sender, outcomes, acks_tx) = (sender.clone(), outcomes.clone(), acks_tx.clone());
            lanes.push(tokio::spawn(async move {
                for i in 0.. {
                    let client_id = format!("s{k}-l{lane}-{i}");
                    let text = format!("message {client_id}");
                    let form = [
                        ("room_id", room.to_string()),
                        ("client_id", client_id.clone()),
                        ("text", text.clone()),
                    ];
                    let form: Vec<(&str, &str)> =
                        form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    match sender.try_call("send_message", &form).await {
                        Ok(event) => {
                            let seq = seq_of(&event);
                            outcomes
                                .lock()
                                .unwrap()
                                .acked
                                .insert(client_id, (seq, text));
                            acks_tx.send_modify(|n| *n += 1);
                        }
                        Err(None) => {
                            outcomes
                                .lock()
                                .unwrap()
                                .unanswered
                                .push((k, client_id, text));
                            return;
                        }
                        Err(Some(refused)) => panic!("send refused: {refused:?}"),
                    }
                }
            }));
        }
    }
    tokio::time::timeout(
        Duration::from_secs(120),
        acks.wait_for(|n| *n >= ACKS_BEFORE_KILL),
    )
    .await
    .expect("sends are acknowledged")
    .unwrap();
    server.kill();
    for lane in lanes {
        tokio::time::timeout(Duration::from_secs(60), lane)
            .await
            .expect("every lane sees the server gone")
            .unwrap();
    }
    let Outcomes { acked, unanswered } = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(acked.len() >= ACKS_BEFORE_KILL);
    assert_eq!(
        unanswered.len(),
        SENDERS * LANES,
        "each lane ends on one unanswered send"
    );
    eprintln!(
        "killed with {} sends acknowledged and {} in flight",
        acked.len(),
        unanswered.len()
    );

    // Restart on the same files: every acknowledged send is there, once.
    let server = Spawned::start(dir.path(), &[]).await;
    let owner = server.login("owner").await;
    let events = owner.events_after(room, 0).await;
    assert_contiguous_from(&events, 1);
    assert_no_duplicate(&events);
    let stored: HashMap<String, (i64, String)> = messages(&events)
        .into_iter()
        .map(|(seq, id, text)| (id, (seq, text)))
        .collect();
    for (id, ack) in &acked {
        assert_eq!(
            stored.get(id),
            Some(ack),
            "acknowledged send {id} after the restart"
        );
    }

    // The cut-off sends, retried with their client_id, are stored once:
    // those that had been committed before the kill answer with their event.
    let mut retriers = Vec::new();
    for k in 0..SENDERS {
        retriers.push(server.login(&format!("sender{k}")).await);
    }
    let stored_before_retry: HashSet<String> = stored.keys().cloned().collect();
    let mut retried = HashMap::new();
    for (k, id, text) in &unanswered {
        let event = retriers[*k]
            .send(room, id, text)
            .await
            .expect("retry accepted");
        if let Some((seq, _)) = stored.get(id) {
            assert_eq!(seq_of(&event), *seq, "retry of a committed send returns it");
        }
        retried.insert(id.clone(), seq_of(&event));
    }
    // A retry of an acknowledged send changes nothing either.
    let (id, (seq, text)) = acked.iter().next().unwrap();
    let k: usize = id[1..2].parse().unwrap();
    assert_eq!(
        seq_of(&retriers[k].send(room, id, text).await.unwrap()),
        *seq
    );

    let events = owner.events_after(room, 0).await;
    assert_contiguous_from(&events, 1);
    assert_no_duplicate(&events);
    let stored: HashMap<String, i64> = messages(&events)
        .into_iter()
        .map(|(seq, id, _)| (id, seq))
        .collect();
    assert_eq!(stored.len(), acked.len() + unanswered.len());
    for (id, seq) in &retried {
        assert_eq!(stored.get(id), Some(seq), "retried send {id}");
    }
    let committed = unanswered
        .iter()
        .filter(|(_, id, _)| stored_before_retry.contains(id))
        .count();
    eprintln!("{committed} of the unanswered sends had been committed before the kill");
}

/// The room's latest seq as a member sees it.
async fn latest_seq(client: &Client, room: i64) -> i64 {
    client
        .events_after(room, 0)
        .await
        .last()
        .map_or(0, |e| e.seq)
}

/// Sends `count` messages of `text_len` characters from `sender`, `lanes` at
/// a time; returns when each send started, by client_id.
async fn send_burst(
    sender: &Arc<Client>,
    room: i64,
    tag: &str,
    count: usize,
    lanes: usize,
    text_len: usize,
) -> HashMap<String, Instant> {
    let started = Arc::new(Mutex::new(HashMap::new()));
    let body = "茶".repeat(text_len / 3) + &"t".repeat(text_len - text_len / 3);
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let (sender, started, body) = (sender.clone(), started.clone(), body.clone());
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in (lane..count).step_by(lanes) {
                let id = format!("{tag}-{i}");
                started.lock().unwrap().insert(id.clone(), Instant::now());
                sender.send(room, &id, &body).await.expect("send");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(started).unwrap().into_inner().unwrap()
}

/// 99th percentile of delivery latencies: send started → frame read by the
/// observer, for the messages sent in one burst.
async fn p99_of(
    sent: &HashMap<String, Instant>,
    received: &mut mpsc::UnboundedReceiver<(String, Instant)>,
) -> Duration {
    let mut latencies = Vec::new();
    while latencies.len() < sent.len() {
        let (id, at) = tokio::time::timeout(Duration::from_secs(60), received.recv())
            .await
            .expect("the observer receives every message")
            .expect("observer still reading");
        if let Some(start) = sent.get(&id) {
            latencies.push(at.duration_since(*start));
        }
    }
    latencies.sort();
    latencies[(latencies.len() * 99).div_ceil(100) - 1]
}

/// Bytes the kernel may buffer on the way to a socket that stops reading:
/// at most the largest send buffer plus what the reader's own buffer holds.
fn kernel_buffering(reader_rcvbuf: usize) -> usize {
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2).and_then(|v| v.parse().ok()))
        .unwrap_or(4 * 1024 * 1024);
    wmem_max + 2 * reader_rcvbuf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_reader_slows_no_one_else_and_resumes_without_loss() {
    let _serial = SERIAL.lock().await;
    const QUEUE: usize = 256;
    const TEXT_CHARS: usize = 1500; // ≈ 2.5 KB per frame
    const RCVBUF: usize = 4096;
    let dir = tempfile::tempdir().unwrap();
    // A long heartbeat: the stalled socket is cut by its full queue, not by
    // a write timeout.
    let server = Spawned::start(
        dir.path(),
        &[
            "--conn-queue",
            &QUEUE.to_string(),
            "--heartbeat-secs",
            "300",
        ],
    )
    .await;
    let sender = Arc::new(server.user("sender").await);
    let observer = server.user("observer").await;
    let staller = server.user("staller").await;
    let room = sender.create_room("latency").await;
    observer.join(room).await;
    staller.join(room).await;

    // The observer timestamps every message frame as it reads it.
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut observer_ws = observer.connect().await;
    let observer_task = tokio::spawn(async move {
        loop {
            match observer_ws.next_within(Duration::from_secs(600)).await {
                Some(ServerFrame::Event { event }) => {
                    if let EventBody::Message(m) = event.body {
                        let _ = seen_tx.send((m.client_id, Instant::now()));
                    }
                }
                Some(_) => {}
                None => return,
            }
        }
    });

    // Enough bytes to fill every buffer between the server and the stalled
    // socket, then its queue, twice over.
    // (A lower bound on a frame: the text's UTF-8 bytes alone.)
    let frame_bytes = TEXT_CHARS / 3 * 3 + (TEXT_CHARS - TEXT_CHARS / 3);
    let burst = 2 * (kernel_buffering(RCVBUF) / frame_bytes + QUEUE);
    let lanes = 8;

    // Without a stalled member.
    let sent = send_burst(&sender, room, "calm", burst, lanes, TEXT_CHARS).await;
    let p99_calm = p99_of(&sent, &mut seen).await;

    // The staller connects with a small receive buffer and stops reading.
    let before_stall = latest_seq(&sender, room).await;
    let mut stalled = stalled_socket(&staller, RCVBUF).await;
    let sent = send_burst(&sender, room, "stall", burst, lanes, TEXT_CHARS).await;
    let p99_stalled = p99_of(&sent, &mut seen).await;
    let end = latest_seq(&sender, room).await;
    eprintln!(
        "{burst} sends per burst: observer p99 {p99_calm:?} without, {p99_stalled:?} with a stalled member"
    );
    assert!(
        p99_stalled <= p99_calm * 3 + Duration::from_millis(250),
        "a stalled member slowed the others: p99 {p99_stalled:?} against {p99_calm:?}"
    );

    // It reads again: what was queued, then close 4000 ("resume").
    let mut got = Vec::new();
    let code = loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), stalled.next())
            .await
            .expect("the stalled socket gets its frames and a close")
            .expect("a close frame before the end")
            .expect("no protocol error");
        match msg {
            Message::Text(t) => {
                if let ServerFrame::Event { event } = serde_json::from_str(t.as_str()).unwrap() {
                    got.push(event)
                }
            }
            Message::Close(frame) => break frame.map(|f| u16::from(f.code)),
            _ => {}
        }
    };
    assert_eq!(code, Some(close_code::RESUME), "cut off as lagging");
    eprintln!(
        "the stalled socket got {} of {burst} events before close 4000",
        got.len()
    );
    assert!(
        got.len() < burst,
        "it was cut off before the end of the burst"
    );
    assert_contiguous_from(&got, before_stall + 1);
    // Resuming from its last seq gives exactly the rest.
    let last = got.last().map_or(before_stall, |e| e.seq);
    let staller = server.login("staller").await;
    let rest = staller.events_after(room, last).await;
    assert_contiguous_from(&rest, last + 1);
    assert_eq!(rest.last().map(|e| e.seq), Some(end));
    let ids: HashSet<String> = messages(&got)
        .into_iter()
        .chain(messages(&rest))
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(ids, sent.keys().cloned().collect::<HashSet<_>>());
    observer_task.abort();
}

/// `/ws` for `client` over a TCP socket with a small receive buffer, hello
/// read; the caller then does not read until it wants to.
async fn stalled_socket(
    client: &Client,
    rcvbuf: usize,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(rcvbuf as u32).unwrap();
    let stream = tcp.connect(client.addr).await.unwrap();
    let mut req = format!("ws://{}/ws", client.addr)
        .into_client_request()
        .unwrap();
    let cookie = client.cookie().expect("signed in");
    req.headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("upgrade");
    match ws.next().await {
        Some(Ok(Message::Text(t))) => assert!(matches!(
            serde_json::from_str(t.as_str()).unwrap(),
            ServerFrame::Hello { .. }
        )),
        other => panic!("expected hello, got {other:?}"),
    }
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_across_a_server_restart_with_exactly_the_missed_events() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Spawned::start(dir.path(), &[]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("restart").await;
    bob.join(room).await;

    // Bob holds everything up to seq N from his socket.
    let mut bob_ws = bob.connect().await;
    let mut held = latest_seq(&bob, room).await;
    for i in 0..3 {
        alice
            .send(room, &format!("before-{i}"), "before")
            .await
            .unwrap();
    }
    while held < latest_seq(&alice, room).await {
        if let ServerFrame::Event { event } = bob_ws.next().await {
            assert_eq!(event.seq, held + 1);
            held = event.seq;
        }
    }

    // The server restarts; Bob's socket is told to reconnect (a drain).
    server.stop().await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = bob_ws.ws.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("socket closed at shutdown");
    assert_eq!(closed, Some(close_code::SERVER_DRAINING));
    let server = Spawned::start(dir.path(), &[]).await;
    let alice = server.login("alice").await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let id = format!("after-{i}");
        let event = alice
            .send(room, &id, &format!("after restart {i}"))
            .await
            .unwrap();
        sent.push((seq_of(&event), id));
    }

    // Bob reconnects and asks for what came after N: exactly those, in order.
    let bob = server.login("bob").await;
    let _bob_ws = bob.connect().await;
    let missed = bob.events_after(room, held).await;
    assert_contiguous_from(&missed, held + 1);
    let missed: Vec<(i64, String)> = messages(&missed)
        .into_iter()
        .map(|(seq, id, _)| (seq, id))
        .collect();
    assert_eq!(
        missed, sent,
        "the log after {held} is exactly the five sends"
    );
}

/// The newest seq of each of `rooms` as `who` reads them.
async fn newest_seqs(who: &Client, rooms: &[i64]) -> Vec<i64> {
    let mut out = Vec::new();
    for room in rooms {
        out.push(latest_seq(who, *room).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conversation_resumes_from_its_own_last_seq_across_a_restart_with_sends_in_the_gap() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Spawned::start(dir.path(), &[]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let rooms = vec![
        alice.create_room("gap one").await,
        alice.create_room("gap two").await,
        carol.create_room("gap three").await,
    ];
    for room in &rooms {
        bob.join(*room).await;
    }
    alice.join(rooms[2]).await;
    let dm = alice
        .call("open_direct", &[("user_id", &bob.id.to_string())])
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut all = rooms.clone();
    all.push(dm);

    // Bob follows every conversation live up to some seq.
    let mut bob_ws = bob.connect().await;
    for (i, room) in all.iter().enumerate() {
        alice
            .send(*room, &format!("before-{i}"), "before")
            .await
            .unwrap();
    }
    let mut held: HashMap<i64, i64> = HashMap::new();
    for (room, seq) in all.iter().zip(newest_seqs(&bob, &all).await) {
        held.insert(*room, seq);
    }
    let targets = held.clone();
    let mut seen: HashMap<i64, i64> = HashMap::new();
    while all
        .iter()
        .any(|r| seen.get(r).copied().unwrap_or(0) < targets[r])
    {
        if let ServerFrame::Event { event } = bob_ws.next().await {
            seen.insert(event.conversation_id.0, event.seq);
        }
    }

    // Bob's socket drops; Alice and Carol keep talking in every
    // conversation; the server restarts; they talk some more.
    drop(bob_ws);
    let mut sent: HashMap<i64, Vec<String>> = HashMap::new();
    for (i, room) in all.iter().enumerate() {
        let who = if *room == rooms[2] { &carol } else { &alice };
        let id = format!("gap-a-{i}");
        who.send(*room, &id, "while Bob was away").await.unwrap();
        sent.entry(*room).or_default().push(id);
    }
    server.stop().await;
    let server = Spawned::start(dir.path(), &[]).await;
    let alice = server.login("alice").await;
    let carol = server.login("carol").await;
    for round in 0..2 {
        for (i, room) in all.iter().enumerate() {
            let who = if *room == rooms[2] { &carol } else { &alice };
            let id = format!("gap-b-{round}-{i}");
            who.send(*room, &id, "after the restart").await.unwrap();
            sent.entry(*room).or_default().push(id);
        }
    }

    // Bob comes back: each conversation from its own last seq, exactly the
    // missed messages, in order, no gap, no repeat.
    let bob = server.login("bob").await;
    let mut bob_ws = bob.connect().await;
    for room in &all {
        let missed = bob.events_after(*room, held[room]).await;
        assert_contiguous_from(&missed, held[room] + 1);
        assert_no_duplicate(&missed);
        let ids: Vec<String> = messages(&missed).into_iter().map(|(_, id, _)| id).collect();
        assert_eq!(ids, sent[room], "conversation {room}");
    }
    // And the live stream goes on from there: the next message is the next seq.
    let next = alice
        .send(all[0], "live-after", "welcome back")
        .await
        .unwrap();
    let frame = bob_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == all[0]))
        .await;
    let ServerFrame::Event { event } = frame else {
        unreachable!()
    };
    assert_eq!(event.seq, seq_of(&next));
    assert_eq!(event.seq, held[&all[0]] + sent[&all[0]].len() as i64 + 1);
}
