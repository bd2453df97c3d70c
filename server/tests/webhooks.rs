//! Webhooks against the real server and a real receiver on 127.0.0.1:0
//! (`common::hooks`): signatures checked by the receiver, order and ids,
//! retries, no loss across a restart, a stalled receiver not delaying sends
//! nor other endpoints, disabling after the failure window, and admin-only
//! management.

mod common;

use std::time::{Duration, Instant};

use common::access::admin;
use common::hooks::{delivered, Mode, Received, Receiver};
use common::TestServer;
use serde_json::Value;
use teahouse_protocol::{EventBody, MessageContent};

/// The text of a delivered message (None for other events).
fn text_of(r: &Received) -> Option<String> {
    match &r.payload.event.body {
        EventBody::Message(m) => match &m.content {
            MessageContent::Text(t) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Texts of the distinct deliveries of `room`, in delivery order.
fn texts_in(log: &[Received], room: i64) -> Vec<String> {
    delivered(log)
        .iter()
        .filter(|r| r.payload.conversation.id.0 == room)
        .filter_map(text_of)
        .collect()
}

/// Fast retries and a short failure window, for the tests that need them.
fn quick_retries(config: &mut server::Config) {
    config.webhooks.webhook_retry_base_ms = 50;
    config.webhooks.webhook_retry_max_secs = 1;
}

#[tokio::test]
async fn deliveries_are_signed_in_order_with_stable_ids_and_only_of_the_chosen_types() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let bob = server.user("bob").await;
    let alice = server.user("alice").await;
    let receiver = Receiver::start(Mode::Ok).await;
    let hook = receiver
        .register(&boss, "message.stored,member.joined")
        .await;

    let room = bob.create_room("茶室").await;
    alice.join(room).await;
    for i in 0..3 {
        alice
            .send(room, &format!("c{i}"), &format!("你好 {i}"))
            .await
            .unwrap();
    }
    alice
        .call("leave_room", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    bob.send(room, "last", "last").await.unwrap();

    let log = receiver
        .wait_until("the last message", |log| {
            texts_in(log, room).contains(&"last".to_owned())
        })
        .await;
    let mine: Vec<&Received> = log
        .iter()
        .filter(|r| r.payload.conversation.id.0 == room)
        .collect();
    let types: Vec<&str> = mine.iter().map(|r| r.event.as_str()).collect();
    // room_created is no type at all; member.left was not asked for.
    assert_eq!(
        types,
        [
            "member.joined",
            "message.stored",
            "message.stored",
            "message.stored",
            "message.stored"
        ]
    );
    assert_eq!(texts_in(&log, room), ["你好 0", "你好 1", "你好 2", "last"]);
    let now = teahouse_domain::now_ms() / 1000;
    let mut last_seq = 0;
    for r in &mine {
        assert!(r.signature_ok, "bad signature on {}", r.id);
        assert_eq!(r.payload.id, r.id);
        assert_eq!(r.payload.event_type, r.event);
        assert_eq!(r.id, format!("{hook}.{room}.{}", r.payload.event.seq));
        assert!(r.payload.event.seq > last_seq, "out of order: {types:?}");
        last_seq = r.payload.event.seq;
        assert!((r.timestamp - now).abs() < 300, "timestamp {}", r.timestamp);
        assert_eq!(
            r.payload.conversation.kind,
            teahouse_protocol::ConversationKind::Room
        );
    }
    assert_eq!(mine[1].payload.event.actor.id.0, alice.id);

    // The secret was shown once: no list shows it.
    let list = boss.call("admin_webhooks", &[]).await.unwrap();
    assert_eq!(list[0]["id"], hook);
    assert_eq!(list[0]["enabled"], true);
    assert!(!list.to_string().contains(&receiver.secret()));
    server.stop().await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_id_until_it_answers() {
    let server = TestServer::start_with(quick_retries).await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let room = alice.create_room("r").await;
    let receiver = Receiver::start(Mode::FailFirst(3)).await;
    let hook = receiver.register(&boss, "message.stored").await;
    alice.send(room, "c1", "hello").await.unwrap();

    let log = receiver
        .wait_until("a delivery answered 200", |log| {
            log.iter().any(|r| r.answered == 200)
        })
        .await;
    assert_eq!(log.len(), 4, "{log:#?}");
    let answers: Vec<u16> = log.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [503, 503, 503, 200]);
    assert!(log.iter().all(|r| r.id == log[0].id && r.signature_ok));

    // The admin page shows the attempts (saved within a second).
    let deadline = Instant::now() + Duration::from_secs(20);
    let attempts = loop {
        let list = boss
            .call(
                "admin_webhook_deliveries",
                &[("webhook_id", &hook.to_string())],
            )
            .await
            .unwrap();
        if list.as_array().unwrap().len() == 4 || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attempts = attempts.as_array().unwrap();
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    // Newest first.
    assert_eq!(attempts[0]["attempt"], 4);
    assert_eq!(attempts[0]["status"], 200);
    assert_eq!(attempts[0]["error"], Value::Null);
    assert_eq!(attempts[3]["attempt"], 1);
    assert_eq!(attempts[3]["status"], 503);
    assert!(attempts[3]["error"].as_str().unwrap().contains("503"));
    assert_eq!(attempts[3]["delivery_id"], log[0].id.as_str());
    let view = boss.call("admin_webhooks", &[]).await.unwrap();
    assert_eq!(view[0]["failing_since_ms"], Value::Null, "{view}");
    assert!(view[0]["last_success_ms"].as_i64().is_some());
    server.stop().await;
}

#[tokio::test]
async fn no_event_is_lost_across_a_restart_and_ids_let_the_receiver_drop_repeats() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let room = alice.create_room("r").await;
    // Answers five, then hangs: the server stops with a backlog.
    let receiver = Receiver::start(Mode::StallAfter(5)).await;
    receiver.register(&boss, "message.stored").await;
    let texts: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    for (i, text) in texts.iter().enumerate() {
        alice.send(room, &format!("c{i}"), text).await.unwrap();
    }
    receiver
        .wait_until("the sixth request (left hanging)", |log| log.len() >= 6)
        .await;

    let server = server.restart_with(|_| {}).await;
    receiver.set_mode(Mode::Ok);
    let log = receiver
        .wait_until("all twenty messages", |log| texts_in(log, room).len() >= 20)
        .await;
    assert_eq!(texts_in(&log, room), texts);
    // The one left hanging came again, with the same id.
    let sixth = &log[5].id;
    assert!(
        log.iter().filter(|r| &r.id == sixth).count() >= 2,
        "{log:#?}"
    );
    assert!(log.iter().all(|r| r.signature_ok));
    // And the log is whole: the restarted server answers with every message.
    let alice = server.login("alice", alice.id).await;
    assert_eq!(alice.message_texts(room).await, texts);
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_receiver_delays_neither_sends_nor_other_endpoints() {
    let server = TestServer::start_with(|c| c.webhooks.webhook_timeout_secs = 120).await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let room = alice.create_room("r").await;
    let stalled = Receiver::start(Mode::StallAfter(0)).await;
    stalled.register(&boss, "message.stored").await;
    let healthy = Receiver::start(Mode::Ok).await;
    healthy.register(&boss, "message.stored").await;

    alice.send(room, "first", "first").await.unwrap();
    stalled
        .wait_until("the stalled receiver holding a request", |log| {
            log.len() == 1
        })
        .await;
    let mut slowest = Duration::ZERO;
    let mut texts = vec!["first".to_owned()];
    for i in 0..20 {
        let text = format!("while stalled {i}");
        let started = Instant::now();
        alice.send(room, &format!("s{i}"), &text).await.unwrap();
        slowest = slowest.max(started.elapsed());
        texts.push(text);
    }
    // A send waiting for the receiver would wait for its 120 s timeout.
    assert!(slowest < Duration::from_secs(2), "slowest send {slowest:?}");
    let log = healthy
        .wait_until("every message at the healthy receiver", |log| {
            texts_in(log, room).len() == texts.len()
        })
        .await;
    assert_eq!(texts_in(&log, room), texts);
    // The stalled one still holds its first request, unanswered.
    let held = stalled.received();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].answered, 0);
    stalled.set_mode(Mode::Ok);
    server.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_window_is_disabled_and_resumes_when_enabled() {
    let server = TestServer::start_with(|c| {
        quick_retries(c);
        c.webhooks.webhook_disable_after_secs = 1;
    })
    .await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let room = alice.create_room("r").await;
    let receiver = Receiver::start(Mode::Fail(500)).await;
    let hook = receiver.register(&boss, "message.stored").await;
    alice.send(room, "c1", "before").await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let view = loop {
        let list = boss.call("admin_webhooks", &[]).await.unwrap();
        if list[0]["enabled"] == false || Instant::now() > deadline {
            break list[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(view["enabled"], false, "{view}");
    assert_eq!(view["disabled_reason"], "failing");
    assert!(view["failing_since_ms"].as_i64().is_some());
    let tries = receiver.received().len();
    assert!(tries >= 2, "retried before giving up: {tries}");

    // Stored while disabled: kept for when it is enabled again.
    alice.send(room, "c2", "while disabled").await.unwrap();
    receiver.set_mode(Mode::Ok);
    let enabled = boss
        .call(
            "admin_set_webhook_enabled",
            &[("webhook_id", &hook.to_string()), ("enabled", "true")],
        )
        .await
        .unwrap();
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["failing_since_ms"], Value::Null);
    let log = receiver
        .wait_until("both messages delivered", |log| {
            texts_in(log, room).len() == 2
        })
        .await;
    assert_eq!(texts_in(&log, room), ["before", "while disabled"]);
    server.stop().await;
}

#[tokio::test]
async fn only_admins_manage_webhooks_and_bad_input_is_refused_with_its_code() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let receiver = Receiver::start(Mode::Ok).await;
    let url = receiver.url();
    for (name, args) in [
        ("admin_webhooks", vec![]),
        (
            "admin_create_webhook",
            vec![("url", url.as_str()), ("events", "message.stored")],
        ),
        ("admin_webhook_deliveries", vec![("webhook_id", "1")]),
        (
            "admin_set_webhook_enabled",
            vec![("webhook_id", "1"), ("enabled", "false")],
        ),
        ("admin_delete_webhook", vec![("webhook_id", "1")]),
    ] {
        let (status, body) = alice.call(name, &args).await.unwrap_err();
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("admin_only")),
            "{name}"
        );
    }
    assert_eq!(
        boss.call("admin_webhooks", &[]).await.unwrap(),
        Value::Array(vec![])
    );

    for (url, events, code, field) in [
        (
            "ftp://example.com/",
            "message.stored",
            "webhook_url_invalid",
            "url",
        ),
        (
            "https://u:p@example.com/",
            "message.stored",
            "webhook_url_invalid",
            "url",
        ),
        ("not a url", "message.stored", "webhook_url_invalid", "url"),
        (
            "https://example.com/",
            "",
            "webhook_events_invalid",
            "events",
        ),
        (
            "https://example.com/",
            "message.stored,gossip",
            "webhook_events_invalid",
            "events",
        ),
    ] {
        let (status, body) = boss
            .call("admin_create_webhook", &[("url", url), ("events", events)])
            .await
            .unwrap_err();
        assert_eq!(status, 422, "{url} {events}: {body}");
        assert_eq!(body["code"], code);
        assert_eq!(body["field"], field);
    }
    // Nothing was half-registered.
    assert_eq!(
        boss.call("admin_webhooks", &[]).await.unwrap(),
        Value::Array(vec![])
    );

    for i in 0..teahouse_domain::webhooks::MAX_WEBHOOKS {
        boss.call(
            "admin_create_webhook",
            &[("url", &format!("{url}?n={i}")), ("events", "desk.closed")],
        )
        .await
        .unwrap();
    }
    let (status, body) = boss
        .call(
            "admin_create_webhook",
            &[("url", url.as_str()), ("events", "desk.closed")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("webhook_limit"))
    );
    let (status, body) = boss
        .call("admin_delete_webhook", &[("webhook_id", "999999")])
        .await
        .unwrap_err();
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let first = boss.call("admin_webhooks", &[]).await.unwrap()[0]["id"].clone();
    boss.call(
        "admin_delete_webhook",
        &[("webhook_id", &first.to_string())],
    )
    .await
    .unwrap();
    let left = boss.call("admin_webhooks", &[]).await.unwrap();
    assert_eq!(
        left.as_array().unwrap().len() as u32,
        teahouse_domain::webhooks::MAX_WEBHOOKS - 1
    );
    server.stop().await;
}

#[tokio::test]
async fn recalls_and_the_desk_are_delivered_as_their_types() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let alice = server.user("alice").await;
    let room = alice.create_room("r").await;
    let agent = common::access::agent(&server, &boss, "ann").await;
    let receiver = Receiver::start(Mode::Ok).await;
    receiver
        .register(
            &boss,
            "message.recalled,desk.opened,desk.assigned,desk.closed",
        )
        .await;

    let sent = alice.send(room, "c1", "oops").await.unwrap();
    let seq = sent["seq"].as_i64().unwrap();
    alice
        .call(
            "recall_message",
            &[("room_id", &room.to_string()), ("seq", &seq.to_string())],
        )
        .await
        .unwrap();
    // The agent has no socket: the conversation waits until accepted.
    let (_guest, support) = common::access::guest(&server).await;
    agent
        .call("desk_accept", &[("room_id", &support.to_string())])
        .await
        .unwrap();
    agent
        .call("desk_close", &[("room_id", &support.to_string())])
        .await
        .unwrap();

    let log = receiver
        .wait_until("the close", |log| {
            log.iter().any(|r| r.event == "desk.closed")
        })
        .await;
    let types: Vec<(&str, i64)> = log
        .iter()
        .map(|r| (r.event.as_str(), r.payload.conversation.id.0))
        .collect();
    assert_eq!(
        types,
        [
            ("message.recalled", room),
            ("desk.opened", support),
            ("desk.assigned", support),
            ("desk.closed", support)
        ]
    );
    assert!(matches!(
        log[0].payload.event.body,
        EventBody::MessageRecalled { seq: s } if s == seq
    ));
    assert_eq!(
        log[1].payload.conversation.kind,
        teahouse_protocol::ConversationKind::Support
    );
    server.stop().await;
}
