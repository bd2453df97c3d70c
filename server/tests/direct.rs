//! Private 1:1 chats over real HTTP and WebSocket: the first message
//! reaches the peer's already-open socket, a third user gets nothing from
//! any endpoint or frame, one chat per pair under concurrent opening from
//! both sides, and the rule's errors.

mod common;

use common::{Client, TestServer};
use serde_json::Value;
use teahouse_protocol::{EventBody, ServerFrame};

/// Opens (or finds) `client`'s private chat with user `peer`.
async fn open_direct(client: &Client, peer: i64) -> Result<Value, (u16, Value)> {
    client
        .call("open_direct", &[("user_id", &peer.to_string())])
        .await
}

/// The code of a refusal, with its status.
fn refusal(answer: Result<Value, (u16, Value)>) -> (u16, String) {
    let (status, body) = answer.expect_err("a refusal");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// `frame` is an event of conversation `dm`.
fn is_event_of(frame: &ServerFrame, dm: i64) -> bool {
    matches!(frame, ServerFrame::Event { event } if event.conversation_id.0 == dm)
}

fn is_text(frame: &ServerFrame, dm: i64, text: &str) -> bool {
    matches!(frame, ServerFrame::Event { event }
        if event.conversation_id.0 == dm
            && matches!(&event.body, EventBody::Message(m) if m.content.text() == text))
}

/// The lobby's id (every new account's first room).
async fn lobby(client: &Client) -> i64 {
    client.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_first_message_reaches_the_peers_open_socket_and_a_third_user_gets_nothing() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    // Everyone is online before the chat exists.
    let mut alice_ws = alice.connect().await;
    let mut bob_ws = bob.connect().await;
    let mut eve_ws = eve.connect().await;

    let dm = open_direct(&alice, bob.id).await.unwrap();
    assert_eq!(dm["kind"], "direct");
    assert_eq!(dm["name"], "bob-nick");
    assert_eq!(dm["peer"]["id"], bob.id);
    let dm = dm["id"].as_i64().unwrap();

    // Bob's socket, opened before, hears the chat open and its first
    // message with no reconnect; Alice's hears the answer.
    let opened = bob_ws.until(|f| is_event_of(f, dm)).await;
    assert!(
        matches!(opened, ServerFrame::Event { event } if event.body == EventBody::DirectOpened && event.seq == 1 && event.actor.id.0 == alice.id)
    );
    alice.send(dm, "a-1", "secret 1").await.unwrap();
    bob_ws.until(|f| is_text(f, dm, "secret 1")).await;
    bob.send(dm, "b-1", "secret 2").await.unwrap();
    alice_ws.until(|f| is_text(f, dm, "secret 2")).await;
    // Bob's list has it, named after Alice.
    let bob_rooms = bob.call("my_rooms", &[]).await.unwrap();
    let row = bob_rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == dm)
        .expect("the chat in Bob's list");
    assert_eq!(
        (row["name"].as_str(), &row["peer"]["id"]),
        (Some("alice-nick"), &Value::from(alice.id))
    );
    assert_eq!(row["last_seq"], 3);

    // Eve: no endpoint answers her anything of it.
    let id = dm.to_string();
    let room = [("room_id", id.as_str())];
    for (name, expected) in [
        ("history", (403, "not_member")),
        ("room_detail", (403, "not_member")),
        ("leave_room", (403, "not_member")),
        ("join_room", (409, "direct_fixed_members")),
    ] {
        let got = refusal(eve.call(name, &room).await);
        assert_eq!((got.0, got.1.as_str()), expected, "{name}");
    }
    let (status, code) = refusal(eve.send(dm, "e-1", "let me in").await);
    assert_eq!((status, code.as_str()), (403, "not_member"));
    let (status, code) = refusal(
        eve.call("history", &[("room_id", &id), ("after", "0")])
            .await,
    );
    assert_eq!((status, code.as_str()), (403, "not_member"));
    for (name, form) in [
        ("my_rooms", vec![]),
        ("public_rooms", vec![]),
        ("public_rooms", vec![("query", "bob")]),
        ("search_contacts", vec![]),
    ] {
        let answer = eve.call(name, &form).await.unwrap().to_string();
        assert!(!answer.contains("secret"), "{name} told Eve: {answer}");
        if name != "search_contacts" {
            assert!(
                !answer.contains(&format!("\"id\":{dm},")),
                "{name} lists the chat: {answer}"
            );
        }
    }
    // Her own chat with Alice is another conversation.
    let eve_dm = open_direct(&eve, alice.id).await.unwrap();
    assert_ne!(eve_dm["id"], dm);
    // Her socket heard no frame of it (the pong is a barrier: everything
    // queued before was delivered), and neither does a fresh one.
    let heard: Vec<ServerFrame> = eve_ws.frames_until_pong().await;
    assert!(!heard.iter().any(|f| is_event_of(f, dm)), "{heard:?}");
    let mut fresh = eve.connect().await;
    alice.send(dm, "a-2", "secret 3").await.unwrap();
    bob_ws.until(|f| is_text(f, dm, "secret 3")).await;
    let heard = fresh.frames_until_pong().await;
    assert!(!heard.iter().any(|f| is_event_of(f, dm)), "{heard:?}");
    let heard = eve_ws.frames_until_pong().await;
    assert!(!heard.iter().any(|f| is_event_of(f, dm)), "{heard:?}");
    server.stop().await;
}

#[tokio::test]
async fn opening_from_both_sides_at_once_makes_one_chat() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let calls = (0..12).map(|i| {
        let (me, peer) = if i % 2 == 0 {
            (&alice, bob.id)
        } else {
            (&bob, alice.id)
        };
        open_direct(me, peer)
    });
    let answers = futures::future::join_all(calls).await;
    let mut ids: Vec<i64> = answers
        .into_iter()
        .map(|a| a.unwrap()["id"].as_i64().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let log = alice.events_after(ids[0], 0).await;
    assert_eq!(log.len(), 1, "opened once: {log:?}");
    for client in [&alice, &bob] {
        let rooms = client.call("my_rooms", &[]).await.unwrap();
        let directs = rooms
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "direct")
            .count();
        assert_eq!(directs, 1);
    }
    server.stop().await;
}

#[tokio::test]
async fn the_rule_refuses_yourself_strangers_missing_users_and_the_signed_out() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    carol
        .call(
            "leave_room",
            &[("room_id", &lobby(&carol).await.to_string())],
        )
        .await
        .unwrap();

    let cases = [
        (
            refusal(open_direct(&alice, alice.id).await),
            (422, "direct_with_self"),
        ),
        (
            refusal(open_direct(&alice, 999_999).await),
            (404, "not_found"),
        ),
        (
            refusal(open_direct(&alice, carol.id).await),
            (403, "no_shared_room"),
        ),
        (
            refusal(open_direct(&carol, bob.id).await),
            (403, "no_shared_room"),
        ),
        (
            refusal(
                Client::new(&server)
                    .call("open_direct", &[("user_id", "2")])
                    .await,
            ),
            (401, "unauthenticated"),
        ),
        (
            refusal(Client::new(&server).call("search_contacts", &[]).await),
            (401, "unauthenticated"),
        ),
        (
            refusal(
                alice
                    .call("search_contacts", &[("query", &"x".repeat(41))])
                    .await,
            ),
            (422, "query_too_long"),
        ),
    ];
    for ((status, code), (want_status, want_code)) in cases {
        assert_eq!((status, code.as_str()), (want_status, want_code));
    }
    let (status, code) = refusal(alice.call("open_direct", &[("user_id", "bob")]).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "bad_request"),
        "a user id that is no number"
    );
    // Nothing was opened by any of it.
    for client in [&alice, &bob, &carol] {
        let rooms = client.call("my_rooms", &[]).await.unwrap().to_string();
        assert!(!rooms.contains("\"direct\""), "{rooms}");
    }

    // Contacts: the people Alice shares a room with, searchable.
    let contacts = alice.call("search_contacts", &[]).await.unwrap();
    let names: Vec<&str> = contacts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["username"].as_str())
        .collect();
    assert_eq!(names, ["bob"], "not herself, not the system, not Carol");
    let found = alice
        .call("search_contacts", &[("query", "BOB-n")])
        .await
        .unwrap();
    assert_eq!(found[0]["id"], bob.id);
    server.stop().await;
}
